"""tf.data pipeline streaming (raw image crop, sparse integer mask crop) batches.

Decoding goes through a loader callable supplied by the services layer (so every
mask format the io layer reads works here); cropping, rare-class centring and
augmentation are ``sampling.make_sample``. Labels stay sparse integers
(uint8 for up to 255 classes) all the way into the loss -- never one-hot:
a 16x256x256 batch of uint8 labels is 1 MiB, the same batch one-hot float32
over 32 classes is 128 MiB.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import tensorflow as tf

from segstudio.ml.config import DEFAULT_AUGMENT, augment_parts
from segstudio.ml.sampling import CropSampler, Loader, make_sample


def label_dtype(num_classes: int) -> np.dtype:
    """The smallest unsigned type holding every class id and the ignore index."""
    return np.dtype(np.uint8) if num_classes <= 255 else np.dtype(np.uint16)


def default_ignore_index(num_classes: int) -> int:
    return int(np.iinfo(label_dtype(num_classes)).max)


def training_dataset(
    load: Loader,
    sampler: CropSampler,
    *,
    crop: int,
    batch: int,
    channels: int,
    num_classes: int,
    seed: int = 0,
    ignore_index: int | None = None,
    start: int = 0,
    augment: str = DEFAULT_AUGMENT,
    parallel: int | None = None,
    load_weights: Callable[[int], np.ndarray | None] | None = None,
) -> tf.data.Dataset:
    """Infinite, deterministic dataset of ((B,S,S,ch) float32, (B,S,S) uint8/uint16) batches.

    Sample k is a pure function of (seed, k); ``start`` skips the first samples, so a
    resumed run continues the same sequence. With ``load_weights`` (image index -> (H,W)
    per-pixel weights, or None for all ones) batches are (image, labels, (B,S,S) float32
    weights), cropped, zoomed and flipped with the image (never intensity-changed); the losses take them as
    ``sample_weight`` (how corrected pixels are weighted up).
    """
    augment_parts(augment)  # an unknown name fails here, not in the first batch
    ign = default_ignore_index(num_classes) if ignore_index is None else ignore_index
    ldt = label_dtype(num_classes)

    def with_weights(i):  # weights ride along as one extra image channel through crop/augment
        image, labels = load(i)
        w = load_weights(i)
        if image.ndim == 2:
            image = image[..., None]
        w = np.ones(labels.shape, np.float32) if w is None else np.asarray(w, np.float32)
        return np.concatenate([image.astype(np.float32, copy=False), w[..., None]], axis=-1), labels

    def one(k):
        if load_weights is None:
            image, labels = make_sample(load, sampler, int(k), seed, crop, ign, augment)
        else:
            stacked, labels = make_sample(with_weights, sampler, int(k), seed, crop, ign, augment, 1)
            image, weights = stacked[..., :-1], np.ascontiguousarray(stacked[..., -1])
        if image.shape[-1] != channels:
            image = _match_channels(image, channels)
        if load_weights is None:
            return image, labels.astype(ldt, copy=False)
        return np.ascontiguousarray(image, np.float32), labels.astype(ldt, copy=False), weights

    def many(ks):  # one Python call per batch: per-sample calls cost ~14% of a step with small crops
        samples = [one(k) for k in ks]
        return tuple(np.stack(parts) for parts in zip(*samples, strict=True))

    def fn(ks):
        types = [tf.float32, tf.as_dtype(ldt)] + ([tf.float32] if load_weights is not None else [])
        out = tf.numpy_function(many, [ks], types, stateful=False)
        out[0].set_shape((batch, crop, crop, channels))
        for extra in out[1:]:
            extra.set_shape((batch, crop, crop))
        return tuple(out)

    ds = tf.data.Dataset.range(int(start), np.iinfo(np.int64).max)
    ds = ds.batch(batch, drop_remainder=True)  # the same samples per batch as mapping one by one
    ds = ds.map(fn, num_parallel_calls=parallel or tf.data.AUTOTUNE, deterministic=True)
    options = tf.data.Options()
    options.deterministic = True
    # each worker draws its own sample indices: no need to shard files
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return ds.with_options(options).prefetch(tf.data.AUTOTUNE)


def _match_channels(image: np.ndarray, channels: int) -> np.ndarray:
    """Gray -> RGB by repetition, RGB -> gray by luminance (BT.601)."""
    if image.shape[-1] == 1 and channels == 3:
        return np.repeat(image, 3, axis=-1)
    if image.shape[-1] >= 3 and channels == 1:
        rgb = image[..., :3].astype(np.float32)
        return (rgb @ np.array([0.299, 0.587, 0.114], np.float32))[..., None]
    raise ValueError(f"cannot turn {image.shape[-1]} channels into {channels}")


def as_model_input(image: np.ndarray, channels: int) -> np.ndarray:
    """(H,W) or (H,W,c) raw array -> (H,W,channels) float32."""
    a = np.asarray(image)
    if a.ndim == 2:
        a = a[..., None]
    if a.shape[-1] == 4:  # drop alpha
        a = a[..., :3]
    a = a.astype(np.float32, copy=False)
    return a if a.shape[-1] == channels else _match_channels(a, channels)
