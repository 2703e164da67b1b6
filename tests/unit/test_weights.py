import math

import numpy as np
import pytest

from segstudio.core.weights import SCHEMES, class_weights, loss_share

N = np.array([900.0, 90.0, 10.0, 0.0])  # class 3 absent
M = np.array([10.0, 6.0, 2.0, 0.0])  # images containing each class
P = np.array([1000.0, 600.0, 200.0, 0.0])  # pixels of the images containing each class


def test_every_scheme_gives_absent_classes_zero_weight():
    for scheme in set(SCHEMES) - {"none"}:  # 'none' is documented as all 1
        w = class_weights(N, scheme, image_counts=M, pixels_of_images_with_class=P)
        assert w[3] == 0.0, scheme
        assert np.all(np.isfinite(w))


def test_balanced_hand_computed():
    w = class_weights(N, "balanced")
    assert w[:3].tolist() == pytest.approx([1000 / (3 * 900), 1000 / (3 * 90), 1000 / (3 * 10)])
    assert (w * N).sum() / N.sum() == pytest.approx(1.0)  # expected pixel weight is 1


def test_sqrt_hand_computed():
    raw = np.array([1 / math.sqrt(0.9), 1 / math.sqrt(0.09), 1 / math.sqrt(0.01)])
    mean = (raw * N[:3]).sum() / 1000
    w = class_weights(N, "sqrt")
    assert w[:3].tolist() == pytest.approx((raw / mean).tolist())
    assert (w * N).sum() / N.sum() == pytest.approx(1.0)


def test_median_frequency_hand_computed():
    freq = np.array([900 / 1000, 90 / 600, 10 / 200])  # 0.9, 0.15, 0.05
    w = class_weights(N, "median", pixels_of_images_with_class=P)
    assert w[:3].tolist() == pytest.approx((0.15 / freq).tolist())


def test_enet_hand_computed():
    w = class_weights(N, "enet")
    expect = [1 / math.log(1.02 + f) for f in (0.9, 0.09, 0.01)]
    assert w[:3].tolist() == pytest.approx(expect)


def test_effective_number_hand_computed():
    beta = 0.999
    raw = np.array([(1 - beta) / (1 - beta**m) for m in (10, 6, 2)])
    mean = (raw * N[:3]).sum() / 1000
    w = class_weights(N, "effective", image_counts=M, beta=beta)
    assert w[:3].tolist() == pytest.approx((raw / mean).tolist())


def test_none_is_all_ones_except_ignored():
    assert class_weights(N, "none").tolist() == [1, 1, 1, 1]
    assert class_weights(N, "none", ignore_ids=[2]).tolist() == [1, 1, 0, 1]


def test_clip_caps_ratio_to_smallest_nonzero():
    counts = np.array([990_000.0, 9_000, 900, 100])
    w = class_weights(counts, "balanced", clip=10)
    nz = w[w > 0]
    assert nz.max() / nz.min() == pytest.approx(10)
    unclipped = class_weights(counts, "balanced")
    assert unclipped.max() / unclipped.min() == pytest.approx(9900)
    with pytest.raises(ValueError):
        class_weights(counts, "balanced", clip=0.5)


def test_unknown_scheme_and_missing_inputs():
    with pytest.raises(ValueError, match="unknown weight scheme"):
        class_weights(N, "magic")
    with pytest.raises(ValueError, match="median"):
        class_weights(N, "median")
    with pytest.raises(ValueError, match="effective"):
        class_weights(N, "effective")


def test_loss_share_sums_to_one_and_balanced_equalizes():
    w = class_weights(N, "balanced")
    share = loss_share(w, N)
    assert share.sum() == pytest.approx(1.0)
    assert share[:3].tolist() == pytest.approx([1 / 3] * 3)
