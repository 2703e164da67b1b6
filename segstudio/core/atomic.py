"""Atomic file writes, the one way every layer writes a file (masks, models, checkpoints, cards).

A temp file is created exclusively (``O_EXCL``: never through a planted symlink) beside the
target with the target's mode, written, fsynced, then moved over the target with
``os.replace``. A failure (disk full, exception, Ctrl+C) removes the temp and leaves the old
file as it was. A writer killed outright leaves its temp behind; while it lives it holds an
``flock`` on it, so :func:`remove_stale_temps` can tell an orphan from a temp in use.
Stdlib only, so ``ml`` (which may import nothing but ``core``) uses it too.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import stat
import time
from collections.abc import Callable, Iterator
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: no flock; stale temps are told by age instead
    fcntl = None  # type: ignore[assignment]

#: ``.NAME.<8 hex>.tmp.SUFFIX`` (the suffix kept last: Keras only saves to ``*.keras``).
_TEMP_RE = re.compile(r"^\..+\.[0-9a-f]{8}\.tmp(\.[A-Za-z0-9]+)?$")
#: What earlier versions left: ``.STEM.<8 hex>.SUFFIX.tmp`` (masks), ``NAME.card.json.tmp``, ``NAME.tmp.keras``.
_LEGACY_TEMP_RE = re.compile(r"^(\..+\.[0-9a-f]{8}\.[A-Za-z0-9]+\.tmp|.+\.card\.json\.tmp|.+\.tmp\.keras)$")
#: Without flock, a temp untouched this long is taken as orphaned.
_STALE_AGE_S = 3600.0


def temp_name(target: Path) -> str:
    return f".{target.stem}.{secrets.token_hex(4)}.tmp{target.suffix}"


def is_temp_name(name: str) -> bool:
    """True for the names of temps this module creates (or earlier versions created)."""
    return bool(_TEMP_RE.match(name) or _LEGACY_TEMP_RE.match(name))


def _target_mode(target: Path) -> int:
    """The mode an existing target has; 0o666 minus the umask for a new one (not mkstemp's 0600)."""
    try:
        return stat.S_IMODE(target.stat().st_mode)
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _create_temp(target: Path, mode: int) -> tuple[Path, int]:
    """An empty temp beside ``target`` with ``mode``, created exclusively and held locked."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0) | getattr(os, "O_NOFOLLOW", 0)
    while True:
        tmp = target.with_name(temp_name(target))
        try:
            fd = os.open(tmp, flags, mode)
        except FileExistsError:
            continue
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)
        if hasattr(os, "fchmod"):
            os.fchmod(fd, mode)  # the umask must not narrow (or widen) the target's mode
        return tmp, fd


def _fsync_dir(folder: Path) -> None:
    if os.name != "posix":
        return
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """Yield a temp path in the target's folder; on success it replaces the target.

    Writers write the temp by its path (PIL, tifffile, Keras all do); a crash or exception
    leaves the old file untouched and removes the temp.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    mode = _target_mode(target)
    tmp, fd = _create_temp(target, mode)
    try:
        yield tmp
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.chmod(tmp, mode)  # a writer that recreated the file got the umask's mode
        os.replace(tmp, target)
        _fsync_dir(target.parent)
    except OSError as e:
        if e.errno is None:
            raise
        # name the file being saved, not the temp (a full disk: "x.png: No space left on device")
        raise OSError(e.errno, e.strerror, str(target)) from e
    finally:
        os.close(fd)  # releases the lock
        with contextlib.suppress(FileNotFoundError):
            if tmp.exists() or tmp.is_symlink():
                tmp.unlink()


def write_atomic(target: str | Path, writer: Callable[[Path], None]) -> None:
    """Call ``writer(tmp_path)`` then move the result over ``target`` atomically."""
    with atomic_path(target) as tmp:
        writer(tmp)


def write_text_atomic(target: str | Path, text: str) -> None:
    write_atomic(target, lambda p: p.write_text(text, encoding="utf-8"))


def copy_atomic(source: str | Path, target: str | Path) -> None:
    """Copy ``source`` over ``target``; a full disk leaves the old ``target`` intact."""
    write_atomic(target, lambda p: shutil.copyfile(source, p))


def _orphaned(path: Path) -> bool:
    """True when no live writer holds ``path`` (its writer was killed)."""
    if fcntl is None:
        return time.time() - path.stat().st_mtime > _STALE_AGE_S
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        held, now = os.fstat(fd), path.lstat()  # still the file we locked, not a new temp
        return (held.st_dev, held.st_ino) == (now.st_dev, now.st_ino)
    finally:
        os.close(fd)


def remove_stale_temps(folder: str | Path) -> list[Path]:
    """Remove the orphaned temps (of this module's pattern only) directly in ``folder``."""
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        if not is_temp_name(entry.name):
            continue
        path = Path(entry.path)
        try:
            if entry.is_symlink() or not entry.is_file(follow_symlinks=False):
                continue  # never follow or delete what we did not create
            if _orphaned(path):
                path.unlink()
                removed.append(path)
        except OSError:
            continue  # read-only folder, raced with another cleaner: leave it
    return removed
