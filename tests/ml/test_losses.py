"""Every loss against values worked out by hand on 2-3 pixels, with and without ignore."""

import math

import keras
import numpy as np
import pytest

from segstudio.ml import losses as L

S = 1e-5
# one image, 1x3 pixels, 2 classes. Third pixel is 'void' (255) in the ignore case.
P = np.array([[[[0.8, 0.2], [0.4, 0.6], [0.5, 0.5]]]], dtype="float32")
Y_IGN = np.array([[[0, 1, 255]]], dtype="uint8")
P2 = np.array([[[[0.8, 0.2], [0.4, 0.6], [0.3, 0.7]]]], dtype="float32")
Y_ALL = np.array([[[0, 1, 1]]], dtype="uint8")
W = [1.0, 3.0]
nl = lambda p: -math.log(p)  # noqa: E731


def val(loss, y, p, **kw):
    return float(loss(y, p, **kw))


def test_wce_hand_values():
    with_ign = (1 * nl(0.8) + 3 * nl(0.6)) / (1 + 3)
    assert val(L.WeightedCrossEntropy(W, ignore_index=255), Y_IGN, P) == pytest.approx(with_ign, 1e-5)
    no_ign = (1 * nl(0.8) + 3 * nl(0.6) + 3 * nl(0.7)) / 7
    assert val(L.WeightedCrossEntropy(W), Y_ALL, P2) == pytest.approx(no_ign, 1e-5)
    plain = (nl(0.8) + nl(0.6) + nl(0.7)) / 3
    assert val(L.WeightedCrossEntropy(), Y_ALL, P2) == pytest.approx(plain, 1e-5)
    # the ignored pixel really counts nowhere: changing its prediction changes nothing
    P_alt = P.copy()
    P_alt[0, 0, 2] = [0.01, 0.99]
    assert val(L.WeightedCrossEntropy(W, 255), Y_IGN, P_alt) == pytest.approx(with_ign, 1e-5)


def test_wce_scale_invariant_in_weights():
    a = val(L.WeightedCrossEntropy(W), Y_ALL, P2)
    b = val(L.WeightedCrossEntropy([10 * w for w in W]), Y_ALL, P2)
    assert a == pytest.approx(b, 1e-5)


def test_focal_hand_values():
    with_ign = (1 * 0.2**2 * nl(0.8) + 3 * 0.4**2 * nl(0.6)) / 4
    assert val(L.FocalLoss(2.0, W, 255), Y_IGN, P) == pytest.approx(with_ign, 1e-5)
    no_ign = (0.2**2 * nl(0.8) + 3 * 0.4**2 * nl(0.6) + 3 * 0.3**2 * nl(0.7)) / 7
    assert val(L.FocalLoss(2.0, W), Y_ALL, P2) == pytest.approx(no_ign, 1e-5)
    assert val(L.FocalLoss(0.0, W), Y_ALL, P2) == pytest.approx(val(L.WeightedCrossEntropy(W), Y_ALL, P2), 1e-6)


def test_dice_hand_values():
    d0 = (2 * 0.8 + S) / (1.2 + 1 + S)
    d1 = (2 * 0.6 + S) / (0.8 + 1 + S)
    assert val(L.DiceLoss(ignore_index=255), Y_IGN, P) == pytest.approx(1 - (d0 + d1) / 2, 1e-5)
    # all pixels: class0 tp .8 p 1.5 g 1; class1 tp 1.3 p 1.5 g 2
    d0 = (1.6 + S) / (1.5 + 1 + S)
    d1 = (2.6 + S) / (1.5 + 2 + S)
    assert val(L.DiceLoss(), Y_ALL, P2) == pytest.approx(1 - (d0 + d1) / 2, 1e-5)


def test_generalized_dice_hand_values():
    # both classes have 1 pixel: w = 1, 1
    expect = 1 - (2 * (0.8 + 0.6) + S) / ((1.2 + 1) + (0.8 + 1) + S)
    assert val(L.GeneralizedDiceLoss(ignore_index=255), Y_IGN, P) == pytest.approx(expect, 1e-5)
    # all pixels: w0 = 1/1, w1 = 1/4
    num = 2 * (1 * 0.8 + 0.25 * 1.3) + S
    den = 1 * (1.5 + 1) + 0.25 * (1.5 + 2) + S
    assert val(L.GeneralizedDiceLoss(), Y_ALL, P2) == pytest.approx(1 - num / den, 1e-5)


def test_generalized_dice_absent_class_takes_largest_weight():
    p3 = np.array([[[[0.7, 0.2, 0.1], [0.2, 0.5, 0.3], [0.1, 0.6, 0.3]]]], dtype="float32")
    y = np.array([[[0, 1, 1]]])
    w0, w1 = 1.0, 0.25
    w2 = max(w0, w1)  # class 2 absent from the batch
    tp = [0.7, 1.1, 0.0]
    p = [1.0, 1.3, 0.7]
    g = [1, 2, 0]
    num = 2 * (w0 * tp[0] + w1 * tp[1] + w2 * tp[2]) + S
    den = w0 * (p[0] + g[0]) + w1 * (p[1] + g[1]) + w2 * (p[2] + g[2]) + S
    assert val(L.GeneralizedDiceLoss(), y, p3) == pytest.approx(1 - num / den, 1e-5)


def test_tversky_hand_values():
    a, b = 0.3, 0.7
    t0 = (0.8 + S) / (0.8 + a * 0.4 + b * 0.2 + S)
    t1 = (0.6 + S) / (0.6 + a * 0.2 + b * 0.4 + S)
    assert val(L.TverskyLoss(a, b, ignore_index=255), Y_IGN, P) == pytest.approx(1 - (t0 + t1) / 2, 1e-5)
    # alpha=beta=0.5 is Dice
    assert val(L.TverskyLoss(), Y_ALL, P2) == pytest.approx(val(L.DiceLoss(), Y_ALL, P2), 1e-5)


def test_targets_with_channel_axis_and_sample_weight():
    for loss in [L.WeightedCrossEntropy(W, 255), L.DiceLoss(ignore_index=255), L.get("focal+gdice", W, 255)]:
        assert val(loss, Y_IGN[..., None], P) == pytest.approx(val(loss, Y_IGN, P), 1e-6)
    # a per-pixel weight map of 0 on a pixel is the same as ignoring it
    sw = np.array([[[1.0, 1.0, 0.0]]], dtype="float32")
    assert val(L.WeightedCrossEntropy(W), Y_ALL, P2, sample_weight=sw) == pytest.approx(
        (1 * nl(0.8) + 3 * nl(0.6)) / 4, 1e-5
    )


def test_get_builds_sums():
    combo = L.get("wce+dice", class_weights=W, ignore_index=255)
    expect = val(L.WeightedCrossEntropy(W, 255), Y_IGN, P) + val(L.DiceLoss(ignore_index=255), Y_IGN, P)
    assert val(combo, Y_IGN, P) == pytest.approx(expect, 1e-5)
    assert isinstance(L.get("ce"), L.WeightedCrossEntropy) and L.get("ce").class_weights is None
    with pytest.raises(ValueError, match="unknown loss"):
        L.get("wce+bogus")


@pytest.mark.parametrize("spec", ["wce", "focal", "dice", "gdice", "tversky", "wce+dice"])
def test_config_round_trip(spec):
    loss = L.get(spec, class_weights=W, ignore_index=255, alpha=0.3, beta=0.7)
    blob = keras.saving.serialize_keras_object(loss)
    back = keras.saving.deserialize_keras_object(blob)
    assert type(back) is type(loss)
    assert back.get_config() == loss.get_config()
    assert val(back, Y_IGN, P) == pytest.approx(val(loss, Y_IGN, P), 1e-6)


def test_gradients_are_finite_at_saturated_probabilities():
    import tensorflow as tf

    p = tf.constant(np.array([[[[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]]]], dtype="float32"))
    for spec in ["wce", "focal", "dice", "gdice", "tversky"]:
        with tf.GradientTape() as tape:
            tape.watch(p)
            v = L.get(spec, W, 255)(Y_ALL, p)
        g = tape.gradient(v, p)
        assert np.isfinite(float(v)) and np.all(np.isfinite(g.numpy())), spec
