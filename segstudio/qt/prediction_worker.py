"""Predictions in a worker thread: ``services.prediction_cache.predict_steps`` run as a
:class:`~segstudio.qt.background.BackgroundJob` on a Project opened on that thread; progress,
each cached image and the end arrive as queued signals."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6 import QtCore

from segstudio.qt.background import BackgroundJob
from segstudio.services import prediction_cache
from segstudio.store.project import Project


def _predict_own_project(root, image_ids, **kwargs):  # noqa: ANN001, ANN003, ANN201 - a generator
    """predict_steps on a Project opened (and closed) on the worker thread, so the window may
    close or switch projects while it runs."""
    with Project.open(root) as project:
        yield from prediction_cache.predict_steps(project, image_ids, **kwargs)
    return len(image_ids)


class PredictionJob(QtCore.QObject):
    """Signals: ``progress(done, total)``, ``imageDone(image_id)``, ``error(object)``,
    ``finished(list of cached ids)`` (also after a cancel or an error)."""

    progress = QtCore.Signal(int, int)
    imageDone = QtCore.Signal(int)
    error = QtCore.Signal(object)
    finished = QtCore.Signal(list)

    def __init__(self, project: Project, image_ids: Sequence[int], model_path: str | None = None,
                 run_id: int | None = None, parent: QtCore.QObject | None = None):
        super().__init__(parent)
        self.done_ids: list[int] = []
        self.total = len(image_ids)
        self._job = BackgroundJob(_predict_own_project, project.root, list(image_ids), model_path=model_path,
                                  run_id=run_id, on_yield=self._on_yield, on_error=self.error.emit,
                                  on_finish=self._on_finished, parent=self)

    def start(self) -> None:
        self._job.start()

    def cancel(self) -> None:
        """Stop after the image being predicted (its result is kept)."""
        self._job.cancel()

    @property
    def running(self) -> bool:
        return self._job.running

    def wait(self, ms: int = 30000) -> bool:
        return self._job.wait(ms)

    def _on_yield(self, step) -> None:  # noqa: ANN001
        done, total, image_id = step
        if image_id is not None:
            self.done_ids.append(image_id)
            self.imageDone.emit(image_id)
        self.progress.emit(done, total)

    def _on_finished(self) -> None:
        self.finished.emit(list(self.done_ids))
