"""Predictions in the background: ``services.prediction_cache.predict_steps`` in a child
process, relayed by a :class:`~segstudio.qt.workers.background.BackgroundJob` thread; progress,
each cached image and the end arrive as queued signals."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6 import QtCore

from segstudio.qt.workers.background import BackgroundJob
from segstudio.services.subprocess_jobs import ChildJob
from segstudio.store.project import Project


def _predict_in_child(root, image_ids, model_path=None, run_id=None):  # noqa: ANN001, ANN201 - a generator
    """services.prediction_cache.predict_steps in a child process (TensorFlow never loads in
    the GUI process); yields (done, total, image id) as the child reports them."""
    child = ChildJob("predict", {"root": str(root), "image_ids": list(image_ids), "model_path": model_path,
                                 "run_id": run_id})
    events = child.events()
    try:
        for e in events:
            if e.get("type") == "progress":
                yield int(e["done"]), int(e["total"]), e.get("image_id")
    finally:
        events.close()  # closed early (Cancel): the child is told to stop and waited for
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
        self._job = BackgroundJob(_predict_in_child, project.root, list(image_ids), model_path=model_path,
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
