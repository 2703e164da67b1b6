"""The correction loop without Qt or TF: review scores, the review queue, corrected pixels.

* :func:`rare_class_ids` -- which classes count as rare, from the stored pixel totals.
* :func:`score_prediction` -- how much an image is worth correcting: the model's uncertainty
  on pixels it predicts as rare classes, plus its disagreement with the current mask on
  rare-class pixels. :func:`rank` orders images by that score (the review queue).
* :func:`low_confidence_map` / :func:`disagreement_map` -- 0/1 uint8 maps for the canvas.
* :func:`accept_where` -- which pixels "accept the prediction" changes (whole image or region).
* :func:`corrected_pixels` / :func:`pixel_weights` -- the pixels the user corrected, and the
  per-pixel loss weights a retrain uses for them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

#: Foreground classes under this share of the labelled pixels count as rare.
RARE_SHARE = 0.01
#: Pixels under this confidence are "low confidence" in the confidence view.
LOW_CONFIDENCE = 0.6


def rare_class_ids(pixels_per_class: Sequence[int] | np.ndarray, background: int = 0,
                   ignore_ids: Iterable[int] = (), share: float = RARE_SHARE) -> list[int]:
    """Foreground ids whose share of all counted pixels is under ``share`` (absent ones too).

    With no counts at all every foreground class is rare.
    """
    px = np.asarray(pixels_per_class, dtype=np.float64)
    ignore = set(int(i) for i in ignore_ids) | {int(background)}
    total = px.sum()
    ids = [c for c in range(px.size) if c not in ignore]
    if total <= 0:
        return ids
    return [c for c in ids if px[c] / total < share]


@dataclass(frozen=True)
class ReviewScores:
    mean_confidence: float  # over all pixels
    rare_uncertainty: float  # mean (1 - confidence) over pixels predicted as a rare class
    rare_pixels: int  # pixels predicted as a rare class
    disagreement: float | None  # share of rare-class pixels (mask or prediction) where they differ
    score: float  # rare_uncertainty + disagreement: higher = correct this image first


def score_prediction(classes: np.ndarray, confidence: np.ndarray, labels: np.ndarray | None,
                     rare_ids: Iterable[int], ignore_ids: Iterable[int] = ()) -> ReviewScores:
    """Review scores of one image's prediction (``labels``: its current mask, or None)."""
    rare = np.asarray(sorted(set(int(i) for i in rare_ids)), dtype=np.int64)
    conf = np.asarray(confidence, dtype=np.float32)
    rare_pred = np.isin(classes, rare)
    n_rare = int(rare_pred.sum())
    uncertainty = float(np.mean(1.0 - conf[rare_pred])) if n_rare else 0.0
    disagreement = None
    if labels is not None:
        disagreement = rare_disagreement(classes, labels, rare, ignore_ids)
    score = uncertainty + (disagreement or 0.0)
    return ReviewScores(float(conf.mean()) if conf.size else 0.0, uncertainty, n_rare, disagreement, score)


def rare_disagreement(classes: np.ndarray, labels: np.ndarray, rare_ids: Iterable[int],
                      ignore_ids: Iterable[int] = ()) -> float:
    """Share of the pixels that are rare in the mask or the prediction where the two differ."""
    rare = np.asarray(sorted(set(int(i) for i in rare_ids)), dtype=np.int64)
    valid = ~np.isin(labels, np.asarray(list(ignore_ids), dtype=np.int64))
    involved = (np.isin(labels, rare) | np.isin(classes, rare)) & valid
    n = int(involved.sum())
    return float(np.count_nonzero(classes[involved] != labels[involved]) / n) if n else 0.0


def combined_score(rare_uncertainty: float, disagreement: float | None) -> float:
    return float(rare_uncertainty) + float(disagreement or 0.0)


def rank(items: Iterable[tuple[int, float]]) -> list[tuple[int, float]]:
    """(image id, score) pairs, most worth correcting first (ties: lower id first)."""
    return sorted(items, key=lambda t: (-t[1], t[0]))


def low_confidence_map(confidence: np.ndarray, threshold: float = LOW_CONFIDENCE) -> np.ndarray:
    """uint8 map: 1 where the model's confidence is under ``threshold``."""
    return (np.asarray(confidence) < threshold).astype(np.uint8)


def disagreement_map(classes: np.ndarray, labels: np.ndarray, ignore_ids: Iterable[int] = ()) -> np.ndarray:
    """uint8 map: 1 where the prediction differs from the mask (ignore pixels excluded)."""
    diff = np.asarray(classes) != np.asarray(labels)
    ignore = list(ignore_ids)
    if ignore:
        diff &= ~np.isin(labels, np.asarray(ignore, dtype=np.int64))
    return diff.astype(np.uint8)


def accept_where(classes: np.ndarray, labels: np.ndarray, region: np.ndarray | None = None) -> np.ndarray:
    """Bool map of the pixels that accepting the prediction changes (inside ``region`` if given)."""
    where = np.asarray(classes) != np.asarray(labels)
    if region is not None:
        if region.shape != where.shape:
            raise ValueError(f"region shape {region.shape} != mask shape {where.shape}")
        where &= region.astype(bool)
    return where


def corrected_pixels(saved: np.ndarray, reference: np.ndarray, previous: np.ndarray | None = None) -> np.ndarray:
    """Bool map of the pixels the user corrected: saved mask != reference (the model's
    prediction when there is one, else the mask as it was loaded), OR the earlier record."""
    if saved.shape != reference.shape:
        raise ValueError(f"mask shape {saved.shape} != reference shape {reference.shape}")
    changed = np.asarray(saved) != np.asarray(reference)
    if previous is not None and previous.shape == changed.shape:
        changed |= previous.astype(bool)
    return changed


def pixel_weights(corrected: np.ndarray | None, weight: float, shape: tuple[int, int] | None = None) -> np.ndarray | None:
    """float32 loss weights: ``weight`` on corrected pixels, 1 elsewhere (None: nothing corrected)."""
    if corrected is None or weight == 1.0 or not np.any(corrected):
        return None
    c = np.asarray(corrected, dtype=bool)
    if shape is not None and c.shape != tuple(shape):
        return None  # the image changed size since: its old record no longer applies
    return np.where(c, np.float32(weight), np.float32(1.0)).astype(np.float32)


def outline(classes: np.ndarray) -> np.ndarray:
    """The class map kept only on region borders (a pixel whose 4-neighbour differs), 0 inside:
    the prediction drawn as outlines over the mask."""
    c = np.asarray(classes)
    edge = np.zeros(c.shape, bool)
    edge[1:, :] |= c[1:, :] != c[:-1, :]
    edge[:-1, :] |= c[:-1, :] != c[1:, :]
    edge[:, 1:] |= c[:, 1:] != c[:, :-1]
    edge[:, :-1] |= c[:, :-1] != c[:, 1:]
    return np.where(edge, c, 0).astype(c.dtype)
