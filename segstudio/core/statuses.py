"""The words the project stores for an image's and a run's state, as ``StrEnum`` members
(they compare equal to the plain strings already in project databases)."""

from __future__ import annotations

from enum import StrEnum


class ImageStatus(StrEnum):
    UNLABELLED = "unlabelled"
    LABELLED = "labelled"
    PREDICTED = "predicted"
    CORRECTED = "corrected"


class RunStatus(StrEnum):
    RUNNING = "running"
    FINISHED = "finished"
    CANCELLED = "cancelled"
    FAILED = "failed"
    INTERRUPTED = "interrupted"  # its process died without recording an end
