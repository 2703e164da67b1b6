"""Atomic file writes: a temp file beside the target, fsync, then os.replace."""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from collections.abc import Callable, Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """Yield a temp path in the target's folder; on success it replaces the target.

    A crash or exception leaves the old file untouched and removes the temp file.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp_path = _create_temp(target)
    try:
        yield tmp_path
        with open(tmp_path, "rb+") as f:
            os.fsync(f.fileno())
        with contextlib.suppress(OSError):  # keep an overwritten file's permissions
            os.chmod(tmp_path, stat.S_IMODE(target.stat().st_mode))
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def _create_temp(target: Path) -> Path:
    """An empty temp file beside ``target``, created with mode 0o666 minus the umask
    (``tempfile.mkstemp`` would make every saved file 0600, unreadable to others)."""
    while True:
        tmp = target.with_name(f".{target.stem}.{secrets.token_hex(4)}{target.suffix}.tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
        except FileExistsError:
            continue
        os.close(fd)
        return tmp


def write_atomic(target: str | Path, writer: Callable[[Path], None]) -> None:
    """Call ``writer(tmp_path)`` then move the result over ``target`` atomically."""
    with atomic_path(target) as tmp:
        writer(tmp)


def write_text_atomic(target: str | Path, text: str) -> None:
    write_atomic(target, lambda p: p.write_text(text, encoding="utf-8"))
