"""The one background-work primitive: superqt's signal vocabulary, finished always last,
errors as signals, quit() stopping a generator between steps."""

from __future__ import annotations

import threading

import pytest

from segstudio.qt.workers.worker import Worker


def _record(worker: Worker) -> list:
    seen: list = []
    worker.started.connect(lambda: seen.append(("started",)))
    worker.yielded.connect(lambda v: seen.append(("yielded", v)))
    worker.returned.connect(lambda v: seen.append(("returned", v)))
    worker.errored.connect(lambda e: seen.append(("errored", type(e).__name__)))
    worker.finished.connect(lambda: seen.append(("finished",)))
    return seen


def steps(n: int):  # a generator
    yield from range(n)
    return "done"


def test_generator_signals_in_order_with_finished_last(qtbot):
    w = Worker(steps, 3)
    seen = _record(w)
    with qtbot.waitSignal(w.finished, timeout=5000):
        w.start()
    assert seen == [("started",), ("yielded", 0), ("yielded", 1), ("yielded", 2), ("returned", "done"), ("finished",)]
    assert w.thread_id not in (None, threading.get_ident()) and not w.is_running


def test_none_and_bools_cross_the_thread(qtbot):
    w = Worker(lambda: None)
    seen = _record(w)
    with qtbot.waitSignal(w.finished, timeout=5000):
        w.start()
    assert ("returned", None) in seen


@pytest.mark.parametrize("pass_abort", [False, True])
def test_errors_are_signals_and_finished_still_comes(qtbot, pass_abort):
    def fail(abort=None):
        raise ValueError("bad")

    w = Worker(fail, pass_abort=pass_abort)
    seen = _record(w)
    with qtbot.waitSignal(w.finished, timeout=5000):
        w.start()
    assert seen[-2:] == [("errored", "ValueError"), ("finished",)]


def test_quit_stops_a_generator_between_steps(qtbot):
    gate = threading.Event()

    def slow():
        for i in range(1000):
            gate.wait(1)
            yield i

    w = Worker(slow)
    seen = _record(w)
    w.start()
    w.quit()
    gate.set()
    qtbot.waitUntil(lambda: ("finished",) in seen, timeout=5000)
    assert len([s for s in seen if s[0] == "yielded"]) < 5
