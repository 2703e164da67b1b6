"""U-Net built from keras.layers only, normalising raw pixel values itself.

The model takes raw pixel values (float32, channels last) of any size divisible
by 2**depth and returns softmax probabilities. A Normalization layer with the
training images' mean/variance baked in is the first layer, so the exported
``.keras`` file needs no segstudio code and no preprocessing contract.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers

#: name -> (filters, depth, batch_norm, dropout).
PRESETS: dict[str, dict] = {
    # the classic 64->1024 U-Net (Ronneberger 2015) as shipped by the seed project
    "seed": {"filters": 64, "depth": 4, "batch_norm": False, "dropout": 0.5},
    # small enough to train on a laptop CPU in minutes
    "small": {"filters": 16, "depth": 4, "batch_norm": True, "dropout": 0.0},
}


def image_stats(images, channels: int) -> tuple[list[float], list[float]]:
    """Per-channel mean and variance over an iterable of (H,W) or (H,W,C) arrays."""
    s = np.zeros(channels)
    s2 = np.zeros(channels)
    n = 0
    for im in images:
        a = np.asarray(im, dtype=np.float64).reshape(-1, channels)
        s += a.sum(0)
        s2 += np.square(a).sum(0)
        n += a.shape[0]
    if n == 0:
        return [0.0] * channels, [1.0] * channels
    mean = s / n
    var = np.maximum(s2 / n - mean**2, 1e-6)
    return mean.tolist(), var.tolist()


# BN's default momentum (0.99) needs ~500 steps before its moving statistics match the
# batches; short CPU runs validate with stale statistics. 0.9 settles in ~50 steps.
BN_MOMENTUM = 0.9


def _block(x, filters: int, batch_norm: bool, name: str):
    for i in (1, 2):
        x = layers.Conv2D(filters, 3, padding="same", use_bias=not batch_norm,
                          kernel_initializer="he_normal", name=f"{name}_conv{i}")(x)
        if batch_norm:
            x = layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"{name}_bn{i}")(x)
        x = layers.Activation("relu", name=f"{name}_relu{i}")(x)
    return x


def build_unet(
    num_classes: int,
    channels: int = 1,
    depth: int = 4,
    filters: int = 16,
    batch_norm: bool = True,
    dropout: float = 0.0,
    mean: list[float] | float | None = None,
    variance: list[float] | float | None = None,
    output_bias: list[float] | None = None,
    name: str = "segstudio_unet",
) -> keras.Model:
    """A U-Net: ``depth`` poolings, ``filters`` doubling per level, softmax over ``num_classes``.

    Args:
        num_classes: C, the size of the softmax.
        channels: 1 (grayscale) or 3 (RGB) raw input channels.
        depth: number of 2x poolings; inputs must be divisible by 2**depth.
        filters: filters of the first level (64 with depth 4 gives 64->1024).
        batch_norm: batch normalization after every convolution.
        dropout: SpatialDropout2D rate at the bottom (0 disables).
        mean, variance: per-channel statistics of the raw training pixels.
        output_bias: initial logit bias per class, e.g. ``prior_bias(...)``. A uniform
            start over 32 classes makes the first few hundred steps learn only
            "mostly background"; starting at the class priors skips that.

    Examples:
        >>> m = build_unet(3, channels=1, depth=2, filters=4)
        >>> m.output_shape
        (None, None, None, 3)
    """
    if channels not in (1, 3):
        raise ValueError("channels must be 1 or 3")
    if depth < 1 or filters < 1 or num_classes < 2:
        raise ValueError("need depth >= 1, filters >= 1 and at least 2 classes")
    inputs = keras.Input((None, None, channels), name="image")
    mean = [0.0] * channels if mean is None else mean
    variance = [1.0] * channels if variance is None else variance
    x = layers.Normalization(mean=mean, variance=variance, name="normalize")(inputs)
    skips = []
    for level in range(depth):
        x = _block(x, filters * 2**level, batch_norm, f"down{level}")
        skips.append(x)
        x = layers.MaxPooling2D(2, name=f"pool{level}")(x)
    x = _block(x, filters * 2**depth, batch_norm, "bottom")
    if dropout > 0:
        x = layers.SpatialDropout2D(dropout, name="bottom_dropout")(x)
    for level in reversed(range(depth)):
        f = filters * 2**level
        x = layers.Conv2DTranspose(f, 2, strides=2, padding="same", name=f"up{level}_upconv")(x)
        x = layers.Concatenate(name=f"up{level}_concat")([skips[level], x])
        x = _block(x, f, batch_norm, f"up{level}")
    bias_init = "zeros" if output_bias is None else keras.initializers.Constant(
        np.asarray(output_bias, dtype="float32"))
    x = layers.Conv2D(num_classes, 1, bias_initializer=bias_init, name="logits")(x)
    # float32 softmax even under mixed precision: the losses take logs of it
    outputs = layers.Activation("softmax", dtype="float32", name="probabilities")(x)
    return keras.Model(inputs, outputs, name=name)


def prior_bias(pixel_counts, class_weights=None, floor: float = 1e-6) -> list[float]:
    """log of each class's share of the (weighted) loss: the logits a loss-optimal
    model would output before it has seen any pixel."""
    n = np.asarray(pixel_counts, dtype=np.float64)
    w = np.ones_like(n) if class_weights is None else np.asarray(class_weights, dtype=np.float64)
    share = np.maximum(n * w, 0)
    share = share / share.sum() if share.sum() > 0 else np.full_like(n, 1 / n.size)
    b = np.log(np.maximum(share, floor))
    return (b - b.mean()).tolist()


def receptive_radius(depth: int) -> int:
    """Pixels of context on each side that can reach one output pixel (upper bound).

    Two 3x3 convolutions per level add 2 * 2**l on each side in encoder and decoder,
    the 2x2 pool and transposed conv 2**l each, the bottom block 2 * 2**depth.
    """
    return 6 * (2**depth - 1) + 2 * 2**depth


def model_depth(model: keras.Model) -> int:
    """Number of poolings of a segstudio U-Net (0 if none recognised)."""
    return sum(1 for layer in model.layers if isinstance(layer, layers.MaxPooling2D))
