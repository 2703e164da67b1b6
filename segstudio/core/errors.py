"""Errors that name the file and the problem, so every layer reports bad input the same way."""

from __future__ import annotations

from pathlib import Path


class SegstudioError(Exception):
    """Base class for errors shown to the user (no traceback needed)."""


class BadFileError(SegstudioError):
    """A file that cannot be used: unreadable, wrong size, unknown labels..."""

    def __init__(self, path: str | Path, problem: str):
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class ProjectError(SegstudioError):
    """A project that cannot be opened or changed."""
