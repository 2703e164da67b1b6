"""The U-Net's shape contract and presets; the tf.data pipeline's determinism and sparse labels."""

import numpy as np
import pytest

from segstudio.ml.unet import PRESETS, build_unet


def test_unet_any_size_divisible_by_2_pow_depth():
    m = build_unet(5, channels=3, depth=2, filters=4)
    for h, w in [(16, 16), (32, 48), (8, 24)]:
        out = np.asarray(m(np.zeros((1, h, w, 3), np.float32)))
        assert out.shape == (1, h, w, 5)
        assert np.allclose(out.sum(-1), 1, atol=1e-5)


def test_normalization_is_inside_the_model():
    # a model fitted on data with mean 1000 must give the same output as one with
    # mean 0 fed shifted data: the stats are weights of the model, not preprocessing
    a = build_unet(3, depth=1, filters=2, batch_norm=False, mean=[1000.0], variance=[25.0])
    b = build_unet(3, depth=1, filters=2, batch_norm=False, mean=[0.0], variance=[25.0])
    wa = [w for layer in a.layers if layer.name != "normalize" for w in layer.get_weights()]
    for layer_b, layer_a in zip(b.layers, a.layers, strict=True):
        if layer_b.name != "normalize":
            layer_b.set_weights(layer_a.get_weights())
    assert len(wa) > 0
    x = np.random.default_rng(0).normal(0, 5, (1, 8, 8, 1)).astype(np.float32)
    assert np.allclose(np.asarray(a(x + 1000)), np.asarray(b(x)), atol=1e-5)


def test_seed_preset_is_the_classic_unet():
    m = build_unet(32, **PRESETS["seed"])
    convs = [layer for layer in m.layers if layer.__class__.__name__ == "Conv2D"]
    assert convs[0].filters == 64
    assert max(c.filters for c in convs) == 1024
    drop = [layer for layer in m.layers if layer.__class__.__name__ == "SpatialDropout2D"]
    assert len(drop) == 1 and drop[0].rate == 0.5
    assert not any(layer.__class__.__name__ == "BatchNormalization" for layer in m.layers)


def test_pipeline_is_deterministic_and_sparse():
    from segstudio.ml.data import training_dataset
    from segstudio.ml.sampling import CropSampler

    rng = np.random.default_rng(0)
    data = [(rng.integers(0, 255, (48, 48)).astype(np.uint8), rng.integers(0, 3, (48, 48)).astype(np.uint8))
            for _ in range(5)]
    counts = np.stack([np.bincount(lab.ravel(), minlength=3) for _, lab in data])

    def batches(seed, start=0):
        ds = training_dataset(data.__getitem__, CropSampler(counts), crop=32, batch=4, channels=1,
                              num_classes=3, seed=seed, start=start)
        return [(x.numpy(), y.numpy()) for x, y in ds.take(3)]

    a, b, c = batches(7), batches(7), batches(8)
    for (xa, ya), (xb, yb) in zip(a, b, strict=True):
        assert np.array_equal(xa, xb) and np.array_equal(ya, yb)
    assert not np.array_equal(a[0][0], c[0][0])
    x, y = a[0]
    assert x.shape == (4, 32, 32, 1) and x.dtype == np.float32
    assert y.shape == (4, 32, 32) and y.dtype == np.uint8  # sparse ids, never one-hot
    # resuming at sample 4 continues the same sequence: batch 1 of the original
    r = batches(7, start=4)
    assert np.array_equal(r[0][0], a[1][0])


def test_channels_are_matched():
    from segstudio.ml.data import as_model_input

    rgb = np.zeros((4, 4, 3), np.uint8)
    rgb[..., 0] = 100
    assert as_model_input(rgb, 1).shape == (4, 4, 1)
    assert as_model_input(rgb, 1)[0, 0, 0] == pytest.approx(29.9)
    assert as_model_input(np.ones((4, 4), np.uint16), 3).shape == (4, 4, 3)


def test_prior_bias_is_the_log_of_each_class_share_of_the_loss():
    import math

    from segstudio.ml.unet import prior_bias

    b = prior_bias([90, 10])
    assert b[0] - b[1] == pytest.approx(math.log(9))
    assert sum(b) == pytest.approx(0)
    assert prior_bias([90, 10], [1, 9]) == pytest.approx([0, 0])  # weights equalise the shares
    m = build_unet(2, depth=1, filters=2, output_bias=prior_bias([90, 10]))
    assert np.allclose(m.get_layer("logits").get_weights()[1], b)
