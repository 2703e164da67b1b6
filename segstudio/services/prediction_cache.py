"""Predictions of project images, cached on disk with review scores in the project database.

``predict_steps`` runs a model over chosen images one at a time (a generator: the GUI runs it
in a worker thread, shows its progress and can stop it between images). Each result --
class map (uint8/uint16) + confidence (float16) -- goes to ``predictions/<image id>.npz`` in
the project folder, atomically; its review scores (core.review) go to the ``predictions``
table; the image's status becomes 'predicted' (a 'corrected' one stays 'corrected').
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from segstudio.core import review
from segstudio.core.atomic import write_atomic
from segstudio.core.classes import ClassTable
from segstudio.core.errors import SegstudioError
from segstudio.core.statuses import ImageStatus
from segstudio.io.masks import read_mask
from segstudio.services.model_choice import active_model_run
from segstudio.store import learning
from segstudio.store.learning import PredictionRecord
from segstudio.store.project import Project

CACHE_DIR = "predictions"


@dataclass
class CachedPrediction:
    image_id: int
    classes: np.ndarray  # (H,W) uint8 / uint16
    confidence: np.ndarray  # (H,W) float32 in [0, 1]
    record: PredictionRecord


def cache_file(project: Project, image_id: int) -> Path:
    return project.root / CACHE_DIR / f"{image_id}.npz"


def rare_and_ignore(project: Project, table: ClassTable | None = None) -> tuple[list[int], list[int]]:
    table = table or project.class_table()
    totals = project.class_totals("train")
    ignore = list(table.ignore_ids)
    return review.rare_class_ids(totals.pixels, ignore_ids=ignore), ignore


def _write_npz(path: Path, classes: np.ndarray, confidence: np.ndarray) -> None:
    def writer(tmp: Path) -> None:
        with open(tmp, "wb") as f:
            np.savez_compressed(f, classes=classes, confidence=confidence.astype(np.float16))

    write_atomic(path, writer)


def load_cached(project: Project, image_id: int) -> CachedPrediction | None:
    """The cached prediction of an image, or None (none yet, or its file is gone)."""
    rec = learning.prediction(project, image_id)
    if rec is None:
        return None
    path = project.resolve(rec.path)
    if not path.exists():
        return None
    with np.load(path) as z:
        return CachedPrediction(image_id, z["classes"], z["confidence"].astype(np.float32), rec)


def _current_labels(project: Project, image_id: int, table: ClassTable, shape: tuple[int, int]) -> np.ndarray | None:
    rec = project.image(image_id)
    if rec.abs_mask_path is None or not rec.abs_mask_path.exists():
        return None
    return np.asarray(read_mask(rec.abs_mask_path, table, (shape[1], shape[0])).labels)


def check_model_classes(project: Project, model, model_path: str | Path, table: ClassTable) -> None:
    """Refuse a model whose outputs are not this project's classes, before it predicts anything:
    its class ids would not be the project's (and accepting them would corrupt the masks)."""
    from segstudio.services.training import model_classes  # TF: only when predicting

    outputs, expected = int(model.output_shape[-1]), model_classes(table)
    if outputs != expected:
        raise SegstudioError(
            f"{model_path}: the model predicts {outputs} classes but the project {project.root} has "
            f"{expected} (class ids 0-{expected - 1}); use a model trained on this project")


def predict_steps(
    project: Project,
    image_ids: Sequence[int],
    model_path: str | Path | None = None,
    run_id: int | None = None,
    tile: int = 512,
    cancelled: Callable[[], bool] = lambda: False,
    model=None,
    tta: int = 1,
) -> Iterator[tuple[int, int, int | None]]:
    """Predict and cache each image; yields (done, total, image id just cached).

    Without ``model_path`` the project's active model (services.model_choice) is used;
    ``model``: that file already loaded (a warm process, services.warm_predict). ``tta``: views
    averaged per image (ml.tta). Yields (0, total, None) first.
    """
    from segstudio.services.prediction import open_model, predict_file  # TF: only when predicting

    if model_path is None:
        run = active_model_run(project)
        if run is None:
            raise SegstudioError("no trained model yet: train one first")
        model_path, run_id = run.model_path, run.id
    if model is None:
        model = open_model(model_path)
    table = project.class_table()
    check_model_classes(project, model, model_path, table)
    rare, ignore = rare_and_ignore(project, table)
    ids = list(image_ids)
    yield 0, len(ids), None
    for done, image_id in enumerate(ids, 1):
        if cancelled():
            return
        rec = project.image(image_id)
        pred = predict_file(model, rec.abs_path, tile, tta)
        classes, conf = pred.classes, pred.confidence
        labels = _current_labels(project, image_id, table, classes.shape)
        scores = review.score_prediction(classes, conf, labels, rare, ignore)
        target = cache_file(project, image_id)
        _write_npz(target, classes, conf)
        learning.put_prediction(project, image_id, run_id, str(model_path), project.relativize(target),
                                scores.mean_confidence, scores.rare_uncertainty, scores.rare_pixels,
                                scores.disagreement, scores.score, tta)
        if rec.status != ImageStatus.CORRECTED:
            project.set_status(image_id, ImageStatus.PREDICTED)
        yield done, len(ids), image_id


def predict_images(project: Project, image_ids: Sequence[int], **kwargs) -> list[int]:
    """Run :func:`predict_steps` to the end (CLI, tests); returns the ids cached."""
    return [i for _d, _t, i in predict_steps(project, image_ids, **kwargs) if i is not None]


def refresh_scores(project: Project, image_id: int, labels: np.ndarray) -> float | None:
    """After the mask of an image changed: recompute its disagreement and score; returns the score."""
    cached = load_cached(project, image_id)
    if cached is None or cached.classes.shape != labels.shape:
        return None
    rare, ignore = rare_and_ignore(project)
    dis = review.rare_disagreement(cached.classes, labels, rare, ignore)
    score = review.combined_score(cached.record.rare_uncertainty, dis)
    learning.set_disagreement(project, image_id, dis, score)
    return score


@dataclass(frozen=True)
class QueueItem:
    image_id: int
    name: str
    status: str
    score: float
    rare_uncertainty: float
    disagreement: float | None
    rare_pixels: int
    run_id: int | None  # the run whose model made the prediction
    current: bool  # made by the active model (else: out of date)


def review_queue(project: Project, include_corrected: bool = False,
                 active_run_id: int | None = None) -> list[QueueItem]:
    """Predicted images, most worth correcting first (see core.review.score_prediction);
    each marked current when ``active_run_id`` made it."""
    images = {r.id: r for r in project.images()}
    preds = {p.image_id: p for p in learning.predictions(project) if p.image_id in images}
    order = review.rank((i, p.score) for i, p in preds.items())
    out = []
    for image_id, score in order:
        rec, p = images[image_id], preds[image_id]
        if rec.status == ImageStatus.CORRECTED and not include_corrected:
            continue
        out.append(QueueItem(image_id, Path(rec.path).name, rec.status, score, p.rare_uncertainty,
                             p.disagreement, p.rare_pixels, p.run_id,
                             active_run_id is not None and p.run_id == active_run_id))
    return out
