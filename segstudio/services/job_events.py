"""The events a child job (services.subprocess_jobs) reports, as small dataclasses both
sides share: the child writes ``event.to_json()`` as one JSON line, the parent reads it
back with :func:`from_json`, so no consumer parses dicts by string keys.

    from_json(BatchEvent(1, 2, 10, 0.5).to_json()) == BatchEvent(1, 2, 10, 0.5)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import ClassVar


@dataclass(frozen=True)
class JobEvent:
    TYPE: ClassVar[str] = ""

    def to_json(self) -> dict:
        return {"type": self.TYPE, **asdict(self)}


@dataclass(frozen=True)
class BatchEvent(JobEvent):
    """Training: one batch done."""

    TYPE: ClassVar[str] = "batch"
    epoch: int
    step: int
    steps: int
    loss: float


@dataclass(frozen=True)
class EpochEvent(JobEvent):
    """Training: one epoch validated; ``report`` is the plain dict the plots draw (epoch,
    epochs, train_loss, val_loss, per_class_iou, fg_miou, pixel_accuracy, alarm, seconds)."""

    TYPE: ClassVar[str] = "epoch"
    report: dict = field(default_factory=dict)


@dataclass(frozen=True)
class MessageEvent(JobEvent):
    """A line for the user (what the job is doing now)."""

    TYPE: ClassVar[str] = "message"
    text: str = ""


@dataclass(frozen=True)
class ProgressEvent(JobEvent):
    """Prediction or export: ``done`` of ``total``; the image just cached or the format
    just written, when there is one."""

    TYPE: ClassVar[str] = "progress"
    done: int
    total: int
    image_id: int | None = None
    format: str | None = None


EVENT_TYPES: dict[str, type[JobEvent]] = {c.TYPE: c for c in (BatchEvent, EpochEvent, MessageEvent, ProgressEvent)}


def from_json(data: dict) -> JobEvent:
    """The event a ``to_json()`` dict describes; ValueError for an unknown type."""
    cls = EVENT_TYPES.get(data.get("type", ""))
    if cls is None:
        raise ValueError(f"unknown job event {data.get('type')!r}")
    names = {f.name for f in fields(cls)}
    return cls(**{k: v for k, v in data.items() if k in names})
