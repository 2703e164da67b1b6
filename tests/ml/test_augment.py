"""Intensity and scale augmentation of training crops (numpy only, no TensorFlow)."""

import numpy as np
import pytest

from segstudio.ml import augment as aug
from segstudio.ml.config import augment_parts
from segstudio.ml.sampling import CropSampler, make_sample


def _data(n=6, h=48, w=56, seed=0):
    rng = np.random.default_rng(seed)
    data = [(rng.integers(20, 230, (h, w)).astype(np.uint8), rng.choice([0, 0, 0, 1, 2], (h, w)).astype(np.uint8))
            for _ in range(n)]
    counts = np.stack([np.bincount(lab.ravel(), minlength=3) for _, lab in data])
    return data, CropSampler(counts)


def test_augment_specs_parse_and_unknown_parts_are_named():
    assert augment_parts("flips+intensity") == {"flips", "intensity"}
    assert augment_parts(" Scale + flips ") == {"scale", "flips"}
    assert augment_parts("none") == frozenset()
    with pytest.raises(ValueError, match="'flips\\+blur'.*flips, intensity, scale"):
        augment_parts("flips+blur")
    with pytest.raises(ValueError):
        augment_parts("")


def test_intensity_changes_pixels_never_labels_and_replays():
    data, sampler = _data()
    changed = 0
    for k in range(60):
        plain = make_sample(data.__getitem__, sampler, k, 3, 32, 255, "flips")
        jittered = make_sample(data.__getitem__, sampler, k, 3, 32, 255, "flips+intensity")
        again = make_sample(data.__getitem__, sampler, k, 3, 32, 255, "flips+intensity")
        # intensity draws after the crop and the flips: the same crop, the same mask
        assert np.array_equal(plain[1], jittered[1])
        assert np.array_equal(jittered[0], again[0])
        changed += not np.allclose(plain[0], jittered[0])
    # P(no transform) = 0.85 * 0.85 * 0.7 * 0.9 = 0.455: about 33 of 60 crops change
    assert 20 <= changed <= 46


def test_contrast_and_gamma_keep_the_crops_range():
    x = np.linspace(10, 200, 64, dtype=np.float32).reshape(8, 8, 1)
    for seed in range(200):
        rng = np.random.default_rng(seed)
        u = rng.random(4)
        y = aug.intensity(x, np.random.default_rng(seed))
        if u[0] >= aug.BRIGHTNESS_P and u[3] >= aug.NOISE_P:  # only range-keeping transforms
            assert y.min() >= 10 - 1e-3 and y.max() <= 200 + 1e-3
            # both are monotone: the order of the pixels is kept
            assert np.all(np.diff(y.ravel()) >= -1e-4)


def test_intensity_leaves_the_weight_channel_alone():
    data, sampler = _data()
    weights = [np.full(lab.shape, 2.5, np.float32) for _, lab in data]

    def with_weights(i):
        return np.concatenate([data[i][0][..., None].astype(np.float32), weights[i][..., None]], -1), data[i][1]

    for k in range(40):
        image, _ = make_sample(with_weights, sampler, k, 1, 32, 255, "flips+intensity+scale", extra_channels=1)
        assert np.allclose(image[..., 1], 2.5)


def test_resize_crop_is_bilinear_for_pixels_and_nearest_for_labels():
    labels = np.zeros((16, 16), np.uint8)
    labels[:, 5] = 2  # one column of class 2
    labels[:, 6] = 1
    image = np.tile(np.arange(16, dtype=np.float32), (16, 1))[..., None]
    img2, lab2 = aug.resize_crop(image, labels, 32)
    assert lab2.shape == (32, 32) and img2.shape == (32, 32, 1)
    # each source column covers two output columns, no class blended into another
    assert set(np.unique(lab2)) == {0, 1, 2}
    assert np.flatnonzero(lab2[0] == 2).tolist() == [10, 11]
    assert np.flatnonzero(lab2[0] == 1).tolist() == [12, 13]
    # a ramp stays a ramp: output column j samples source x = (j + 0.5) / 2 - 0.5
    assert img2[0, 11, 0] == pytest.approx(5.25) and img2[0, 0, 0] == pytest.approx(0.0)
    small_img, small_lab = aug.resize_crop(img2, lab2, 16)
    assert np.array_equal(small_lab, labels)


def test_scale_zooms_some_crops_within_the_image():
    sides = [aug.zoom_window(32, np.random.default_rng(s), 40) for s in range(500)]
    zoomed = [s for s in sides if s != 32]
    assert 60 <= len(zoomed) <= 140  # 20% of 500
    assert min(zoomed) >= round(32 / 1.4) and max(zoomed) <= 40  # zoom out capped at the limit
    data, sampler = _data()
    for k in range(30):
        image, labels = make_sample(data.__getitem__, sampler, k, 5, 32, 255, "scale")
        assert image.shape == (32, 32, 1) and labels.shape == (32, 32)
        assert set(np.unique(labels)) <= {0, 1, 2}  # no padding: the windows fit the 48x56 images
