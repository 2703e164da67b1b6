"""Segmentation quality that an imbalanced problem cannot hide behind.

Everything is computed from a confusion matrix accumulated over a whole split,
never averaged per batch or per image. Rows are truth, columns prediction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

#: a class with fewer validation pixels than this is shown greyed out: its IoU is noise
MIN_SCORED_PIXELS = 200
#: px: an error this close to a truth label edge is an outline drawn a pixel off, not a miss
EDGE_TOLERANCE = 1


def too_few_to_score(val_pixels) -> list[bool]:
    """Per class: True where the validation split holds too few of its pixels to trust its IoU."""
    return [int(n) < MIN_SCORED_PIXELS for n in val_pixels]


def confusion_matrix(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    num_classes: int,
    ignore_index: int | Sequence[int] | None = None,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Add the (truth, prediction) pairs of one batch to ``out`` (or a new matrix).

    Args:
        y_true: integer class map, any shape.
        y_pred: integer class map, same shape.
        num_classes: C; truth values outside 0..C-1 count as ignored.
        ignore_index: id(s) whose truth pixels count nowhere.
        out: an existing (C, C) int64 matrix to accumulate into.

    Examples:
        >>> confusion_matrix(np.array([0, 1, 1]), np.array([0, 1, 0]), 2)
        array([[1, 0],
               [1, 1]])
    """
    t = np.asarray(y_true).reshape(-1).astype(np.int64, copy=False)
    p = np.asarray(y_pred).reshape(-1).astype(np.int64, copy=False)
    if t.shape != p.shape:
        raise ValueError(f"shape mismatch: truth {np.shape(y_true)} vs prediction {np.shape(y_pred)}")
    keep = (t >= 0) & (t < num_classes) & (p >= 0) & (p < num_classes)
    if ignore_index is not None:
        for i in np.atleast_1d(ignore_index):
            keep &= t != int(i)
    cm = np.bincount(t[keep] * num_classes + p[keep], minlength=num_classes * num_classes)
    cm = cm.reshape(num_classes, num_classes).astype(np.int64)
    if out is None:
        return cm
    out += cm
    return out


def near_label_edge(labels: np.ndarray, tolerance: int = EDGE_TOLERANCE) -> np.ndarray:
    """(H,W) bool: True where another truth label lies within ``tolerance`` px (a square
    neighbourhood), i.e. on either side of every outline."""
    from scipy import ndimage

    a = np.asarray(labels)
    size = 2 * int(tolerance) + 1
    return ndimage.maximum_filter(a, size=size, mode="nearest") != ndimage.minimum_filter(a, size=size, mode="nearest")


def edge_confusion(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    num_classes: int,
    ignore_index: int | Sequence[int] | None = None,
    out: np.ndarray | None = None,
    tolerance: int = EDGE_TOLERANCE,
) -> np.ndarray:
    """Like ``confusion_matrix``, over only the pixels within ``tolerance`` px of a truth edge
    of one 2-D class map: with the whole-split matrix it splits every class's errors into
    outline placement and misses (``edge_error_share``, ``edge_tolerant_iou``)."""
    near = near_label_edge(y_true, tolerance)
    return confusion_matrix(np.asarray(y_true)[near], np.asarray(y_pred)[near], num_classes, ignore_index, out)


def _ratio(num: np.ndarray, denom: np.ndarray) -> np.ndarray:
    """num / denom per class, NaN where denom is 0 (a class that counts nowhere)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denom > 0, num / np.where(denom > 0, denom, 1), np.nan)


def _errors(cm: np.ndarray) -> np.ndarray:
    """FP + FN per class."""
    cm = np.asarray(cm, dtype=np.float64)
    return cm.sum(0) + cm.sum(1) - 2 * np.diag(cm)


def edge_error_share(cm: np.ndarray, edge_cm: np.ndarray) -> np.ndarray:
    """Per class: the share of its errors (FP + FN) within the edge tolerance; NaN without errors."""
    return _ratio(_errors(edge_cm), _errors(cm))


def edge_tolerant_iou(cm: np.ndarray, edge_cm: np.ndarray) -> np.ndarray:
    """Per class IoU with the errors near a truth edge forgiven: TP / (TP + FP + FN - those)."""
    tp = np.diag(np.asarray(cm, dtype=np.float64))
    return _ratio(tp, tp + _errors(cm) - _errors(edge_cm))


def per_class_iou(cm: np.ndarray) -> np.ndarray:
    """TP / (TP + FP + FN) per class; NaN where a class is absent from truth and prediction."""
    tp = np.diag(np.asarray(cm, dtype=np.float64))
    return _ratio(tp, tp + _errors(cm))


def per_class_dice(cm: np.ndarray) -> np.ndarray:
    """2TP / (2TP + FP + FN) per class; NaN where a class is absent from truth and prediction."""
    cm = np.asarray(cm, dtype=np.float64)
    return _ratio(2 * np.diag(cm), cm.sum(0) + cm.sum(1))


def per_class_recall(cm: np.ndarray) -> np.ndarray:
    """TP / truth pixels per class; NaN for classes absent from truth."""
    cm = np.asarray(cm, dtype=np.float64)
    return _ratio(np.diag(cm), cm.sum(1))


def foreground_miou(
    cm_or_iou: np.ndarray, ignore_ids: Iterable[int] = (), background: int = 0
) -> float:
    """NaN-aware mean IoU over classes other than ``background`` and ``ignore_ids``.

    Accepts a (C, C) confusion matrix or a per-class IoU vector. NaN if no class counts.
    """
    a = np.asarray(cm_or_iou, dtype=np.float64)
    iou = per_class_iou(a) if a.ndim == 2 else a
    mask = np.ones(iou.shape[0], dtype=bool)
    mask[background] = False
    for i in ignore_ids:
        if 0 <= i < mask.size:
            mask[i] = False
    vals = iou[mask]
    vals = vals[~np.isnan(vals)]
    return float(vals.mean()) if vals.size else float("nan")


def pixel_accuracy(cm: np.ndarray) -> float:
    """Correct pixels / counted pixels. Shown beside foreground mIoU, never alone."""
    cm = np.asarray(cm, dtype=np.float64)
    total = cm.sum()
    return float(np.trace(cm) / total) if total else float("nan")


def summarize(cm: np.ndarray, ignore_ids: Iterable[int] = (), edge_cm: np.ndarray | None = None) -> dict:
    """JSON-ready summary; NaN becomes None. With ``edge_cm`` (``edge_confusion`` over the same
    pixels) also each class's share of errors at edges and its edge-tolerant IoU."""
    iou = per_class_iou(cm)
    fg = foreground_miou(iou, ignore_ids)

    def clean(x: float) -> float | None:
        return None if np.isnan(x) else float(x)

    out = {
        "per_class_iou": [clean(v) for v in iou],
        "fg_miou": clean(fg),
        "pixel_accuracy": clean(pixel_accuracy(cm)),
        "confusion": np.asarray(cm, dtype=np.int64).tolist(),
    }
    if edge_cm is not None:
        out["edge_tolerance_px"] = EDGE_TOLERANCE
        out["edge_error_share"] = [clean(v) for v in edge_error_share(cm, edge_cm)]
        out["edge_tolerant_iou"] = [clean(v) for v in edge_tolerant_iou(cm, edge_cm)]
    return out
