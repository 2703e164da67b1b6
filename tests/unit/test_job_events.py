"""Child-process events are typed: each survives a JSON round trip as the same dataclass."""

from __future__ import annotations

import json

import pytest

from segstudio.services.job_events import (
    EVENT_TYPES,
    BatchEvent,
    EpochEvent,
    MessageEvent,
    ProgressEvent,
    from_json,
)

EVENTS = [
    BatchEvent(1, 2, 10, 0.25),
    EpochEvent({"epoch": 1, "epochs": 3, "fg_miou": None, "per_class_iou": [0.9, None]}),
    MessageEvent("loading"),
    ProgressEvent(3, 8, image_id=5),
    ProgressEvent(1, 2, format="keras"),
]


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: type(e).__name__)
def test_round_trip_through_a_json_line(event):
    line = json.dumps(event.to_json())
    assert from_json(json.loads(line)) == event


def test_every_type_is_registered_and_unknown_ones_are_refused():
    assert set(EVENT_TYPES) == {"batch", "epoch", "message", "progress"}
    with pytest.raises(ValueError, match="unknown job event"):
        from_json({"type": "result", "value": 1})
