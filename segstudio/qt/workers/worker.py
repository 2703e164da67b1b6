"""The one background-work primitive: a function or generator in its own QThread, with
superqt's signal vocabulary -- ``started``, ``yielded(value)`` per generator step,
``returned(value)``, ``errored(exception)``, and ``finished`` always last.

Why not superqt's ``create_worker`` itself: with PySide6 6.12 on Python 3.11 a queued
``Signal(object)`` that carries ``None``, ``True`` or ``False`` itself (as superqt's
``returned``/internal signals do) loses a reference to that singleton on every emission,
and the interpreter aborts at exit ("none_dealloc" / "bool_dealloc"). Here every payload
crosses the thread inside a :class:`_Box`; the public signals are emitted on the GUI
thread, unboxed.

Stopping: ``quit()`` sets :attr:`Worker.abort`. A generator is closed at its next step;
with ``pass_abort=True`` the function gets ``abort=`` (a ``threading.Event``) and stops
itself -- e.g. training, which tells its child process and still returns its result.
"""

from __future__ import annotations

import inspect
import os
import threading
from collections.abc import Callable

from PySide6 import QtCore

#: niceness of worker threads (Linux: per thread, inherited by the threads they start --
#: TensorFlow's pools included), so the GUI thread wins the CPU when cores are scarce
WORKER_NICENESS = 10


def lower_thread_priority(niceness: int = WORKER_NICENESS) -> bool:
    """Make the calling thread (and threads it starts later) yield the CPU to the GUI thread."""
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, max(os.getpriority(os.PRIO_PROCESS, tid), niceness))
        return True
    except (AttributeError, OSError):  # not Linux / not permitted: keep the default priority
        return False


class _Box:
    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value


class _Runner(QtCore.QObject):
    yielded = QtCore.Signal(object)  # _Box
    returned = QtCore.Signal(object)  # _Box
    errored = QtCore.Signal(object)  # _Box(exception)
    done = QtCore.Signal()

    def __init__(self, func: Callable, args: tuple, kwargs: dict, abort: threading.Event, close_on_abort: bool):
        super().__init__()
        self.func, self.args, self.kwargs, self.abort = func, args, kwargs, abort
        self.close_on_abort = close_on_abort
        self.thread_id: int | None = None

    @QtCore.Slot()
    def run(self) -> None:
        self.thread_id = threading.get_ident()
        lower_thread_priority()
        try:
            result = self.func(*self.args, **self.kwargs)
            if inspect.isgenerator(result):
                gen, result = result, None
                while True:
                    if self.close_on_abort and self.abort.is_set():
                        gen.close()
                        break
                    try:
                        value = next(gen)
                    except StopIteration as stop:
                        result = stop.value
                        break
                    self.yielded.emit(_Box(value))
            self.returned.emit(_Box(result))
        except BaseException as e:  # reported by the owner
            self.errored.emit(_Box(e))
        finally:
            self.done.emit()
            # end this thread's event loop here, so wait() from the GUI thread returns even
            # when the GUI thread is blocked in it (window closing) and cannot run _on_done
            QtCore.QThread.currentThread().quit()


class Worker(QtCore.QObject):
    """Run ``func(*args, **kwargs)`` -- a function or a generator -- in a new QThread;
    ``start()`` returns at once. Signals arrive on the thread that made the worker."""

    started = QtCore.Signal()
    yielded = QtCore.Signal(object)
    returned = QtCore.Signal(object)
    errored = QtCore.Signal(object)
    finished = QtCore.Signal()

    def __init__(self, func: Callable, *args, pass_abort: bool = False,
                 parent: QtCore.QObject | None = None, **kwargs):
        super().__init__(parent)
        self.abort = threading.Event()
        if pass_abort:
            kwargs["abort"] = self.abort
        self._runner = _Runner(func, args, kwargs, self.abort, close_on_abort=not pass_abort)
        self.thread = QtCore.QThread()
        self.thread.setObjectName(f"segstudio-{getattr(func, '__name__', 'job')}")
        self._runner.moveToThread(self.thread)
        self.thread.started.connect(self._runner.run)
        # bound methods of this (GUI-thread) object: the connections are queued to it
        self._runner.yielded.connect(self._on_yielded)
        self._runner.returned.connect(self._on_returned)
        self._runner.errored.connect(self._on_errored)
        self._runner.done.connect(self._on_done)
        self._running = False

    def start(self) -> None:
        self._running = True
        self.thread.start()
        self.started.emit()

    def quit(self) -> None:
        """Ask the work to stop (a generator: at its next step)."""
        self.abort.set()

    cancel = quit

    @property
    def is_running(self) -> bool:
        return self._running and not self.thread.isFinished()

    running = is_running

    @property
    def thread_id(self) -> int | None:
        """The Python thread id the work ran on (None before it started)."""
        return self._runner.thread_id

    def wait(self, ms: int = 30000) -> bool:
        return self.thread.wait(ms)

    def _on_yielded(self, box: _Box) -> None:
        self.yielded.emit(box.value)

    def _on_returned(self, box: _Box) -> None:
        self.returned.emit(box.value)

    def _on_errored(self, box: _Box) -> None:
        self.errored.emit(box.value)

    def _on_done(self) -> None:
        self.thread.quit()
        self.thread.wait(5000)
        self._running = False
        self.finished.emit()
