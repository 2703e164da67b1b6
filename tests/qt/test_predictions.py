"""Predictions in the window: predict one image in the background, check what the overlay
layers hold, accept the prediction into the mask (whole / lasso), save, check the file on
disk and the recorded corrections; the review queue; the export dialog."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

from segstudio.core import review
from segstudio.io.masks import read_mask
from segstudio.services import corrections, prediction_cache
from segstudio.store import learning

TIMEOUT = 120_000


def predict_current(qtbot, win):
    panel = win.learning.predictions
    assert panel.predict_current.isEnabled()
    with qtbot.waitSignal(win.learning.session.predictionsChanged, timeout=TIMEOUT):
        panel.predict_current.click()
    qtbot.waitUntil(lambda: win.learning.session.prediction_job is None, timeout=5000)
    return panel


def test_predict_one_image_and_check_the_overlays(qtbot, trained_window):
    win = trained_window
    image_id = win.session.current.record.id
    panel = predict_current(qtbot, win)
    cached = prediction_cache.load_cached(win.session.project, image_id)
    assert cached is not None and panel.cached is not None
    np.testing.assert_array_equal(panel.cached.classes, cached.classes)
    # status in the list
    assert win.session.project.image(image_id).status == "predicted"
    row = next(r for r in win.image_list.model.rows if r.id == image_id)
    assert row.status == "predicted"
    assert "[predicted]" in win.image_label.text()  # the status bar agrees with the list
    # overlay layers: outlines over the mask, the full map, highlights
    panel.set_view("both")
    np.testing.assert_array_equal(panel.pred_layer.image, review.outline(cached.classes))
    assert panel.pred_layer.isVisible() and win.canvas.mask_overlay.isVisible()
    panel.set_view("prediction")
    np.testing.assert_array_equal(panel.pred_layer.image, cached.classes)
    assert not win.canvas.mask_overlay.isVisible()
    panel.set_view("mask")
    assert not panel.pred_layer.isVisible() and win.canvas.mask_overlay.isVisible()
    panel.set_highlight("confidence")
    panel.threshold_spin.setValue(0.5)
    np.testing.assert_array_equal(panel.flag_layer.image, (cached.confidence < 0.5).astype(np.uint8))
    panel.set_highlight("disagreement")
    np.testing.assert_array_equal(panel.flag_layer.image,
                                  (cached.classes != win.session.model.labels).astype(np.uint8))
    assert panel.flag_layer.isVisible()
    panel.set_highlight("none")
    assert not panel.flag_layer.isVisible()
    # the review queue lists it
    queue = win.learning.queue
    assert [it.image_id for it in queue.items] == [image_id]


def test_accept_prediction_into_the_mask_save_and_record_corrections(qtbot, trained_window):
    win = trained_window
    session = win.session
    image_id = session.current.record.id
    panel = predict_current(qtbot, win)
    pred = panel.cached.classes.copy()
    before = session.model.labels.copy()
    changed = panel.accept()
    assert changed == int((pred != before).sum()) > 0
    np.testing.assert_array_equal(session.model.labels, pred)
    assert session.model.dirty and session.model.can_undo
    session.undo()
    np.testing.assert_array_equal(session.model.labels, before)
    session.redo()
    # the user corrects a block the model got wrong, then saves
    h, w = pred.shape
    edit = np.zeros((h, w), bool)
    edit[:8, :10] = True
    new_class = 7
    with session.model.stroke("fix"):
        session.model.assign(edit, new_class)
    expected = pred.copy()
    expected[edit] = new_class
    assert session.save()
    rec = session.project.image(image_id)
    on_disk = read_mask(rec.abs_mask_path, session.table).labels
    np.testing.assert_array_equal(on_disk, expected)
    assert rec.status == "corrected"
    # corrected pixels = where the saved mask differs from the prediction
    bits = corrections.load_corrected(session.project, image_id)
    np.testing.assert_array_equal(bits, expected != pred)
    assert learning.correction(session.project, image_id).pixels == int((pred[edit] != new_class).sum())
    assert "since the last run" in win.learning.training.corrections_label.text()
    assert learning.prediction(session.project, image_id).disagreement is not None


def test_accept_inside_a_lasso_only(qtbot, trained_window):
    from tests.qt.test_main_window import drag

    win = trained_window
    model = win.session.model
    panel = predict_current(qtbot, win)
    pred = panel.cached.classes
    before = model.labels.copy()
    assert panel.accept_lasso_button.isEnabled()
    panel.accept_lasso_button.click()
    drag(qtbot, win, [(0, 0), (10, 0), (20, 0), (20, 6), (20, 12), (10, 12), (0, 12)])
    np.testing.assert_array_equal(model.labels[:12, :20], pred[:12, :20])
    np.testing.assert_array_equal(model.labels[12:, :], before[12:, :])
    np.testing.assert_array_equal(model.labels[:, 20:], before[:, 20:])
    assert model.undo_depth == (1 if (pred[:12, :20] != before[:12, :20]).any() else 0)


def test_review_queue_opens_the_next_image(qtbot, trained_window):
    win = trained_window
    panel = win.learning.predictions
    ids = [r.id for r in win.session.images()][:3]
    with qtbot.waitSignal(win.learning.session.predictionsChanged, timeout=TIMEOUT):
        panel.predict(ids)
    queue = win.learning.queue
    assert sorted(it.image_id for it in queue.items) == sorted(ids)
    scores = [it.score for it in queue.items]
    assert scores == sorted(scores, reverse=True)
    current = win.session.current.record.id
    first_other = next(it.image_id for it in queue.items if it.image_id != current)
    assert queue.next_image() == first_other
    qtbot.waitUntil(lambda: win.session.current.record.id == first_other, timeout=5000)


def test_export_dialog_writes_keras_and_card(qtbot, trained_window, tmp_path):
    win = trained_window
    dlg = win.learning.export_dialog()
    qtbot.addWidget(dlg)
    dlg.folder_edit.setText(str(tmp_path / "out"))
    assert dlg.formats() == ["keras"]
    with qtbot.waitSignal(dlg.exported, timeout=TIMEOUT) as sig:
        dlg.start_export()
    files = sig.args[0]
    assert len(files) == 1 and files[0].endswith(".keras") and os.path.exists(files[0])
    assert (tmp_path / "out" / "segstudio_run0001.card.json").exists()
    assert "card:" in dlg.output.toPlainText()
    assert any(m.path == files[0] for m in win.session.project.models())


def test_closing_the_window_while_predicting_stops_cleanly(qtbot, trained_window):
    win = trained_window
    job = win.learning.session.predict([r.id for r in win.session.images()])
    qtbot.waitUntil(lambda: len(job.done_ids) >= 1, timeout=TIMEOUT)
    win.close()  # cancel after the current image, wait for the thread and the child process
    assert not job.is_running and not job.thread.isRunning()
