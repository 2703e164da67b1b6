"""Rows of the correction loop: cached predictions (with review scores) and corrected pixels.

Functions over a :class:`~segstudio.store.project.Project` (one short session per call, like
the Project's own methods); results are plain frozen dataclasses, never ORM objects.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update

from segstudio.store.models import CorrectionRow, PredictionRow, utcnow
from segstudio.store.project import Project, _clean_float


@dataclass(frozen=True)
class PredictionRecord:
    image_id: int
    run_id: int | None
    model_path: str
    path: str  # relative to the project root
    created_at: datetime
    mean_confidence: float
    rare_uncertainty: float
    rare_pixels: int
    disagreement: float | None
    score: float
    views: int = 1  # test-time views averaged (ml.tta); 1: the image alone


@dataclass(frozen=True)
class CorrectionRecord:
    image_id: int
    path: str  # relative to the project root
    pixels: int
    updated_at: datetime
    applied_run_id: int | None

    @property
    def pending(self) -> bool:
        return self.applied_run_id is None


def _pred(r: PredictionRow) -> PredictionRecord:
    return PredictionRecord(r.image_id, r.run_id, r.model_path, r.path, r.created_at, r.mean_confidence,
                            r.rare_uncertainty, r.rare_pixels, r.disagreement, r.score, r.views)


def _corr(r: CorrectionRow) -> CorrectionRecord:
    return CorrectionRecord(r.image_id, r.path, r.pixels, r.updated_at, r.applied_run_id)


# -- predictions -----------------------------------------------------------------------
def put_prediction(project: Project, image_id: int, run_id: int | None, model_path: str, path: str,
                   mean_confidence: float, rare_uncertainty: float, rare_pixels: int,
                   disagreement: float | None, score: float, views: int = 1) -> None:
    with project.session() as s, s.begin():
        s.merge(PredictionRow(
            image_id=image_id, run_id=run_id, model_path=str(model_path), path=str(path), created_at=utcnow(),
            mean_confidence=_clean_float(mean_confidence) or 0.0,
            rare_uncertainty=_clean_float(rare_uncertainty) or 0.0, rare_pixels=int(rare_pixels),
            disagreement=_clean_float(disagreement), score=_clean_float(score) or 0.0, views=int(views),
        ))


def prediction(project: Project, image_id: int) -> PredictionRecord | None:
    with project.session() as s:
        r = s.get(PredictionRow, image_id)
        return _pred(r) if r is not None else None


def predictions(project: Project) -> list[PredictionRecord]:
    with project.session() as s:
        return [_pred(r) for r in s.scalars(select(PredictionRow).order_by(PredictionRow.image_id))]


def set_disagreement(project: Project, image_id: int, disagreement: float | None, score: float) -> None:
    with project.session() as s, s.begin():
        s.execute(update(PredictionRow).where(PredictionRow.image_id == image_id)
                  .values(disagreement=_clean_float(disagreement), score=_clean_float(score) or 0.0))


# -- corrections -----------------------------------------------------------------------
def put_correction(project: Project, image_id: int, path: str, pixels: int) -> None:
    """Record (or replace) the pending corrected-pixel mask of an image."""
    with project.session() as s, s.begin():
        s.merge(CorrectionRow(image_id=image_id, path=str(path), pixels=int(pixels), updated_at=utcnow(),
                              applied_run_id=None))


def correction(project: Project, image_id: int) -> CorrectionRecord | None:
    with project.session() as s:
        r = s.get(CorrectionRow, image_id)
        return _corr(r) if r is not None else None


def corrections(project: Project, pending_only: bool = False) -> list[CorrectionRecord]:
    with project.session() as s:
        q = select(CorrectionRow).order_by(CorrectionRow.image_id)
        if pending_only:
            q = q.where(CorrectionRow.applied_run_id.is_(None))
        return [_corr(r) for r in s.scalars(q)]


def mark_corrections_applied(project: Project, image_ids: list[int], run_id: int) -> None:
    """The run ``run_id`` trained with these corrections: they are no longer 'since the last run'."""
    if not image_ids:
        return
    with project.session() as s, s.begin():
        s.execute(update(CorrectionRow).where(CorrectionRow.image_id.in_(list(image_ids)))
                  .values(applied_run_id=run_id))
