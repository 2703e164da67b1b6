"""Intensity and scale augmentation of one training crop, numpy only.

nnU-Net's probabilities and ranges (Isensee et al. 2021), applied to raw pixel values:
the model normalises its input itself, so each transform works on the crop's own range
(contrast keeps the crop's minimum and maximum, gamma maps the range to [0, 1] and back)
rather than on any fixed scale. Flips and turns are ``sampling.augment``.
"""

from __future__ import annotations

import numpy as np

BRIGHTNESS_P, BRIGHTNESS = 0.15, (0.75, 1.25)
CONTRAST_P, CONTRAST = 0.15, (0.75, 1.25)
GAMMA_P, GAMMA = 0.3, (0.7, 1.5)
NOISE_P, NOISE_VARIANCE = 0.1, (0.0, 0.1)  # in units of the crop's variance
ZOOM_P, ZOOM = 0.2, (0.7, 1.4)


def intensity(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Brightness, contrast, gamma and noise, each drawn on its own; a new float32 array.

    Every draw is made whether or not the transform applies, so one transform's chance
    does not shift the random numbers of the next.
    """
    x = np.array(image, dtype=np.float32)
    u = rng.random(4)
    brightness, contrast, gamma = rng.uniform(*BRIGHTNESS), rng.uniform(*CONTRAST), rng.uniform(*GAMMA)
    noise_var = rng.uniform(*NOISE_VARIANCE)
    noise_seed = int(rng.integers(2**31))
    if u[0] < BRIGHTNESS_P:
        x *= brightness
    if u[1] < CONTRAST_P:
        lo, hi, mean = x.min(), x.max(), x.mean()
        x = np.clip((x - mean) * contrast + mean, lo, hi)
    if u[2] < GAMMA_P:
        lo, hi = x.min(), x.max()
        if hi > lo:
            x = ((x - lo) / (hi - lo)) ** gamma * (hi - lo) + lo
    if u[3] < NOISE_P:
        sd = float(x.std()) * np.sqrt(noise_var)
        if sd > 0:
            x = x + np.random.default_rng(noise_seed).normal(0, sd, x.shape).astype(np.float32)
    return x.astype(np.float32, copy=False)


def zoom_window(crop: int, rng: np.random.Generator, limit: int) -> int:
    """Side of the window to cut before resizing it to ``crop``: ``crop`` for most crops,
    ``crop / z`` for a zoom z in ZOOM (so z > 1 magnifies), at most ``limit`` pixels."""
    u, z = rng.random(), rng.uniform(*ZOOM)
    if u >= ZOOM_P:
        return crop
    return int(max(2, min(limit, round(crop / z))))


def _source_index(size: int, side: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each of ``size`` output pixels over a ``side``-pixel window: nearest, floor and
    fractional source coordinates (pixel centres aligned)."""
    u = (np.arange(size) + 0.5) * side / size - 0.5
    nearest = np.clip(np.floor(u + 0.5), 0, side - 1).astype(np.intp)
    u = np.clip(u, 0, side - 1)
    lo = np.minimum(np.floor(u).astype(np.intp), max(side - 2, 0))
    return nearest, lo, (u - lo).astype(np.float32)


def resize_crop(image: np.ndarray, labels: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """A square (side, side, ch) image and (side, side) labels window resized to ``size``:
    bilinear for the image, nearest for the labels (no class is ever blended into another)."""
    side = labels.shape[0]
    if side == size:
        return image, labels
    nearest, lo, frac = _source_index(size, side)
    out_labels = labels[nearest[:, None], nearest[None, :]]
    hi = np.minimum(lo + 1, side - 1)
    img = np.asarray(image, dtype=np.float32)
    rows = img[lo] * (1 - frac)[:, None, None] + img[hi] * frac[:, None, None]
    out = rows[:, lo] * (1 - frac)[None, :, None] + rows[:, hi] * frac[None, :, None]
    return out, out_labels
