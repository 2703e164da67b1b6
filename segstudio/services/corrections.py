"""Corrected pixels: record them when a mask is saved, weigh them up when retraining.

A corrected pixel is one where the saved mask differs from the model's cached prediction
(or, for an image never predicted, from the mask as it was loaded). Each image keeps one
pending bit mask (``corrections/<image id>.npz``), OR-ed over saves, until a training run
finishes with it; that run fine-tunes from the last model on the FULL training set, with
the pending corrected pixels weighted ``correction_weight`` x in the loss.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np

from segstudio.core import review
from segstudio.core.atomic import write_atomic
from segstudio.core.statuses import RunStatus
from segstudio.store import learning
from segstudio.store.project import ImageRecord, Project

CACHE_DIR = "corrections"
#: Default loss weight of a corrected pixel relative to any other pixel.
DEFAULT_WEIGHT = 5.0


def correction_file(project: Project, image_id: int) -> Path:
    return project.root / CACHE_DIR / f"{image_id}.npz"


def load_corrected(project: Project, image_id: int, pending_only: bool = True) -> np.ndarray | None:
    """The bool map of corrected pixels of an image (pending ones only, by default)."""
    rec = learning.correction(project, image_id)
    if rec is None or (pending_only and not rec.pending):
        return None
    path = project.resolve(rec.path)
    if not path.exists():
        return None
    with np.load(path) as z:
        shape = tuple(int(v) for v in z["shape"])
        return np.unpackbits(z["bits"], count=shape[0] * shape[1]).reshape(shape).astype(bool)


def record_save(project: Project, image_id: int, saved: np.ndarray, reference: np.ndarray) -> int:
    """Add the pixels where ``saved`` differs from ``reference`` to the image's pending
    corrections; returns how many pixels are pending for it now."""
    previous = load_corrected(project, image_id)
    changed = review.corrected_pixels(saved, reference, previous)
    n = int(changed.sum())
    if n == 0 and previous is None:
        return 0
    target = correction_file(project, image_id)

    def writer(tmp: Path) -> None:
        with open(tmp, "wb") as f:
            np.savez_compressed(f, bits=np.packbits(changed.reshape(-1)), shape=np.asarray(changed.shape))

    write_atomic(target, writer)
    learning.put_correction(project, image_id, project.relativize(target), n)
    return n


def pending_summary(project: Project) -> tuple[int, int]:
    """(images, pixels) corrected since the last run."""
    pending = learning.corrections(project, pending_only=True)
    return len(pending), sum(c.pixels for c in pending)


def weight_factory(project: Project, weight: float) -> tuple[Callable[[list[ImageRecord]], Callable], list[int]]:
    """(``pixel_weights`` for services.training.train_project, ids of the images it weights)."""
    pending = {c.image_id for c in learning.corrections(project, pending_only=True)}

    def factory(records: list[ImageRecord]) -> Callable[[int], np.ndarray | None]:
        maps: dict[int, np.ndarray | None] = {}
        for i, rec in enumerate(records):
            if rec.id in pending:
                maps[i] = review.pixel_weights(load_corrected(project, rec.id), weight, (rec.height, rec.width))
        return lambda i: maps.get(i)

    return factory, sorted(pending)


def train_with_corrections(
    project: Project,
    config: dict,
    correction_weight: float = DEFAULT_WEIGHT,
    callbacks=None,  # TrainCallbacks
    cancel_event: threading.Event | None = None,
) -> int:
    """Train on the full training set (``config`` as for train_project; put ``init_from`` =
    the last run id to fine-tune), with corrected pixels weighted up; returns the run id.

    When the run finishes, its corrections stop being pending (they are "before the last run").
    """
    from segstudio.services.training import train_project  # TF: only when training

    factory, ids = weight_factory(project, correction_weight)
    run_id = train_project(project, config, callbacks, cancel_event,
                           pixel_weights=factory if ids and correction_weight != 1.0 else None)
    run = project.run(run_id)
    if run.status == RunStatus.FINISHED:
        learning.mark_corrections_applied(project, ids, run_id)
    return run_id
