"""Repeat-factor image sampling and rare-class crop centring (numpy only, no TensorFlow)."""

import math

import numpy as np
import pytest

from segstudio.ml.sampling import (
    ClassPixels,
    CropSampler,
    augment,
    crop_origin,
    make_sample,
    repeat_factors,
)

# 4 images x 3 classes: class 1 in 2 images, class 2 in 1 image
COUNTS = np.array([[100, 5, 0], [100, 0, 0], [100, 7, 3], [100, 0, 0]])


def test_repeat_factors_by_hand():
    # f = [1, 0.5, 0.25]; t = 1: r_c = [1, sqrt(2), 2]; image factor = max over its classes
    r = repeat_factors(COUNTS, threshold=1.0)
    assert r == pytest.approx([math.sqrt(2), 1, 2, 1])
    # a threshold below every f_c repeats nothing
    assert repeat_factors(COUNTS, threshold=0.1) == pytest.approx([1, 1, 1, 1])


def test_sampler_favours_rare_classes_and_images():
    s = CropSampler(COUNTS, rare_fraction=0.5, repeat_threshold=1.0, class_power=1.0)
    p = s.class_draw_probabilities()
    assert p[0] == 0 and p[2] > p[1] > 0 and p.sum() == pytest.approx(0.5)
    rng = np.random.default_rng(0)
    draws = [s.draw(rng) for _ in range(4000)]
    centred = [c for _, c in draws if c >= 0]
    assert abs(len(centred) / 4000 - 0.5) < 0.03
    assert centred.count(2) > centred.count(1)  # f^-1: class 2 twice as often as class 1
    # a centred draw always comes from an image that contains the class
    assert all(COUNTS[i, c] > 0 for i, c in draws if c >= 0)
    # uncentred image draws follow the repeat factors: image 2 (factor 2) twice image 1 (factor 1)
    imgs = np.bincount([i for i, c in draws if c < 0], minlength=4)
    assert 1.6 < imgs[2] / imgs[1] < 2.5


def test_centred_crop_contains_the_class():
    labels = np.zeros((100, 100), np.uint8)
    labels[90, 5] = 7
    rng = np.random.default_rng(1)
    for _ in range(50):
        y0, x0 = crop_origin(labels, 32, rng, centre_class=7)
        assert 0 <= y0 <= 68 and 0 <= x0 <= 68
        assert labels[y0 : y0 + 32, x0 : x0 + 32].max() == 7


def test_augment_moves_image_and_labels_together():
    rng = np.random.default_rng(3)
    image = np.arange(64, dtype=np.float32).reshape(8, 8, 1)
    labels = np.arange(64).reshape(8, 8)
    for _ in range(20):
        im, lab = augment(image, labels, rng)
        assert np.array_equal(im[..., 0], lab.astype(np.float32))


def test_make_sample_is_a_pure_function_of_seed_and_index():
    rng = np.random.default_rng(0)
    data = [(rng.integers(0, 255, (40, 50)).astype(np.uint8), rng.integers(0, 3, (40, 50)).astype(np.uint8))
            for _ in range(4)]
    counts = np.stack([np.bincount(lab.ravel(), minlength=3) for _, lab in data])
    s = CropSampler(counts)
    a = make_sample(data.__getitem__, s, 5, 42, 32, 255)
    b = make_sample(data.__getitem__, s, 5, 42, 32, 255)
    c = make_sample(data.__getitem__, s, 6, 42, 32, 255)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])
    assert a[0].shape == (32, 32, 1) and a[0].dtype == np.float32 and a[1].shape == (32, 32)


def test_small_images_are_padded_with_ignore():
    data = [(np.full((10, 12), 9, np.uint8), np.ones((10, 12), np.uint8))]
    s = CropSampler(np.array([[0, 120]]))
    im, lab = make_sample(data.__getitem__, s, 0, 0, 16, 255, augment_spec="none")
    assert im.shape == (16, 16, 1)
    assert (lab == 255).sum() == 16 * 16 - 120 and (lab == 1).sum() == 120


def test_class_pixels_are_the_scan_in_the_scan_order():
    rng = np.random.default_rng(4)
    labels = rng.choice([0, 0, 0, 2, 5, 255], size=(37, 53)).astype(np.uint8)
    index = ClassPixels(background=0)
    for c in (2, 5, 255, 3, 9, 0):
        assert np.array_equal(index.positions(0, labels, c), np.flatnonzero(labels.ravel() == c)), c
    assert len(index.cache) == 1  # one index per image, built once


def test_a_re_read_mask_is_indexed_again_and_the_budget_evicts():
    labels = np.zeros((20, 20), np.uint8)
    labels[3, 4] = 1
    index = ClassPixels()
    assert index.positions(0, labels, 1).tolist() == [3 * 20 + 4]
    edited = labels.copy()  # the loader read the mask again after an edit
    edited[3, 4], edited[10, 11] = 0, 1
    assert index.positions(0, edited, 1).tolist() == [10 * 20 + 11]
    small = ClassPixels(budget_bytes=8)  # room for two int32 positions
    a, b = np.ones((1, 2), np.uint8), np.ones((1, 2), np.uint8)
    small.positions(0, a, 1), small.positions(1, b, 1)
    assert list(small.cache) == [1] and small.used == 8


def test_indexed_crops_are_the_crops_a_scan_would_draw():
    rng = np.random.default_rng(5)
    data = []
    for _ in range(3):
        lab = np.zeros((70, 90), np.uint8)
        lab[rng.integers(0, 70, 6), rng.integers(0, 90, 6)] = rng.integers(1, 4, 6)
        data.append((rng.integers(0, 255, (70, 90)).astype(np.uint8), lab))
    counts = np.stack([np.bincount(lab.ravel(), minlength=4) for _, lab in data])
    sampler = CropSampler(counts, rare_fraction=1.0)
    for k in range(40):
        got = make_sample(data.__getitem__, sampler, k, 7, 32, 255)
        r = np.random.default_rng([7, k])  # replay sample k's draws, with a scan for the pixel
        i, c = sampler.draw(r)
        assert c > 0
        y0, x0 = crop_origin(data[i][1], 32, r, c)
        assert np.array_equal(got[1], augment(data[i][0][y0:y0 + 32, x0:x0 + 32, None],
                                              data[i][1][y0:y0 + 32, x0:x0 + 32], r)[1])
        assert (got[1] == c).any()
    # a mask narrower than the crop is padded after indexing: positions keep the mask's width
    narrow = np.zeros((100, 12), np.uint8)
    narrow[80, 5] = 1
    s2 = CropSampler(np.array([[1199, 1]]), rare_fraction=1.0)
    for k in range(10):
        assert (make_sample([(narrow, narrow)].__getitem__, s2, k, 0, 32, 255)[1] == 1).sum() == 1


def test_the_sampling_benchmark_runs_and_prints_both_ways(capsys):
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_sampling.py"
    spec = importlib.util.spec_from_file_location("bench_sampling", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    assert bench.main(["--sides", "96", "--images", "2", "--batches", "2", "--rounds", "1", "--crop", "32"]) == 0
    line = capsys.readouterr().out.splitlines()[-1]
    assert line.startswith("generated 96x96") and "scan" in line and "index" in line and "x   (index built" in line
