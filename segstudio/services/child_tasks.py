"""Each child-process job (services.subprocess_jobs) as a plain function or generator, the
shape the GUI's one Worker (qt.workers.worker) runs in a thread: generators yield the
child's typed events (services.job_events) and return its result; closing one early
stops the child (it keeps what it finished)."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

from segstudio.services import model_export
from segstudio.services.devices import DeviceInfo
from segstudio.services.job_events import JobEvent, ProgressEvent
from segstudio.services.subprocess_jobs import ChildJob


def _relay(events: Iterator[JobEvent], kind: type[JobEvent] = JobEvent):  # a generator
    """Yield the events of ``kind``; return the child's result; always close the child."""
    try:
        while True:
            try:
                event = next(events)
            except StopIteration as stop:
                return stop.value
            if isinstance(event, kind):
                yield event
    finally:
        events.close()  # closed early (Cancel): the child is told to stop and waited for


def train(root: str | Path, config: dict, correction_weight: float = 1.0, device: str | None = None,
          abort: threading.Event | None = None) -> Iterator[JobEvent]:
    """Train in a child; yields Batch/Epoch/Message events, returns the run's result dict
    (run_id, status, message, best_fg_miou, model_path). A set ``abort`` makes the child
    stop after the current batch -- the run still ends (cancelled) and returns."""
    child = ChildJob("train", {"root": str(root), "config": dict(config),
                               "correction_weight": float(correction_weight), "device": device})
    return (yield from _relay(child.events(cancel=abort)))


def predict(root: str | Path, image_ids: Sequence[int], model_path: str | None = None,
            run_id: int | None = None, tta: int = 1) -> Iterator[ProgressEvent]:
    """Predict and cache images in a child; yields ProgressEvents, returns the ids cached."""
    child = ChildJob("predict", {"root": str(root), "image_ids": list(image_ids), "model_path": model_path,
                                 "run_id": run_id, "tta": tta})
    return (yield from _relay(child.events(), ProgressEvent))


def export(root: str | Path, run_id: int, folder: str | Path, formats: list[str]) -> Iterator[ProgressEvent]:
    """Export a run's model in a child; yields ProgressEvents, returns an ExportResult."""
    child = ChildJob("export", {"root": str(root), "run_id": run_id, "folder": str(folder), "formats": formats})
    v = (yield from _relay(child.events(), ProgressEvent)) or {}
    return model_export.ExportResult([Path(f) for f in v.get("files", [])], [Path(c) for c in v.get("cards", [])],
                                     [tuple(f) for f in v.get("failed", [])])


def devices() -> DeviceInfo:
    """What TensorFlow sees, asked in a child (the GUI process never imports TF)."""
    value = ChildJob("devices", {}).run()
    return DeviceInfo(value["devices"], value["versions"])
