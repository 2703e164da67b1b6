"""Work around a PySide6 reference-count bug that aborts the interpreter.

PySide6 6.12 (seen with Python 3.11) returns ``True`` from ``SignalInstance.emit()`` without
taking a reference, so every signal emitted from Python removes one reference to ``True``.
After a few thousand emissions -- a training run emits one per batch -- ``True`` is
"deallocated" and Python aborts ("Fatal Python error: bool_dealloc"), at the latest at exit.

:func:`pin_singletons` probes for the bug and, when present, gives ``True``, ``False`` and
``None`` a huge extra reference count (what Python 3.12 does for every such singleton: they
are "immortal" there). Those objects are never freed anyway, so nothing else changes.
"""

from __future__ import annotations

import ctypes
import sys

from PySide6 import QtCore

PIN = 1 << 40
_pinned = False


class _Probe(QtCore.QObject):
    ping = QtCore.Signal()


def emit_leaks_true(n: int = 16) -> bool:
    """True when emitting a signal from Python loses references to ``True``."""
    probe = _Probe()
    before = sys.getrefcount(True)
    for _ in range(n):
        probe.ping.emit()
    lost = before - sys.getrefcount(True)
    if lost > 0:  # give back what the probe took
        for _ in range(lost):
            ctypes.pythonapi.Py_IncRef(ctypes.py_object(True))
    return lost >= n


def pin_singletons() -> bool:
    """Make True/False/None effectively immortal when this PySide6 needs it; idempotent."""
    global _pinned
    if _pinned or sys.version_info >= (3, 12) or not emit_leaks_true():
        return _pinned
    for obj in (True, False, None):
        ctypes.c_ssize_t.from_address(id(obj)).value += PIN
    _pinned = True
    return True
