"""Training from the window: a tiny run started from the panel trains in a worker thread,
progress arrives as signals, the curves update, Cancel stops it, the database records it,
and the run history shows and compares runs."""

from __future__ import annotations

import os
import threading
from dataclasses import fields

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import pytest
from PySide6 import QtCore

from segstudio.qt.widgets.training_plots import heatmap_rgba, iou_matrix
from segstudio.services.job_events import BatchEvent, EpochEvent

TINY = dict(filters=4, depth=2, crop=32, batch=2, steps_per_epoch=2, epochs=2)
TIMEOUT = 180_000


def _collect(worker, kind, sink: list) -> None:
    """Record the worker's events of one kind (services.job_events) as field tuples."""
    def slot(event):
        if isinstance(event, kind):
            sink.append(tuple(getattr(event, f.name) for f in fields(event)))
    worker.yielded.connect(slot)


def test_run_from_the_panel_reports_progress_updates_curves_and_records_the_run(qtbot, window):
    panel = window.learning.training
    panel.set_config(start="new", **TINY)
    ticks = []
    timer = QtCore.QTimer()
    timer.setInterval(10)
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start()
    batches, epochs = [], []
    with qtbot.waitSignal(panel.runStarted, timeout=5000):
        panel.start()
    job = window.learning.session.training_job
    assert job is not None and panel.running and not panel.start_button.isEnabled()
    # nothing in the form changes while it runs: a value changed then would not apply
    settings = (panel.strength_spin, panel.rare_spin, panel.minutes_spin, panel.fixed_epochs, panel.crop_spin,
                panel.epochs_spin, panel.loss_combo)
    assert not any(w.isEnabled() for w in settings)
    _collect(job, BatchEvent, batches)
    _collect(job, EpochEvent, epochs)
    with qtbot.waitSignal(panel.runFinished, timeout=TIMEOUT) as done:
        pass
    timer.stop()
    result = done.args[0]
    assert result["status"] == "finished", result
    qtbot.waitUntil(lambda: not panel.running, timeout=10000)
    # editable again, the budget field still off for a run of exact epochs
    assert all(w.isEnabled() for w in settings if w is not panel.minutes_spin) and not panel.minutes_spin.isEnabled()
    # progress came from the training thread, as signals, while the GUI loop kept ticking
    assert [(e, s) for e, s, _steps, _loss in batches] == [(1, 1), (1, 2), (2, 1), (2, 2)]
    assert job.thread_id is not None and job.thread_id != threading.get_ident()
    assert len(ticks) > 20
    # curves: per-batch loss, per-epoch losses, fg mIoU beside pixel accuracy, per-class IoU
    plots = panel.plots
    assert len(plots.batch_curve.getData()[0]) == 4
    assert list(plots.fg_curve.getData()[0]) == [1.0, 2.0]
    assert len(plots.acc_curve.getData()[0]) == 2 and len(plots.val_curve.getData()[0]) == 2
    iou = epochs[-1][0]["per_class_iou"]
    assert len(iou) == window.session.table.num_classes
    drawn = sorted(cid for cid, c in plots.class_curves.items() if c.getData()[0] is not None and len(c.getData()[0]))
    defined = [c for c in range(len(iou)) if any(e[0]["per_class_iou"][c] is not None for e in epochs)]
    assert drawn == defined
    assert plots.heat_item.image.shape[:2] == (len(iou), 2)
    assert plots.alarm_visible == bool(epochs[-1][0]["alarm"])
    # the database has the run and both epochs
    project = window.session.project
    run = project.run(result["run_id"])
    assert run.status == "finished" and run.model_path and run.config["filters"] == 4
    recorded = project.epochs(run.id)
    assert [e.epoch for e in recorded] == [1, 2]
    assert recorded[-1].fg_miou == pytest.approx(epochs[-1][0]["fg_miou"])
    # the next run defaults to fine-tuning from this one; the history lists it
    qtbot.waitUntil(lambda: panel.start_combo.currentData() == f"finetune:{run.id}", timeout=5000)
    qtbot.waitUntil(lambda: window.learning.history.view.rowCount() == 1, timeout=5000)
    qtbot.waitUntil(lambda: window.learning.session.active_run is not None, timeout=5000)
    assert window.learning.session.active_run.id == run.id
    assert window.learning.predictions.predict_current.isEnabled()


def test_cancel_stops_the_run_and_keeps_the_checkpoint(qtbot, window):
    panel = window.learning.training
    panel.set_config(start="new", **{**TINY, "epochs": 40})
    epochs = []
    panel.start()
    job = window.learning.session.training_job
    _collect(job, EpochEvent, epochs)
    qtbot.waitUntil(lambda: len(epochs) >= 1, timeout=TIMEOUT)
    with qtbot.waitSignal(panel.runFinished, timeout=TIMEOUT) as done:
        panel.cancel()
    assert done.args[0]["status"] == "cancelled"
    qtbot.waitUntil(lambda: not panel.running, timeout=10000)
    run = window.session.project.run(done.args[0]["run_id"])
    assert run.status == "cancelled" and "cancelled" in (run.message or "")
    n = len(window.session.project.epochs(run.id))
    assert 1 <= n < 40
    assert run.checkpoint_path and os.path.exists(run.checkpoint_path)
    # a cancelled run with a checkpoint can be resumed from the panel
    qtbot.waitUntil(lambda: panel.start_combo.findData(f"resume:{run.id}") >= 0, timeout=5000)
    assert panel.start_button.isEnabled() and not panel.cancel_button.isEnabled()


def test_cancel_mid_epoch_stops_within_a_batch_or_two(qtbot, window):
    from segstudio.qt.panels.training_panel import CANCELLING

    panel = window.learning.training
    steps = 400
    panel.set_config(start="new", **{**TINY, "steps_per_epoch": steps, "epochs": 1})
    batches, after = [], []
    panel.start()
    job = window.learning.session.training_job
    _collect(job, BatchEvent, batches)

    def count_after(event):
        if isinstance(event, BatchEvent):
            after.append(event.step)
    qtbot.waitUntil(lambda: len(batches) >= 3, timeout=TIMEOUT)
    with qtbot.waitSignal(panel.runFinished, timeout=TIMEOUT) as done:
        panel.cancel()
        job.yielded.connect(count_after)
        qtbot.wait(50)  # batches already queued still arrive; the Cancelling line stays
        assert panel.status.text() == CANCELLING
    assert done.args[0]["status"] == "cancelled"
    # the child stops after the batch it is in; one or two more may be in the pipe already
    # (measured under a 2-core load: 1; with the old 0.1 s cancel poll: 6 to 10)
    assert batches[-1][1] < steps and len(after) <= 5, (batches[-1], after)
    assert panel.status.text().startswith(f"Run {done.args[0]['run_id']} cancelled")
    run = window.session.project.run(done.args[0]["run_id"])
    assert run.status == "cancelled" and "during epoch 1" in (run.message or "")


def _child_pids() -> list[int]:
    """This process's children (Linux /proc)."""
    pids = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            if ppid == os.getpid():
                pids.append(int(d))
    return pids


def test_a_killed_training_child_is_named_logged_and_the_history_shows_it(qtbot, window):
    import signal
    from pathlib import Path

    from segstudio.qt.panels.run_history import COLUMNS

    panel, ls = window.learning.training, window.learning.session
    before = set(_child_pids())
    panel.set_config(start="new", **{**TINY, "steps_per_epoch": 400, "epochs": 1})
    batches = []
    panel.start()
    _collect(ls.training_job, BatchEvent, batches)
    qtbot.waitUntil(lambda: len(batches) >= 1, timeout=TIMEOUT)
    (child,) = set(_child_pids()) - before
    with qtbot.waitSignal(ls.trainingDone, timeout=TIMEOUT):
        os.kill(child, signal.SIGKILL)  # what the kernel's out-of-memory killer does
    text = window.errors.history[-1]
    assert "the training process was killed (signal 9) — most likely out of memory; " \
           "try a smaller batch or crop" in text
    log = Path(text.split("its full log: ")[1].rstrip(")"))
    root = window.session.project.root
    assert log.parent == root / "logs" and log.exists()
    noise = [line for line in log.read_text().splitlines() if line.strip()]
    assert noise and not any(line in text for line in noise)  # TF's lines: in the log only
    assert "\n" not in text
    hist = window.learning.history
    status = COLUMNS.index("Status")
    qtbot.waitUntil(lambda: hist.view.rowCount() == 1
                    and hist.view.item(0, status).text() == "interrupted", timeout=10000)


def test_history_shows_one_run_and_compares_two(qtbot, window):
    project = window.session.project
    for k, fg in enumerate((0.2, 0.5)):
        rid = project.create_run({"filters": 4, "depth": 2, "epochs": 2}, [1.0] * 5)
        for e in (1, 2):
            project.add_epoch(rid, e, 1.0 / e, 1.2 / e, fg * e / 2, 0.98, [0.9, fg * e / 2, None, 0.1 * k],
                              "foreground collapse: test" if (k, e) == (0, 2) else None, 1.0)
        project.finish_run(rid, "finished", "ok")
    hist = window.learning.history
    window.learning.session.refresh_models()
    assert hist.view.rowCount() == 2
    assert hist.view.item(0, 0).text() == "2" and hist.view.item(0, 5).text() == "0.500"
    with qtbot.waitSignal(hist.runsSelected, timeout=2000) as sel:
        hist.select_runs([1])
    assert sel.args[0] == [1]
    plots = window.learning.training.plots
    assert list(plots.fg_curve.getData()[1]) == pytest.approx([0.1, 0.2])
    assert plots.alarm_visible and "collapse" in plots.banner.text()
    hist.select_runs([1, 2])
    assert hist.compared() == 2


def test_plot_helpers_and_alarm_banner(qtbot):
    epochs = [{"epoch": 1, "per_class_iou": [0.5, None]}, {"epoch": 2, "per_class_iou": [1.0, 0.0]}]
    m = iou_matrix(epochs, 2)
    assert np.isnan(m[1, 0]) and m[0, 1] == 1.0
    rgba = heatmap_rgba(m)
    assert rgba.shape == (2, 2, 4) and tuple(rgba[1, 0]) == (55, 55, 60, 255)
    assert tuple(rgba[0, 1]) != tuple(rgba[1, 1])  # IoU 1 and IoU 0 differ in colour
    from segstudio.qt.widgets.training_plots import TrainingPlots

    p = TrainingPlots()
    qtbot.addWidget(p)
    p.show()
    p.add_epoch({"epoch": 1, "epochs": 3, "train_loss": 1.0, "val_loss": 1.1, "per_class_iou": [0.99, 0.0],
                 "fg_miou": 0.0, "pixel_accuracy": 0.99, "alarm": "foreground collapse: 0.0% as many", "seconds": 1})
    assert p.alarm_visible and "epoch 1" in p.banner.text()
    p.add_epoch({"epoch": 2, "epochs": 3, "train_loss": 0.5, "val_loss": 0.6, "per_class_iou": [0.99, 0.3],
                 "fg_miou": 0.3, "pixel_accuracy": 0.99, "alarm": None, "seconds": 1})
    assert not p.alarm_visible


def test_an_epoch_report_redraws_each_class_curve_once(qtbot):
    """Setting the legend's validation pixels used to emit itemChanged per item change, each
    redrawing all the curves: ~100 redraws of 32 curves per epoch report on the GUI thread."""
    from segstudio.core.classes import ClassTable
    from segstudio.qt.widgets.training_plots import TrainingPlots

    p = TrainingPlots()
    qtbot.addWidget(p)
    p.reset(ClassTable.from_ids(range(32)))
    p.add_epoch({"epoch": 1, "epochs": 3, "train_loss": 1.0, "per_class_iou": [0.5] * 32, "seconds": 1})
    calls = []
    curve = p.class_curves[5]
    original = curve.setData
    curve.setData = lambda *a, **k: (calls.append(1), original(*a, **k))
    p.add_epoch({"epoch": 2, "epochs": 3, "train_loss": 0.9, "per_class_iou": [0.6] * 32, "seconds": 1,
                 "val_pixels": [1000] * 31 + [3]})
    assert len(calls) == 1
    assert "3 px" in p.class_list.item(31).text()  # the legend still shows the pixels


def test_device_list_comes_from_tensorflow(qtbot, window):
    panel = window.learning.training
    window.learning.show("training")
    qtbot.waitUntil(lambda: panel.device_combo.count() > 1 or bool(window.errors.history), timeout=60000)
    assert not window.errors.history, window.errors.history
    assert panel.device_combo.itemData(0) == "auto"
    assert panel.device_combo.findData("/CPU:0") > 0
    assert "TensorFlow" in panel.device_label.text()


def test_many_signal_emissions_do_not_abort_the_interpreter(tmp_path):
    """A long run emits a signal per batch; with PySide6's emit() leak on True unpatched,
    ~10^5 emissions abort Python ("bool_dealloc"). Own process, so an abort fails the test."""
    import subprocess
    import sys
    from pathlib import Path

    script = tmp_path / "emit.py"
    script.write_text(
        "import sys\n"
        "import segstudio.qt\n"
        "from PySide6 import QtCore\n"
        "class O(QtCore.QObject):\n"
        "    s = QtCore.Signal(int, int, int, float)\n"
        "o = O()\n"
        "o.s.connect(lambda *a: None)\n"
        "for i in range(100000):\n"
        "    o.s.emit(1, i, 3, 0.5)\n"
        "print('done')\n")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    proc = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and "done" in proc.stdout, proc.stderr[-2000:]


def test_closing_the_window_mid_run_cancels_the_run_and_waits_for_it(qtbot, window, demo_dir):
    from segstudio.store.project import Project

    panel = window.learning.training
    panel.set_config(start="new", **{**TINY, "epochs": 40})
    batches = []
    panel.start()
    job = window.learning.session.training_job
    _collect(job, BatchEvent, batches)
    qtbot.waitUntil(lambda: len(batches) >= 1, timeout=TIMEOUT)
    window.close()  # closeEvent: cancel, wait for the thread (and the child process)
    assert not job.thread.isRunning()
    with Project.open(demo_dir) as project:
        run = project.runs()[-1]
        assert run.status == "cancelled" and len(project.epochs(run.id)) < 40


def test_the_panel_starts_at_the_plan_and_sends_only_what_the_user_changed(qtbot, window):
    from segstudio.services.planning import plan_for_project

    panel = window.learning.training
    plan = plan_for_project(window.session.project)
    qtbot.waitUntil(lambda: panel.plan is not None, timeout=5000)
    planned = plan.config()
    assert panel.crop_spin.value() == planned["crop"] and panel.batch_spin.value() == planned["batch"]
    assert panel.loss_combo.currentText() == planned["loss"]
    assert panel.lr_spin.value() == pytest.approx(planned["lr"])
    # each choice's reason is shown under its row
    assert panel.reasons["schedule"].text().startswith("crop: ") and not panel.reasons["lr"].isHidden()
    assert panel.config() == {"minutes": planned["minutes"]}  # nothing changed: the run plans it all
    # a planned value finer than the spin box shows (0.389 as 0.39) is still the plan's
    from segstudio.core.plan import Plan

    fine = Plan.from_json([{**c, "value": 0.389} if c["key"] == "rare_fraction" else c for c in plan.to_json()])
    panel.set_plan(fine)
    assert panel.rare_spin.value() == pytest.approx(0.39) and "yours" not in panel.reasons["rare_fraction"].text()
    assert panel.config() == {"minutes": planned["minutes"]}
    panel.set_plan(plan)
    panel.set_config(lr=0.02, rare_fraction=0.25)
    assert panel.config() == {"lr": 0.02, "rare_fraction": 0.25, "minutes": planned["minutes"]}
    # augmentation is not a plan choice: sent only when it is not the default
    panel.set_config(augment="flips+intensity+scale")
    assert panel.config()["augment"] == "flips+intensity+scale"
    assert panel.augment_combo.currentText() == "flips, turns, intensity, zoom"
    panel.set_config(augment="flips")
    assert "augment" not in panel.config()
    with pytest.raises(ValueError, match="no augmentation option 'flips\\+blur'"):
        panel.set_config(augment="flips+blur")  # an unknown spec raises; the menu keeps its choice
    assert panel.augment_combo.currentData() == "flips"
    assert "yours (the plan: " in panel.reasons["lr"].text()
    assert panel.reasons["rare_fraction"].text().startswith("yours (the plan: ")  # its row names it already
    assert "yours" not in panel.reasons["loss"].text()
    # a new plan (statistics changed) keeps the user's values
    panel.set_plan(plan)
    assert panel.lr_spin.value() == pytest.approx(0.02)
    panel.set_config(epochs=3)
    assert panel.config()["epochs"] == 3 and "minutes" not in panel.config()
    # the plan trains unweighted: picking a scheme there brings its weights in at full strength
    assert planned["weight_strength"] == 0 and panel.strength_spin.value() == 0
    panel.scheme_combo.setCurrentIndex(panel.scheme_combo.findData("balanced"))
    panel.scheme_combo.activated.emit(panel.scheme_combo.currentIndex())
    assert panel.config()["weights"] == "balanced" and panel.config()["weight_strength"] == 1.0


def test_classes_with_too_few_validation_pixels_are_greyed_in_the_legend(qtbot, window):
    panel = window.learning.training
    plots = panel.plots
    n = plots.class_list.count()
    assert n >= 2
    val = [5000] + [10] * (n - 1)
    panel.on_epoch({"epoch": 1, "epochs": 3, "train_loss": 1.0, "val_loss": 1.0, "per_class_iou": [0.9] * n,
                    "fg_miou": 0.5, "pixel_accuracy": 0.9, "alarm": None, "seconds": 1, "val_pixels": val})
    first, second = plots.class_list.item(0), plots.class_list.item(1)
    assert "5,000 px" in first.text() and "too few" not in first.toolTip()
    assert "too few to score" in second.toolTip() and second.foreground().color().name() == "#707070"
