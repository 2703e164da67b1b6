"""Training in the background: a worker QObject moved to a QThread relays a training child
process (``services.subprocess_jobs``: TensorFlow never runs in the GUI process, whose GIL
it would hold for seconds while importing and tracing) as Qt signals with plain payloads
(ints, floats, dicts, lists -- never ORM objects).

The GUI thread only ever receives queued signals; Cancel sets a ``threading.Event`` that
is passed on to the child, whose trainer checks it after every batch (the last checkpoint
is kept).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from PySide6 import QtCore

from segstudio.services.subprocess_jobs import ChildJob
from segstudio.store.project import Project


class TrainingWorker(QtCore.QObject):
    """Runs one training run when its thread starts.

    Signals: ``batch(epoch, step, steps, loss)``, ``epoch(dict)``, ``message(str)``,
    ``finished(dict)`` with run_id/status/message/best_fg_miou/model_path/seconds, and
    ``failed(str)`` (the exception object goes to ``error(object)`` for the reporter).
    ``done()`` is emitted last in every case.
    """

    batch = QtCore.Signal(int, int, int, float)
    epoch = QtCore.Signal(dict)
    message = QtCore.Signal(str)
    finished = QtCore.Signal(dict)
    error = QtCore.Signal(object)
    done = QtCore.Signal()

    def __init__(self, project: Project | str | Path, config: dict, correction_weight: float = 1.0,
                 device: str | None = None):
        super().__init__()
        # the worker opens its own Project on its thread: the window may close or switch its
        # project while this run is still writing epochs
        self.root = Path(project.root if isinstance(project, Project) else project)
        self.config = dict(config)
        self.correction_weight = float(correction_weight)
        self.device = device
        self.cancel_event = threading.Event()

    def cancel(self) -> None:
        """Thread-safe: the trainer stops after the current batch."""
        self.cancel_event.set()

    @QtCore.Slot()
    def run(self) -> None:
        """Train in a child process (services.subprocess_jobs); this thread relays its lines."""
        t0 = time.perf_counter()
        try:
            self.message.emit("starting the training process (TensorFlow, data, model)…")
            job = ChildJob("train", {"root": str(self.root), "config": self.config,
                                     "correction_weight": self.correction_weight, "device": self.device})
            result = job.run(self._relay, self.cancel_event)
            self.finished.emit({**result, "seconds": time.perf_counter() - t0})
        except BaseException as e:  # noqa: BLE001 - every failure goes to the one reporter
            self.error.emit(e)
        finally:
            self.done.emit()
            QtCore.QThread.currentThread().quit()  # so wait() works even from a blocked GUI thread

    def _relay(self, event: dict) -> None:
        kind = event.get("type")
        if kind == "batch":
            self.batch.emit(int(event["epoch"]), int(event["step"]), int(event["steps"]), float(event["loss"]))
        elif kind == "epoch":
            self.epoch.emit(dict(event["report"]))
        elif kind == "message":
            self.message.emit(str(event.get("text", "")))


class TrainingJob(QtCore.QObject):
    """Owns the QThread and the worker of one run; ``start()`` returns at once."""

    def __init__(self, worker: TrainingWorker, parent: QtCore.QObject | None = None):
        super().__init__(parent)
        self.worker = worker
        self.thread = QtCore.QThread()
        self.thread.setObjectName("segstudio-training")
        worker.moveToThread(self.thread)
        self.thread.started.connect(worker.run)
        worker.done.connect(self.thread.quit)
        self.thread.finished.connect(worker.deleteLater)

    def start(self) -> None:
        self.thread.start()

    def cancel(self) -> None:
        self.worker.cancel()

    @property
    def running(self) -> bool:
        return self.thread.isRunning()

    def wait(self, ms: int = 60000) -> bool:
        return self.thread.wait(ms)
