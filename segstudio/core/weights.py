"""Class-weight schemes computed from per-class pixel statistics.

All schemes give weight 0 to classes with no pixels. ``clip`` caps every weight at
``clip`` times the smallest non-zero weight: unclipped median-frequency weights on a
99%-background set reach ratios in the tens of thousands and make a U-Net flood
every image with foreground.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

#: scheme -> one line on when to use it (shown in the CLI, the GUI and the README).
SCHEMES: dict[str, str] = {
    "none": "all 1: plain loss; the baseline that collapses to background.",
    "balanced": "N/(C'*n_c) (scikit-learn): strongest inverse-frequency; clip it on extreme imbalance.",
    "sqrt": "1/sqrt(frequency): softer inverse-frequency; a safe default with a Dice term.",
    "median": "median frequency balancing (Eigen & Fergus): per-image frequencies; clip it.",
    "enet": "1/ln(1.02+frequency) (ENet): bounded at ~50, gentle on extreme imbalance.",
    "effective": "effective number of images (Cui et al.): for classes present in few images.",
}


def _expected_one(w: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Scale so the pixel-weighted mean weight is 1."""
    total = n.sum()
    mean = float((w * n).sum() / total) if total else 0.0
    return w / mean if mean > 0 else w


def class_weights(
    pixel_counts: Sequence[float] | np.ndarray,
    scheme: str = "sqrt",
    *,
    image_counts: Sequence[float] | np.ndarray | None = None,
    pixels_of_images_with_class: Sequence[float] | np.ndarray | None = None,
    clip: float | None = None,
    beta: float = 0.999,
    ignore_ids: Sequence[int] = (),
) -> np.ndarray:
    """Class-weight vector for a scheme.

    Args:
        pixel_counts: n_c, pixels of each class over the training set (length C).
        scheme: one of ``SCHEMES``.
        image_counts: m_c, images containing class c (``effective``).
        pixels_of_images_with_class: total pixels of the images containing c (``median``).
        clip: cap weights at ``clip`` x the smallest non-zero weight.
        beta: the effective-number hyper-parameter.
        ignore_ids: classes that never count (weight 0).

    Examples:
        >>> class_weights([90, 10], "balanced").tolist()
        [0.5555555555555556, 5.0]
    """
    n = np.asarray(pixel_counts, dtype=np.float64).copy()
    for i in ignore_ids:
        if 0 <= i < n.size:
            n[i] = 0
    present = n > 0
    w = np.zeros_like(n)
    N = n.sum()
    if scheme not in SCHEMES:
        raise ValueError(f"unknown weight scheme {scheme!r}; choose from {', '.join(SCHEMES)}")
    if N <= 0:
        return w
    if scheme == "none":
        w[:] = 1.0
        for i in ignore_ids:
            if 0 <= i < w.size:
                w[i] = 0.0
        return w
    if scheme == "balanced":
        w[present] = N / (present.sum() * n[present])
    elif scheme == "sqrt":
        w[present] = 1.0 / np.sqrt(n[present] / N)
        w = _expected_one(w, n)
    elif scheme == "median":
        if pixels_of_images_with_class is None:
            raise ValueError("median frequency needs the pixels of the images containing each class")
        denom = np.asarray(pixels_of_images_with_class, dtype=np.float64)
        freq = np.zeros_like(n)
        ok = present & (denom > 0)
        freq[ok] = n[ok] / denom[ok]
        w[ok] = np.median(freq[ok]) / freq[ok]
    elif scheme == "enet":
        w[present] = 1.0 / np.log(1.02 + n[present] / N)
    elif scheme == "effective":
        if image_counts is None:
            raise ValueError("effective number needs the number of images containing each class")
        m = np.asarray(image_counts, dtype=np.float64)
        ok = present & (m > 0)
        w[ok] = (1.0 - beta) / (1.0 - np.power(beta, m[ok]))
        w = _expected_one(w, n)
    if clip is not None:
        if clip < 1:
            raise ValueError("clip must be >= 1 (a multiple of the smallest non-zero weight)")
        nz = w[w > 0]
        if nz.size:
            w = np.minimum(w, clip * nz.min())
    return w


def loss_share(weights: Sequence[float], pixel_counts: Sequence[float]) -> np.ndarray:
    """Each class's share of a weighted cross-entropy loss at uniform per-pixel loss: w_c n_c / sum."""
    w = np.asarray(weights, dtype=np.float64)
    n = np.asarray(pixel_counts, dtype=np.float64)
    total = (w * n).sum()
    return (w * n) / total if total > 0 else np.zeros_like(w)
