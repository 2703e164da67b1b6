"""The warm prediction process (services.warm_predict) in the window: one kept child per
active model, reused across predictions, started again after a kill, replaced when the
model changes, gone after the window closes; Cancel still stops a batch."""

from __future__ import annotations

import os
import shutil
import signal

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


from segstudio.services import prediction_cache

TIMEOUT = 120_000


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def _predict(qtbot, ls, ids):
    with qtbot.waitSignal(ls.predictionsChanged, timeout=TIMEOUT):
        job = ls.predict(ids)
        assert job is not None
    qtbot.waitUntil(lambda: ls.prediction_job is None, timeout=5000)
    return job.done_ids


def test_the_warm_process_is_reused_restarted_after_a_kill_and_cancellable(qtbot, trained_window):
    win = trained_window
    ls = win.learning.session
    warm = ls._warm
    assert warm is not None  # started (in a thread) when the model became active
    qtbot.waitUntil(warm.alive, timeout=10000)
    pid = warm.pid
    image_id = win.session.current.record.id
    assert _predict(qtbot, ls, [image_id]) == [image_id]
    assert ls._warm is warm and warm.pid == pid
    assert ls.shown.current and ls.shown.cached.record.run_id == ls.active_run.id
    assert _predict(qtbot, ls, [image_id]) == [image_id]
    assert warm.pid == pid and warm.starts == 1  # the same process predicted twice

    os.kill(pid, signal.SIGKILL)
    qtbot.waitUntil(lambda: not warm.alive(), timeout=10000)
    assert _predict(qtbot, ls, [image_id]) == [image_id]  # started again, the prediction arrives
    assert warm.pid != pid and warm.alive() and not win.errors.history

    ids = [r.id for r in win.session.images()] * 20  # long enough for the cancel to land
    job = ls.predict(ids)
    ls.predictionProgress.connect(lambda done, total: done >= 1 and ls.cancel_prediction())
    qtbot.waitUntil(lambda: ls.prediction_job is None, timeout=TIMEOUT)
    assert 1 <= len(job.done_ids) < len(ids)
    assert warm.alive()  # a cancelled batch keeps the process


def test_switching_model_replaces_the_process_and_old_predictions_are_not_current(qtbot, trained_window):
    win = trained_window
    ls, project = win.learning.session, win.session.project
    image_id = win.session.current.record.id
    assert _predict(qtbot, ls, [image_id]) == [image_id]
    old_run, old = ls.active_run, ls._warm
    copy = os.path.join(os.path.dirname(old_run.model_path), "copy.keras")
    shutil.copy(old_run.model_path, copy)
    rid = project.create_run(dict(old_run.config), list(old_run.class_weights))
    project.finish_run(rid, "finished", "a copy", model_path=copy, best_fg_miou=0.01)

    ls.choose_model(rid)
    assert ls.active_run.id == rid
    new = ls._warm
    assert new is not old and new.run_id == rid
    qtbot.waitUntil(new.alive, timeout=10000)
    qtbot.waitUntil(lambda: _gone(old.pid), timeout=10000)
    assert not ls.shown.current  # the old model's prediction is shown as out of date
    assert _predict(qtbot, ls, [image_id]) == [image_id]
    assert prediction_cache.load_cached(project, image_id).record.run_id == rid
    assert ls.shown.current and new.pid != old.pid

    win.close()  # shutdown: the kept process ends with the window
    assert _gone(new.pid) and ls._warm is None


def test_test_time_views_chosen_in_the_panel_reach_the_warm_and_the_one_shot_child(qtbot, trained_window):
    import numpy as np

    from segstudio.io.images import read_image
    from segstudio.ml.predict import load_model, predict_image

    win = trained_window
    ls, panel = win.learning.session, win.learning.predictions
    record = win.session.current.record
    model = load_model(ls.active_run.model_path)
    image = read_image(record.abs_path)
    plain, eight = predict_image(model, image).confidence, predict_image(model, image, tta=8).confidence
    assert np.abs(plain - eight).max() > 0.01  # the views change this model's prediction

    panel.tta_combo.setCurrentIndex(panel.tta_combo.findData(8))
    panel.tta_combo.activated.emit(panel.tta_combo.currentIndex())
    assert ls.tta == 8
    for warm in (True, False):  # the kept process, then a child per prediction
        ls.warm_predict = warm
        assert _predict(qtbot, ls, [record.id]) == [record.id]
        cached = prediction_cache.load_cached(win.session.project, record.id)
        assert np.abs(cached.confidence - eight).max() < 2e-3, warm  # float16 in the cache
        assert cached.record.views == 8
    qtbot.waitUntil(lambda: "(8 test-time views)" in panel.scores_label.text(), timeout=5000)
