"""The learning state the window shows comes from one LearningSession: the active model
(the best finished run by default, pickable, remembered per project), predictions marked
out of date when another model made them, nothing of a previous project left after
switching, and a reopened project showing the image it was left on."""

from __future__ import annotations

import os
import shutil

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest
from PySide6 import QtCore

from segstudio.core.statuses import RunStatus
from segstudio.qt.panels.review_queue import MODEL_COLUMN
from segstudio.services import model_choice
from segstudio.store.project import Project
from tests.qt.conftest import open_window

TIMEOUT = 120_000


@pytest.fixture
def three_runs(trained_template, tmp_path):
    """The trained demo project plus two more runs whose models are copies of the real one:
    run 1 (finished, the real score), run 2 (finished, 0.9), run 3 (cancelled, 0.95, newest)."""
    root = tmp_path / "with_runs"
    shutil.copytree(trained_template, root)
    with Project.open(root) as project:
        first = project.runs()[0]
        for fg, status in ((0.9, RunStatus.FINISHED), (0.95, RunStatus.CANCELLED)):
            rid = project.create_run(first.config, first.class_weights, parent_run_id=first.id)
            model = root / f"model_copy_{rid}.keras"
            shutil.copy(first.model_path, model)
            project.add_epoch(rid, 1, 1.0, 1.0, fg, 0.9, [0.9, fg], None, 1.0)
            project.finish_run(rid, status, "test run", model_path=model)
    return root


@pytest.fixture
def runs_window(qtbot, three_runs):
    yield from open_window(qtbot, three_runs, richest=True)


def _history_row(win, run_id: int) -> int:
    view = win.learning.history.view
    return next(r for r in range(view.rowCount()) if view.item(r, 0).text() == str(run_id))


def test_the_default_model_is_the_best_finished_run(runs_window):
    win = runs_window
    ls = win.learning.session
    assert ls.active_run.id == 2  # not the newest (3, cancelled), not the first (1, lower)
    assert "run 2" in win.learning.predictions.model_label.text()
    assert win.learning.predictions.model_combo.currentData() == -1  # automatic
    hist = win.learning.history.view
    assert hist.item(_history_row(win, 2), 1).text().startswith("● active")
    assert hist.item(_history_row(win, 3), 1).text() == ""
    assert win.learning.training.start_combo.currentData() == "finetune:2"
    # the rest of the opened project's state reached the training panel too
    assert "since the last run" in win.learning.training.corrections_label.text()
    assert "labelled images" in win.learning.training.val_label.text()


def test_choosing_the_model_in_run_history_predicts_with_it_and_is_remembered(qtbot, runs_window, three_runs):
    win = runs_window
    ls, hist, panel = win.learning.session, win.learning.history, win.learning.predictions
    hist.select_runs([1])
    assert hist.use_button.isEnabled()
    hist.use_button.click()
    assert ls.active_run.id == 1 and ls.models.chosen_id == 1
    assert hist.view.item(_history_row(win, 1), 1).text() == "● active"
    assert panel.model_combo.currentData() == 1
    assert win.learning.training.start_combo.currentData() == "finetune:1"
    with qtbot.waitSignal(ls.predictionsChanged, timeout=TIMEOUT):
        panel.predict_current.click()
    qtbot.waitUntil(lambda: panel.cached is not None, timeout=5000)
    assert panel.cached.record.run_id == 1 and ls.shown.current
    # remembered in the project: a new window on it starts with run 1
    win.close()
    other = open_window(qtbot, three_runs)
    win2 = next(other)
    assert win2.learning.session.active_run.id == 1
    # the predictions panel picks too: back to the best run
    combo = win2.learning.predictions.model_combo
    combo.setCurrentIndex(combo.findData(-1))
    combo.activated.emit(combo.currentIndex())
    assert win2.learning.session.active_run.id == 2
    with Project.open(three_runs) as project:
        assert model_choice.chosen_run_id(project) is None
    next(other, None)


def test_predictions_of_another_model_are_marked_out_of_date(qtbot, runs_window):
    win = runs_window
    ls, panel, queue = win.learning.session, win.learning.predictions, win.learning.queue
    with qtbot.waitSignal(ls.predictionsChanged, timeout=TIMEOUT):
        panel.predict_current.click()
    qtbot.waitUntil(lambda: panel.cached is not None and ls.prediction_job is None, timeout=5000)
    assert ls.shown.current and "Out of date" not in panel.scores_label.text()
    assert [it.current for it in queue.items] == [True]
    assert "out of date" not in queue.summary.text()
    ls.choose_model(1)  # another model becomes active: the prediction is stale now
    assert not ls.shown.current
    assert "Out of date" in panel.scores_label.text() and "run 1" in panel.scores_label.text()
    assert [it.current for it in queue.items] == [False]
    assert "out of date" in queue.view.item(0, MODEL_COLUMN).text()
    assert "1 out of date" in queue.summary.text()


def test_switching_projects_clears_the_learning_state(qtbot, runs_window, demo_dir):
    win = runs_window
    tp = win.learning.training
    tp.on_finished({"run_id": 3, "status": "finished", "message": "done", "best_fg_miou": 0.5, "seconds": 2.0})
    tp.progress.setRange(0, 4)
    tp.progress.setValue(4)
    assert win.learning.history.view.rowCount() == 3 and "Run 3" in tp.status.text()
    assert win.open_project(demo_dir)  # a project without runs
    assert win.learning.session.active_run is None and win.learning.session.models.runs == ()
    assert win.learning.history.view.rowCount() == 0
    assert tp.status.text() == "" and tp.progress.value() == 0 and tp.progress.format() == "idle"
    assert [tp.start_combo.itemData(i) for i in range(tp.start_combo.count())] == ["new"]
    assert win.learning.queue.items == []
    panel = win.learning.predictions
    assert panel.cached is None and "No model yet" in panel.model_label.text()
    assert not panel.predict_current.isEnabled()
    assert "no corrections" in tp.corrections_label.text()  # the new project's, not '—'


def test_reopening_a_project_shows_its_last_image(qtbot, demo_dir):
    gen = open_window(qtbot, demo_dir)
    win = next(gen)
    third = win.image_list.model.rows[2].id
    win.image_list.select(third)
    qtbot.waitUntil(lambda: win.session.current.record.id == third, timeout=5000)
    next(gen, None)  # closes the window
    from segstudio.qt.main_window import MainWindow

    win2 = MainWindow(dialogs=False, restore_layout=False)
    qtbot.addWidget(win2)
    win2.show()
    assert win2.open_project(demo_dir)
    assert win2.session.current is not None and win2.session.current.record.id == third
    assert win2.canvas.pixels is not None  # not a blank canvas
    assert win2.image_list.view.currentIndex().data(QtCore.Qt.ItemDataRole.UserRole) == third
    win2.close()


def test_statistics_and_training_panels_chart_the_same_loss_shares(window):
    import numpy as np

    stats, tp = window.stats_panel, window.learning.training
    assert tp.weight_preview is not None and stats.shares.size
    assert (tp.scheme_combo.currentData(), tp.clip_spin.value()) == (stats.scheme, stats.clip_spin.value())
    tp.strength_spin.setValue(1.0)  # the plan softens the weights on this project; the statistics do not
    np.testing.assert_allclose(stats.shares, tp.weight_preview.shares)  # same settings, same numbers
    stats.clip_spin.setValue(5)
    assert not np.allclose(stats.shares, tp.weight_preview.shares)
    tp.clip_spin.setValue(5)
    np.testing.assert_allclose(stats.shares, tp.weight_preview.shares)
    np.testing.assert_allclose(stats.weights, tp.weight_preview.weights)


def test_a_chosen_model_whose_file_is_gone_falls_back_to_the_best_run(runs_window):
    win = runs_window
    ls = win.learning.session
    ls.choose_model(3)
    assert ls.active_run.id == 3 and ls.models.chosen_id == 3
    os.remove(ls.active_run.model_path)
    ls.refresh_models()
    assert ls.active_run.id == 2 and ls.models.chosen_id is None
    assert "best finished run" in win.learning.predictions.model_label.text()
