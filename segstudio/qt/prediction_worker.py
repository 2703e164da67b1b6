"""Predictions in a worker thread: ``services.prediction_cache.predict_steps`` run by a superqt
generator worker; progress, each cached image and the end arrive as queued signals."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6 import QtCore
from superqt.utils import create_worker

from segstudio.services import prediction_cache
from segstudio.store.project import Project


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
        self._worker = create_worker(prediction_cache.predict_steps, project, list(image_ids),
                                     model_path=model_path, run_id=run_id, _start_thread=False)
        self._worker.yielded.connect(self._on_yield)
        self._worker.errored.connect(self._on_error)
        self._worker.finished.connect(self._on_finished)

    def start(self) -> None:
        self._worker.start()

    def cancel(self) -> None:
        """Stop after the image being predicted (its result is kept)."""
        self._worker.quit()

    @property
    def running(self) -> bool:
        return self._worker.is_running

    def _on_yield(self, step) -> None:  # noqa: ANN001
        done, total, image_id = step
        if image_id is not None:
            self.done_ids.append(image_id)
            self.imageDone.emit(image_id)
        self.progress.emit(done, total)

    def _on_error(self, e: BaseException) -> None:
        self.error.emit(e)

    def _on_finished(self) -> None:
        self.finished.emit(list(self.done_ids))
