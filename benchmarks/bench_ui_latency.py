"""UI responsiveness while training: the longest gap between event-loop ticks.

Opens the real main window (offscreen by default) on a generated demo project, starts a
training run from the Training panel (worker QThread), and runs a 10 ms QTimer on the GUI
thread from the Start click to the end of the run (TensorFlow import, data loading, model
build and tracing included; the numbers from the first batch on are printed too). A blocked event loop shows as a
long gap between ticks. With ``--paint`` a brush stroke is also painted on the canvas every
50 ms, as a user would while the model trains. Target: longest gap < 100 ms.

    .venv/bin/python benchmarks/bench_ui_latency.py
    .venv/bin/python benchmarks/bench_ui_latency.py --paint --epochs 3 --steps 30 --filters 16 --depth 4
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--images", type=int, default=24)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--crop", type=int, default=128)
    ap.add_argument("--filters", type=int, default=8)
    ap.add_argument("--depth", type=int, default=3)
    ap.add_argument("--interval-ms", type=int, default=10)
    ap.add_argument("--paint", action="store_true", help="also paint a brush dab every 50 ms")
    ap.add_argument("--project", help="existing project folder (default: a new demo project)")
    ap.add_argument("--json", help="also write the numbers to this file")
    ap.add_argument("--profile", help="profile the GUI thread into this .pstats file")
    args = ap.parse_args(argv)

    from PySide6 import QtCore

    from segstudio.qt.app import make_app
    from segstudio.qt.main_window import MainWindow
    from segstudio.services.demo import make_demo

    tmp = tempfile.TemporaryDirectory(prefix="segstudio-bench-")
    QtCore.QSettings.setPath(QtCore.QSettings.Format.IniFormat, QtCore.QSettings.Scope.UserScope, tmp.name)
    if args.project:
        root = Path(args.project)
    else:
        root = Path(tmp.name) / "demo"
        make_demo(root, n=args.images, size=args.size, seed=1)[0].close()
    app = make_app()
    win = MainWindow(dialogs=False, restore_layout=False)
    win.resize(1400, 900)
    win.show()
    if not win.open_project(root):
        print("could not open", root, win.errors.history, file=sys.stderr)
        return 1
    win.open_first_image()
    panel = win.learning.training
    panel.set_config(start="new", epochs=args.epochs, steps_per_epoch=args.steps, batch=args.batch,
                     crop=args.crop, filters=args.filters, depth=args.depth)

    ticks: list[float] = []
    batch_times: list[float] = []
    epoch_seconds: list[float] = []
    state = {"active": False, "done": False, "result": None}

    cpu: list[float] = []  # the GUI thread's own CPU time at each tick

    def tick() -> None:
        if state["active"]:
            ticks.append(time.perf_counter())
            cpu.append(time.thread_time())

    timer = QtCore.QTimer()
    timer.setTimerType(QtCore.Qt.TimerType.PreciseTimer)
    timer.setInterval(args.interval_ms)
    timer.timeout.connect(tick)
    timer.start()

    rng = np.random.default_rng(0)

    def paint() -> None:
        model = win.session.model
        if not state["active"] or model is None:
            return
        h, w = model.shape
        x, y = float(rng.uniform(0, w)), float(rng.uniform(0, h))
        with model.stroke("bench"):
            model.paint_segment((x, y), (x + 6, y + 3), 5, 1)

    painter = QtCore.QTimer()
    painter.setInterval(50)
    painter.timeout.connect(paint)
    if args.paint:
        painter.start()

    def on_batch(*_a) -> None:
        if not batch_times:
            state["first_batch_tick"] = len(ticks)
        batch_times.append(time.perf_counter())

    epoch_marks: list[tuple[float, str]] = []

    def on_epoch(report: dict) -> None:
        epoch_seconds.append(report["seconds"])
        epoch_marks.append((time.perf_counter(), f"epoch {report['epoch']} report"))

    def on_finished(result: dict) -> None:
        state["active"] = False
        ticks.append(time.perf_counter())
        cpu.append(time.thread_time())
        state["result"] = result

    panel.runFinished.connect(on_finished)
    win.learning.session.trainingBatch.connect(on_batch)
    win.learning.session.trainingEpoch.connect(on_epoch)
    prof = None
    if args.profile:
        import cProfile

        prof = cProfile.Profile()
        prof.enable()
    t_start = time.perf_counter()
    state["active"] = True  # from the Start click: TF import, data, model build and tracing count too
    ticks.append(t_start)
    cpu.append(time.thread_time())
    panel.start()
    while panel.running or state["result"] is None:
        app.processEvents(QtCore.QEventLoop.ProcessEventsFlag.AllEvents, 50)
        if win.errors.history:
            print("error:", win.errors.history, file=sys.stderr)
            break
        time.sleep(0.001)
    total = time.perf_counter() - t_start
    if prof is not None:
        prof.disable()
        prof.dump_stats(args.profile)
    timer.stop()
    painter.stop()
    gaps = np.diff(np.asarray(ticks)) * 1000 if len(ticks) > 1 else np.zeros(1)
    k0 = state.get("first_batch_tick", 0)
    train_gaps = gaps[k0:] if gaps[k0:].size else gaps
    events = sorted([(t, f"batch {k + 1}") for k, t in enumerate(batch_times)] + epoch_marks)
    worst = []
    for k in np.argsort(gaps)[::-1][:5]:
        t_end = ticks[k + 1]
        before = [name for t, name in events if t <= t_end]
        worst.append({"gap_ms": round(float(gaps[k]), 1), "at_s": round(t_end - ticks[0], 2),
                      "after": before[-1] if before else "start"})
    t_ticks = np.asarray(ticks)

    # GUI-thread CPU per gap: the work the GUI thread did itself, without the time it waited
    # for a core or the GIL (on a loaded machine the wall gaps are mostly that wait)
    busy = np.diff(np.asarray(cpu)) * 1000 if len(cpu) > 1 else np.zeros(1)

    def max_near(values: np.ndarray, t: float, before: float, after: float) -> float:
        """The largest of ``values`` (per gap) over the gaps overlapping [t - before, t + after]."""
        if len(t_ticks) < 2:
            return 0.0
        hit = (t_ticks[1:] >= t - before) & (t_ticks[:-1] <= t + after)
        return float(values[hit].max()) if hit.any() else 0.0

    # the epoch mark comes after the panel's slots: the gap they cause holds it
    epoch_gaps = [max_near(gaps, t, 1.0, 1.0) for t, _ in epoch_marks]
    epoch_busy = [max_near(busy, t, 1.0, 1.0) for t, _ in epoch_marks]
    start_gap, start_busy = max_near(gaps, t_start, 0.0, 1.0), max_near(busy, t_start, 0.0, 1.0)
    rate = (len(batch_times) - 1) / (batch_times[-1] - batch_times[0]) if len(batch_times) > 1 else 0.0
    out = {
        "ticks": int(len(ticks)), "interval_ms": args.interval_ms, "paint": args.paint,
        "gap_max_ms": float(gaps.max()), "gap_p50_ms": float(np.percentile(gaps, 50)),
        "gap_p95_ms": float(np.percentile(gaps, 95)), "gap_p99_ms": float(np.percentile(gaps, 99)),
        "gaps_over_100ms": int((gaps > 100).sum()), "worst_gaps": worst,
        "start_gap_max_ms": start_gap, "epoch_end_gap_max_ms": [round(g, 1) for g in epoch_gaps],
        "gui_cpu_per_gap_max_ms": float(busy.max()), "start_gui_cpu_max_ms": start_busy,
        "epoch_end_gui_cpu_max_ms": [round(g, 1) for g in epoch_busy],
        "batches_phase_gap_max_ms": float(train_gaps.max()),
        "batches_phase_gap_p99_ms": float(np.percentile(train_gaps, 99)),
        "batches": len(batch_times), "batches_per_s": rate,
        "seconds_per_epoch": [round(s, 2) for s in epoch_seconds],
        "run_seconds_incl_startup": total, "status": (state["result"] or {}).get("status"),
        "model": f"{args.filters} filters, depth {args.depth}", "batch": args.batch, "crop": args.crop,
        "cpus": os.cpu_count(),
    }
    print(f"UI latency from Start to the end of the run ({out['ticks']} ticks of a {args.interval_ms} ms timer"
          f"{', painting every 50 ms' if args.paint else ''}):")
    print(f"  longest gap {out['gap_max_ms']:.1f} ms · p50 {out['gap_p50_ms']:.1f} · p95 {out['gap_p95_ms']:.1f}"
          f" · p99 {out['gap_p99_ms']:.1f} ms · gaps > 100 ms: {out['gaps_over_100ms']}")
    print(f"  at the Start click (first second): longest gap {start_gap:.1f} ms · at each epoch end (±1 s): "
          + ", ".join(f"{g:.1f}" for g in epoch_gaps) + " ms")
    print(f"  GUI-thread CPU in one gap: longest {out['gui_cpu_per_gap_max_ms']:.1f} ms · at Start "
          f"{start_busy:.1f} ms · at each epoch end " + ", ".join(f"{g:.1f}" for g in epoch_busy) + " ms")
    print(f"  from the first batch on: longest gap {out['batches_phase_gap_max_ms']:.1f} ms · "
          f"p99 {out['batches_phase_gap_p99_ms']:.1f} ms")
    print("  longest gaps:", ", ".join(f"{w['gap_ms']} ms at {w['at_s']} s (after {w['after']})" for w in worst))
    print(f"  training: {out['batches']} batches at {rate:.2f} batches/s (batch {args.batch}, crop {args.crop}, "
          f"{out['model']}); epochs {out['seconds_per_epoch']} s; run {total:.1f} s incl. start-up; "
          f"status {out['status']}")
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1))
    win.session.autosave = False
    if win.session.model is not None:
        win.session.model.mark_saved()
    win.close()
    return 0 if out["gap_max_ms"] < 100 else 2


if __name__ == "__main__":
    sys.exit(main())
