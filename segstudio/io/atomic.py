"""Atomic file writes: the helper lives in core (ml uses it too); io callers keep this name."""

from segstudio.core.atomic import atomic_path, copy_atomic, write_atomic, write_text_atomic

__all__ = ["atomic_path", "copy_atomic", "write_atomic", "write_text_atomic"]
