"""A function or generator run in its own QThread, reporting through queued signals.

Why not superqt's ``create_worker`` here: with PySide6 6.12 on Python 3.11 a queued
``Signal(object)`` that carries ``None``, ``True`` or ``False`` itself (as superqt's
``returned``/internal signals do) loses a reference to that singleton on every emission,
and the interpreter aborts at exit ("none_dealloc" / "bool_dealloc"). Every payload here
travels inside a :class:`_Box`, so no bare singleton ever crosses a thread.
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

    def __init__(self, value):  # noqa: ANN001
        self.value = value


class _Runner(QtCore.QObject):
    yielded = QtCore.Signal(object)  # _Box
    returned = QtCore.Signal(object)  # _Box
    error = QtCore.Signal(object)  # _Box(exception)
    done = QtCore.Signal()

    def __init__(self, func: Callable, args: tuple, kwargs: dict, abort: threading.Event):
        super().__init__()
        self.func, self.args, self.kwargs, self.abort = func, args, kwargs, abort

    @QtCore.Slot()
    def run(self) -> None:
        lower_thread_priority()
        try:
            result = self.func(*self.args, **self.kwargs)
            if inspect.isgenerator(result):
                gen, result = result, None
                while True:
                    if self.abort.is_set():
                        gen.close()
                        break
                    try:
                        value = next(gen)
                    except StopIteration as stop:
                        result = stop.value
                        break
                    self.yielded.emit(_Box(value))
            self.returned.emit(_Box(result))
        except BaseException as e:  # noqa: BLE001 - reported by the owner
            self.error.emit(_Box(e))
        finally:
            self.done.emit()
            # end this thread's event loop here, so wait() from the GUI thread returns even
            # when the GUI thread is blocked in it (window closing) and cannot run _on_done
            QtCore.QThread.currentThread().quit()


class BackgroundJob(QtCore.QObject):
    """Run ``func(*args, **kwargs)`` -- a function or a generator -- in a new QThread.

    Callbacks run on the GUI thread: ``on_yield(value)`` per generator step,
    ``on_return(value)``, ``on_error(exception)``, ``on_finish()`` (always last); the
    ``finished()`` signal follows. ``cancel()`` stops a generator between yields.
    """

    finished = QtCore.Signal()

    def __init__(self, func: Callable, *args, on_yield: Callable | None = None,
                 on_return: Callable | None = None, on_error: Callable | None = None,
                 on_finish: Callable | None = None, parent: QtCore.QObject | None = None, **kwargs):
        super().__init__(parent)
        self.callbacks = {"yield": on_yield, "return": on_return, "error": on_error, "finish": on_finish}
        self._abort = threading.Event()
        self._runner = _Runner(func, args, kwargs, self._abort)
        self.thread = QtCore.QThread()
        self.thread.setObjectName(f"segstudio-{getattr(func, '__name__', 'job')}")
        self._runner.moveToThread(self.thread)
        self.thread.started.connect(self._runner.run)
        self._runner.yielded.connect(self._on_yield)
        self._runner.returned.connect(self._on_return)
        self._runner.error.connect(self._on_error)
        self._runner.done.connect(self._on_done)
        self._running = False

    def start(self) -> None:
        self._running = True
        self.thread.start()

    def cancel(self) -> None:
        self._abort.set()

    @property
    def running(self) -> bool:
        return self._running and not self.thread.isFinished()

    def wait(self, ms: int = 30000) -> bool:
        return self.thread.wait(ms)

    def _call(self, name: str, box: _Box | None = None) -> None:
        cb = self.callbacks[name]
        if cb is not None:
            cb() if box is None else cb(box.value)

    def _on_yield(self, box: _Box) -> None:
        self._call("yield", box)

    def _on_return(self, box: _Box) -> None:
        self._call("return", box)

    def _on_error(self, box: _Box) -> None:
        self._call("error", box)

    def _on_done(self) -> None:
        self.thread.quit()
        self.thread.wait(5000)
        self._running = False
        self._call("finish")
        self.finished.emit()
