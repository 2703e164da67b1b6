"""Tiled inference: any image size in bounded memory, identical to whole-image inference.

Each tile is the output window plus a margin of context on every side; only the
window is kept. With the margin at least the network's receptive radius and tile
origins on the 2**depth pooling grid, every kept pixel sees exactly the inputs it
would see in one whole-image pass, so the class map equals whole-image inference
everywhere except within one margin of the image border (where padding differs).
"""

from __future__ import annotations

import math
import warnings
import weakref
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from segstudio.ml import losses as _losses  # noqa: F401  (registers the losses for load_model)
from segstudio.ml.data import as_model_input
from segstudio.ml.tta import TTA_VIEWS, unview, view
from segstudio.ml.unet import model_depth, receptive_radius


@dataclass
class Prediction:
    classes: np.ndarray  # (H,W) uint8 (uint16 above 256 classes)
    confidence: np.ndarray  # (H,W) float32: max softmax probability
    probs: np.ndarray | None = None  # (H,W,C) float32, only when asked for


def load_model(path: str | Path, compile: bool = False) -> keras.Model:
    return keras.saving.load_model(str(path), compile=compile)


def model_channels(model: keras.Model) -> int:
    return int(model.input_shape[-1])


def default_margin(model: keras.Model) -> int:
    m = 2 ** model_depth(model)
    return int(math.ceil(receptive_radius(model_depth(model)) / m) * m)


_FORWARD: dict[int, object] = {}


def _forward(model):
    """``model(x, training=False)`` as a tf.function, one per model (TensorFlow backend).

    An eager call holds the GIL inside every op, so a prediction or a validation pass in a
    worker thread froze the GUI thread for up to ~0.7 s at a time; a graph call releases it
    while it runs (and is several times faster on CPU). ``reduce_retracing`` keeps one
    shape-generic trace for the varying tile/image sizes.
    """
    if keras.backend.backend() != "tensorflow":
        return lambda x: model(x, training=False)
    fn = _FORWARD.get(id(model))
    if fn is None:
        import tensorflow as tf

        ref = weakref.ref(model)
        fn = tf.function(lambda x: ref()(x, training=False), reduce_retracing=True)
        _FORWARD[id(model)] = fn
        weakref.finalize(model, _FORWARD.pop, id(model), None)
    return fn


def _run(model, batch: np.ndarray) -> np.ndarray:
    with warnings.catch_warnings():
        # a reloaded functional model expects its inputs as a list; a bare array is fine
        warnings.filterwarnings("ignore", message="The structure of `inputs`")
        return np.asarray(_forward(model)(batch), dtype=np.float32)


def _pad(a: np.ndarray, top: int, bottom: int, left: int, right: int) -> np.ndarray:
    mode = "reflect" if min(a.shape[:2]) > 1 else "edge"
    return np.pad(a, ((top, bottom), (left, right), (0, 0)), mode=mode)


def predict_whole(model: keras.Model, image: np.ndarray) -> np.ndarray:
    """(H,W,C) probabilities from one pass, padding bottom/right to the pooling multiple."""
    x = as_model_input(image, model_channels(model))
    h, w = x.shape[:2]
    m = 2 ** model_depth(model)
    x = _pad(x, 0, -h % m, 0, -w % m)
    return _run(model, x[None])[0, :h, :w]


def predict_tiled(
    model: keras.Model,
    image: np.ndarray,
    tile: int = 512,
    margin: int | None = None,
    batch: int = 4,
    keep_probs: bool = False,
) -> Prediction:
    """Class map and confidence of an image of any size, ``tile`` x ``tile`` inputs at a time.

    Args:
        tile: input tile side (rounded up to the pooling multiple; at least 2*margin + multiple).
        margin: context kept around each window; default the receptive radius.
        batch: tiles per forward pass.
        keep_probs: also return (H,W,C) probabilities (memory H*W*C*4 bytes).
    """
    m = 2 ** model_depth(model)
    margin = default_margin(model) if margin is None else int(math.ceil(margin / m) * m)
    tile = max(int(math.ceil(tile / m) * m), 2 * margin + m)
    stride = tile - 2 * margin
    raw = np.asarray(image)
    if raw.ndim == 2:
        raw = raw[..., None]
    h, w = raw.shape[:2]
    ny, nx = math.ceil(h / stride), math.ceil(w / stride)
    # pad raw pixels (not float copies) so a 4096x4096 uint8 image costs ~17 MB here
    padded = _pad(raw, margin, ny * stride + margin - h, margin, nx * stride + margin - w)
    channels = model_channels(model)
    num_classes = int(model.output_shape[-1])
    cls_dtype = np.uint8 if num_classes <= 256 else np.uint16
    classes = np.zeros((h, w), cls_dtype)
    conf = np.zeros((h, w), np.float32)
    probs = np.zeros((h, w, num_classes), np.float32) if keep_probs else None
    origins = [(iy * stride, ix * stride) for iy in range(ny) for ix in range(nx)]
    for start in range(0, len(origins), batch):
        group = origins[start : start + batch]
        x = np.stack([as_model_input(padded[y : y + tile, x0 : x0 + tile], channels) for y, x0 in group])
        out = _run(model, x)
        for (y, x0), p in zip(group, out, strict=True):
            win = p[margin : margin + stride, margin : margin + stride]
            hh, ww = min(stride, h - y), min(stride, w - x0)
            win = win[:hh, :ww]
            classes[y : y + hh, x0 : x0 + ww] = win.argmax(-1)
            conf[y : y + hh, x0 : x0 + ww] = win.max(-1)
            if probs is not None:
                probs[y : y + hh, x0 : x0 + ww] = win
    return Prediction(classes, conf, probs)


def _probs(model: keras.Model, image: np.ndarray, tile: int, batch: int) -> np.ndarray:
    h, w = np.shape(image)[:2]
    if h * w <= tile * tile:
        return predict_whole(model, image)
    return predict_tiled(model, image, tile=tile, batch=batch, keep_probs=True).probs


def predict_image(model: keras.Model, image: np.ndarray, tile: int = 512, batch: int = 4,
                  tta: int = 1) -> Prediction:
    """Whole-image pass when the image fits in one tile, tiled otherwise.

    Tiles are at least 4x the model's context margin: a deep U-Net's margin (256 px at
    depth 5) would otherwise leave a stride of a few pixels and hundreds of tiles per image.
    ``tta``: average the probabilities of 1, 4 or 8 flipped/rotated views (that many passes).
    """
    if tta not in TTA_VIEWS:
        raise ValueError(f"tta must be one of {sorted(TTA_VIEWS)}, not {tta}")
    h, w = np.shape(image)[:2]
    tile = max(tile, 4 * default_margin(model))
    if tta == 1 and h * w > tile * tile:
        return predict_tiled(model, image, tile=tile, batch=batch)
    raw = np.asarray(image)
    p = None
    for turns, mirror in TTA_VIEWS[tta]:
        q = unview(_probs(model, view(raw, turns, mirror), tile, batch), turns, mirror)
        p = q if p is None else p + q
    p = np.ascontiguousarray(p / len(TTA_VIEWS[tta]), dtype=np.float32)
    return Prediction(p.argmax(-1).astype(np.uint8 if p.shape[-1] <= 256 else np.uint16), p.max(-1), p)
