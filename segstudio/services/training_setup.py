"""What the training panel offers before a run, without importing TensorFlow.

Every default comes from ``segstudio.ml.config`` (Keras-free), the same module the
trainer and the CLI read.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from segstudio.core.weights import SCHEMES, class_weights, loss_share
from segstudio.ml.config import (
    DEFAULT_WEIGHT_CLIP,
    DEFAULT_WEIGHT_SCHEME,
    LOSS_CHOICES,
    TrainConfig,
)
from segstudio.ml.correction import weights_at
from segstudio.store.project import Project

#: preset -> (filters, depth)
PRESETS: dict[str, tuple[int, int]] = {
    "tiny (4 filters, depth 2)": (4, 2),
    "small (8 filters, depth 3)": (8, 3),
    "medium (16 filters, depth 4)": (16, 4),
    "large (32 filters, depth 4)": (32, 4),
    "x-large (32 filters, depth 5)": (32, 5),
}
DEFAULT_PRESET = "medium (16 filters, depth 4)"
PANEL_KEYS = ("loss", "filters", "depth", "batch", "crop", "epochs", "steps_per_epoch", "lr")


def engine_defaults() -> dict:
    """The panel's fields as ``ml.config.TrainConfig`` defaults them."""
    d = TrainConfig().to_dict()
    return {k: d[k] for k in PANEL_KEYS}


#: TrainConfig defaults the panel shows
DEFAULTS = engine_defaults()
DEFAULTS_ALL = TrainConfig().to_dict()
LOSSES: list[str] = [DEFAULTS["loss"]] + [x for x in LOSS_CHOICES if x != DEFAULTS["loss"]]
WEIGHT_SCHEMES = list(SCHEMES)
DEFAULT_SCHEME, DEFAULT_CLIP = DEFAULT_WEIGHT_SCHEME, DEFAULT_WEIGHT_CLIP


@dataclass
class WeightPreview:
    ids: np.ndarray  # class ids shown (not ignore)
    weights: np.ndarray  # per class id
    shares: np.ndarray  # each class's share of the weighted loss
    unweighted: np.ndarray  # ... of the unweighted loss (= pixel share)


def weight_preview(project: Project, scheme: str, clip: float | None,
                   strength: float = 1.0) -> WeightPreview | None:
    """Class weights of ``scheme`` on the training split (at the plan's ``strength``, as the
    trainer applies them) and each class's share of the loss."""
    table = project.class_table()
    totals = project.class_totals("train")
    if totals.pixels.sum() == 0:
        return None
    w = class_weights(totals.pixels, scheme, image_counts=totals.images,
                      pixels_of_images_with_class=totals.pixels_of_images_with_class,
                      clip=clip or None, ignore_ids=table.ignore_ids)
    if strength != 1.0 and w.size and w.max() > 0:
        w = weights_at(w, strength)
    ids = np.array([c.id for c in table if not c.ignore and c.id < w.size], dtype=int)
    return WeightPreview(ids, w, loss_share(w, totals.pixels), loss_share(np.where(w > 0, 1.0, 0.0), totals.pixels))


def split_summary(project: Project) -> tuple[int, int]:
    """(labelled validation images, labelled images)."""
    labelled = project.images(labelled_only=True)
    return sum(r.split == "val" for r in labelled), len(labelled)


def set_validation_percent(project: Project, percent: int) -> tuple[int, int]:
    """Re-split labelled train/val images: about ``percent`` % go to val, stratified so every
    class with two or more images is in validation (stable: path hashes). Test images stay."""
    from segstudio.services.project_import import split_by_class_presence

    split_by_class_presence(project, int(percent))
    return split_summary(project)


def run_label(config: dict) -> str:
    """One line of a run's settings for lists."""
    c = config or {}
    return (f"{c.get('filters', '?')}f×d{c.get('depth', '?')} · {c.get('loss', '?')} · "
            f"{c.get('weights', '?')} (clip {c.get('clip', '—')}) · {c.get('epochs', '?')}×"
            f"{c.get('steps_per_epoch', '?')} · batch {c.get('batch', '?')} · crop {c.get('crop', '?')}")
