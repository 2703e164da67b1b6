"""Training in a background QThread: a worker QObject moved to the thread, trainer callbacks
forwarded as Qt signals with plain payloads (ints, floats, dicts, lists -- never ORM objects).

The GUI thread only ever receives queued signals; Cancel sets a ``threading.Event`` the
trainer checks after every batch (the last checkpoint is kept).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from PySide6 import QtCore

from segstudio.store.project import Project


def epoch_payload(report) -> dict:  # noqa: ANN001 - ml.trainer.EpochReport
    """EpochReport -> plain dict (the confusion matrix stays in the worker)."""
    return {
        "epoch": int(report.epoch), "epochs": int(report.epochs),
        "train_loss": report.train_loss, "val_loss": report.val_loss,
        "per_class_iou": list(report.per_class_iou), "fg_miou": report.fg_miou,
        "pixel_accuracy": report.pixel_accuracy, "alarm": report.alarm,
        "seconds": float(report.seconds), "improved": bool(report.improved),
    }


class _SignalCallbacks:
    """TrainCallbacks that emit the worker's signals (called on the worker thread)."""

    def __init__(self, worker: TrainingWorker):
        self.w = worker

    def on_batch(self, epoch: int, step: int, steps: int, loss: float) -> None:
        self.w.batch.emit(int(epoch), int(step), int(steps), float(loss))

    def on_epoch(self, report) -> None:  # noqa: ANN001
        self.w.epoch.emit(epoch_payload(report))

    def on_message(self, text: str) -> None:
        self.w.message.emit(str(text))


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
        t0 = time.perf_counter()
        try:
            from segstudio.services import corrections, devices  # imports TF: on this thread

            self.message.emit("loading TensorFlow and the training data…")
            with Project.open(self.root) as project, devices.device_scope(self.device):
                run_id = corrections.train_with_corrections(
                    project, self.config, self.correction_weight, _SignalCallbacks(self), self.cancel_event)
                run = project.run(run_id)
            self.finished.emit({
                "run_id": run_id, "status": run.status, "message": run.message or "",
                "best_fg_miou": run.best_fg_miou, "model_path": run.model_path,
                "seconds": time.perf_counter() - t0,
            })
        except BaseException as e:  # noqa: BLE001 - every failure goes to the one reporter
            self.error.emit(e)
        finally:
            self.done.emit()


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
