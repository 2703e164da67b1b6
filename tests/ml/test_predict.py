"""Tiled inference equals whole-image inference away from the borders."""

import numpy as np
import pytest

from segstudio.ml.predict import default_margin, predict_image, predict_tiled, predict_whole
from segstudio.ml.unet import build_unet


@pytest.fixture(scope="module")
def model():
    import keras

    keras.utils.set_random_seed(1)
    return build_unet(4, channels=1, depth=2, filters=4, batch_norm=False, mean=[100.0], variance=[900.0])


@pytest.fixture(scope="module")
def image():
    return np.random.default_rng(0).integers(0, 255, (160, 144)).astype(np.uint8)


def test_tiled_equals_whole_image_away_from_borders(model, image):
    m = default_margin(model)
    whole = predict_whole(model, image)
    for tile in (96, 128):
        tiled = predict_tiled(model, image, tile=tile, keep_probs=True, batch=3)
        inner = (slice(m, -m), slice(m, -m))
        assert np.allclose(tiled.probs[inner], whole[inner], atol=1e-5)
        assert np.array_equal(tiled.classes[inner], whole.argmax(-1)[inner])
        assert np.allclose(tiled.confidence, tiled.probs.max(-1))
        assert tiled.classes.shape == image.shape and tiled.classes.dtype == np.uint8


def test_too_small_a_margin_is_not_exact(model, image):
    # the check above can fail: with 4 px of context the tiles differ from the whole image
    whole = predict_whole(model, image)
    tiled = predict_tiled(model, image, tile=32, margin=4, keep_probs=True)
    m = default_margin(model)
    assert not np.allclose(tiled.probs[m:-m, m:-m], whole[m:-m, m:-m], atol=1e-5)


def test_odd_sizes_and_small_images(model):
    im = np.random.default_rng(1).integers(0, 255, (37, 53)).astype(np.uint8)
    p = predict_tiled(model, im, tile=64)
    assert p.classes.shape == (37, 53) and p.confidence.shape == (37, 53)
    q = predict_image(model, im)
    assert q.classes.shape == (37, 53) and np.all((q.confidence > 0) & (q.confidence <= 1))


@pytest.mark.parametrize("tta", [4, 8])
def test_test_time_augmentation_is_equivariant_to_its_own_flips(model, image, tta):
    # averaging over a group of views: predicting a mirrored (or turned) image gives the
    # mirrored (turned) prediction; a view undone the wrong way round breaks this
    p = predict_image(model, image, tta=tta)
    mirrored = predict_image(model, image[:, ::-1], tta=tta)
    assert np.allclose(mirrored.probs, p.probs[:, ::-1], atol=1e-5)
    if tta == 8:
        turned = predict_image(model, np.rot90(image), tta=8)
        assert np.allclose(turned.probs, np.rot90(p.probs), atol=1e-5)
    plain = predict_image(model, image)
    assert not np.allclose(p.probs, plain.probs, atol=1e-3)  # the views do differ
    assert np.allclose(p.probs.sum(-1), 1, atol=1e-4) and np.array_equal(p.classes, p.probs.argmax(-1))


def test_test_time_augmentation_of_tiled_images(model, image):
    m = default_margin(model)
    inner = (slice(m, -m), slice(m, -m))
    whole = predict_image(model, image, tile=512, tta=4)
    tiled = predict_image(model, image, tile=16, tta=4)  # 4 x margin: several tiles
    assert np.allclose(tiled.probs[inner], whole.probs[inner], atol=1e-5)
    with pytest.raises(ValueError, match="tta"):
        predict_image(model, image, tta=3)
