"""The window on a real demo project: paint with real mouse events, undo/redo, save, classes,
bad files, screenshots."""

from __future__ import annotations

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from segstudio.core.tools import Tool
from segstudio.io.masks import read_mask
from segstudio.store.project import Project

Qt = QtCore.Qt


def widget_pos(win, x: float, y: float) -> QtCore.QPoint:
    """Image pixel coordinates -> position in the canvas viewport."""
    c = win.canvas
    scene = c.viewbox.mapViewToScene(QtCore.QPointF(x, y))
    return c.mapFromScene(scene)


def overlay_rgb(win, x: float, y: float) -> tuple[int, int, int]:
    """What the user sees at image point (x, y): grab the canvas and read the pixel."""
    img = win.canvas.grab().toImage()
    p = widget_pos(win, x, y)
    dpr = img.devicePixelRatio()
    col = img.pixelColor(int(p.x() * dpr), int(p.y() * dpr))
    return col.red(), col.green(), col.blue()


def drag(qtbot, win, points, button=Qt.MouseButton.LeftButton):
    vp = win.canvas.viewport()
    qtbot.mousePress(vp, button, pos=widget_pos(win, *points[0]))
    for x, y in points[1:]:
        # QTest.mouseMove carries no button state; send a real move event with the button held
        ev = QtGui.QMouseEvent(
            QtCore.QEvent.Type.MouseMove, QtCore.QPointF(widget_pos(win, x, y)),
            QtCore.QPointF(vp.mapToGlobal(widget_pos(win, x, y))), Qt.MouseButton.NoButton, button,
            Qt.KeyboardModifier.NoModifier)
        QtCore.QCoreApplication.sendEvent(vp, ev)
    qtbot.mouseRelease(vp, button, pos=widget_pos(win, *points[-1]))


def test_open_demo_shows_image_list_stats_and_overlay(window):
    win = window
    assert win.image_list.model.rowCount() == 8
    assert win.stack.currentWidget() is win.canvas
    rec = win.session.current.record
    assert win.canvas.pixels.shape[:2] == (rec.height, rec.width)
    # the overlay shows the model's own array (no copy), through an indexed QImage
    assert win.canvas.mask_overlay.labels is win.session.model.labels
    assert win.canvas.mask_overlay.qimage.format() == QtGui.QImage.Format.Format_Indexed8
    assert win.class_panel.tw.rowCount() == 32
    assert win.stats_panel.weights.size == 32 and win.stats_panel.shares.sum() > 0.99
    assert "background" in win.stats_panel.summary.text()


def test_brush_stroke_undo_redo_save(window, qtbot):
    win = window
    win.choose_class(31)
    win.canvas.set_brush_size(7)
    project, image_id = win.session.project, win.session.current.record.id
    before_labels = win.session.model.labels.copy()
    before_count = project.image_class_counts(image_id).get(31, 0)
    before_rgb = overlay_rgb(win, 100.5, 40.5)
    drag(qtbot, win, [(60.5, 40.5), (80.5, 40.5), (100.5, 40.5), (140.5, 40.5)])
    labels = win.session.model.labels
    assert (labels[40, 60:141] == 31).all()
    assert win.session.model.undo_depth == 1 and win.session.dirty
    assert win.windowTitle().endswith("•")
    # the overlay repainted the changed rectangle: the pixel now shows class 31's colour
    after_rgb = overlay_rgb(win, 100.5, 40.5)
    assert after_rgb != before_rgb
    c31 = np.array(win.session.table.get(31).color)
    assert np.abs(np.array(after_rgb) - c31).sum() < np.abs(np.array(before_rgb) - c31).sum()

    qtbot.keyClick(win, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert np.array_equal(win.session.model.labels, before_labels)
    assert overlay_rgb(win, 100.5, 40.5) == before_rgb
    assert not win.session.dirty
    qtbot.keyClick(win, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert (win.session.model.labels[40, 60:141] == 31).all()

    qtbot.keyClick(win, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert not win.session.dirty
    rec = project.image(image_id)
    on_disk = read_mask(rec.abs_mask_path, project.class_table()).labels
    assert np.array_equal(on_disk, win.session.model.labels)
    # statistics re-indexed right after the save, in the database and in the panels
    n31 = int((on_disk == 31).sum())
    assert project.image_class_counts(image_id)[31] == n31 > before_count
    with Project.open(rec.abs_path.parent.parent) as fresh:  # another connection sees it too
        assert fresh.image_class_counts(image_id)[31] == n31
    assert win.session.totals.pixels[31] >= n31


def test_leaving_an_image_autosaves(window, qtbot):
    win = window
    first = win.session.current.record
    win.choose_class(30)
    drag(qtbot, win, [(20.5, 20.5), (30.5, 20.5)])
    qtbot.keyClick(win, Qt.Key.Key_PageDown)
    assert win.session.current.record.id != first.id
    assert (read_mask(first.abs_mask_path).labels[20, 20:31] == 30).all()


def test_keyboard_tools_sizes_and_classes(window, qtbot):
    win = window
    qtbot.keyClick(win, Qt.Key.Key_F)
    assert win.canvas.settings.tool == Tool.FILL
    qtbot.keyClick(win, Qt.Key.Key_I)
    assert win.canvas.settings.tool == Tool.PICKER
    qtbot.keyClick(win, Qt.Key.Key_B)
    assert win.canvas.settings.tool == Tool.BRUSH
    size = win.canvas.settings.size
    qtbot.keyClick(win, Qt.Key.Key_BracketRight)
    assert win.canvas.settings.size == size + 1
    qtbot.keyClick(win, Qt.Key.Key_BracketLeft)
    qtbot.keyClick(win, Qt.Key.Key_BracketLeft)
    assert win.canvas.settings.size == size - 1
    qtbot.keyClick(win, Qt.Key.Key_7)
    assert win.canvas.settings.label == 7 and win.toolbar.class_combo.currentData() == 7
    assert win.class_panel.selected_class() == 7


def test_fill_then_picker_by_clicks(window, qtbot):
    win = window
    vp = win.canvas.viewport()
    labels = win.session.model.labels
    ys, xs = np.nonzero(labels == 0)
    x, y = xs[len(xs) // 2] + 0.5, ys[len(ys) // 2] + 0.5
    win.choose_class(12)
    qtbot.keyClick(win, Qt.Key.Key_F)
    qtbot.mouseClick(vp, Qt.MouseButton.LeftButton, pos=widget_pos(win, x, y))
    assert labels[int(y), int(x)] == 12 and (labels == 12).sum() > 1000
    win.choose_class(3)
    qtbot.keyClick(win, Qt.Key.Key_I)
    qtbot.mouseClick(vp, Qt.MouseButton.LeftButton, pos=widget_pos(win, x, y))
    assert win.canvas.settings.label == 12 and win.canvas.settings.tool == Tool.BRUSH
    qtbot.keyClick(win, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert not (labels == 12).any() or labels[int(y), int(x)] != 12


def test_polygon_by_clicks_and_enter(window, qtbot):
    win = window
    vp = win.canvas.viewport()
    win.choose_class(20)
    qtbot.keyClick(win, Qt.Key.Key_P)
    for x, y in [(10, 150), (50, 150), (50, 190)]:
        qtbot.mouseClick(vp, Qt.MouseButton.LeftButton, pos=widget_pos(win, x, y))
    assert win.canvas.driver.busy
    qtbot.keyClick(win, Qt.Key.Key_Return)
    assert not win.canvas.driver.busy
    painted = win.session.model.labels == 20
    assert painted[175, 45] and not painted[185, 20] and not painted[145, 30]
    assert 600 < painted.sum() < 1000  # half of a 40x40 square


def test_rename_recolour_and_ignore_class_from_the_panel(window, qtbot):
    win = window
    panel = win.class_panel
    row = panel._row_of(5)
    panel.tw.item(row, 2).setText("crack")
    assert win.session.project.class_table().get(5).name == "crack"
    assert win.toolbar.class_combo.itemText(win.toolbar.class_combo.findData(5)).endswith("crack")
    panel.recolourRequested.emit(5, (10, 20, 30))
    assert win.session.project.class_table().get(5).color == (10, 20, 30)
    assert tuple(win.canvas.mask_overlay.lut[5][:3]) == (10, 20, 30)
    row = panel._row_of(6)
    panel.tw.item(row, 6).setCheckState(Qt.CheckState.Checked)
    assert win.session.project.class_table().get(6).ignore


def test_merge_classes_rewrites_masks_in_a_worker(window, qtbot, monkeypatch):
    win = window
    project = win.session.project
    totals = project.class_totals()
    src = int(np.flatnonzero(totals.pixels[1:] > 0)[0]) + 1
    dst = 1 if src != 1 else 2
    expected = int(totals.pixels[src] + totals.pixels[dst])
    monkeypatch.setattr("segstudio.qt.dialogs.project_dialogs.ask_merge_target", lambda *a: dst)
    win.choose_class(src)  # painting with the class that is about to disappear
    win.class_panel._ask_merge(src)
    qtbot.waitUntil(lambda: not win.session._workers and src not in win.session.table, timeout=20000)
    assert not win.errors.history
    assert src not in project.class_table()
    assert int(project.class_totals().pixels[dst]) == expected
    assert win.class_panel._row_of(src) == -1
    for rec in project.images():
        assert not (read_mask(rec.abs_mask_path).labels == src).any()
    assert list((project.root / "backups").rglob("*.png"))
    assert win.session.current is not None  # the open image was reloaded
    assert win.canvas.settings.label in win.session.table  # no painting with a removed class


def test_filter_images_by_class_and_status(window):
    win = window
    totals = win.session.project.class_totals()
    rare = int(np.argmin(np.where(totals.images[1:] > 0, totals.images[1:], 99))) + 1
    win.image_list.filter_by(class_id=rare)
    assert len(win.image_list.visible_ids()) == int(totals.images[rare])
    assert set(win.image_list.visible_ids()) == win.session.project.images_with_class(rare)
    win.image_list.filter_by(status="predicted")
    assert win.image_list.visible_ids() == []


def test_corrupt_image_shows_an_error_and_the_app_keeps_working(window, qtbot):
    win = window
    project = win.session.project
    recs = project.images()
    bad = recs[2]
    bad.abs_path.write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    shown = win.session.current.record.id
    with qtbot.waitSignal(win.errors.errorReported, timeout=5000) as sig:
        win.image_list.select(bad.id)
    assert bad.abs_path.name in sig.args[0]
    assert bad.abs_path.name in win.statusBar().currentMessage()
    assert win.session.current.record.id == shown  # still on the previous image
    win.image_list.select(recs[3].id)
    assert win.session.current.record.id == recs[3].id
    drag(qtbot, win, [(5.5, 5.5), (15.5, 5.5)])
    assert win.session.model.undo_depth == 1


def test_screenshot_command_writes_a_png(demo_dir, tmp_path):
    """`segstudio gui PROJECT --screenshot FILE --size WxH`, as a user runs it (own process)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    from PIL import Image

    out = tmp_path / "shot.png"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen",
               PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    proc = subprocess.run(
        [sys.executable, "-m", "segstudio", "gui", str(demo_dir), "--screenshot", str(out), "--size", "1000x700"],
        env=env, capture_output=True, text=True, timeout=300)  # a loaded 2-core CI machine
    assert proc.returncode == 0, proc.stderr
    im = Image.open(out)
    assert im.size == (1000, 700)
    assert len(np.unique(np.asarray(im.convert("RGB")).reshape(-1, 3), axis=0)) > 50  # not blank


def test_start_page_without_project_and_recent_projects(qtbot, demo_dir):
    from segstudio.qt.app import make_app
    from segstudio.qt.main_window import MainWindow
    from segstudio.qt.settings import recent_projects

    make_app()
    win = MainWindow(dialogs=False)
    qtbot.addWidget(win)
    assert win.stack.currentWidget() is win.start_page and not win.toolbar.isEnabled()
    assert all(d.isHidden() for d in win.findChildren(QtWidgets.QDockWidget))
    assert win.open_project(demo_dir)
    assert recent_projects()[0] == str(demo_dir.resolve())
    assert win.stack.currentWidget() is win.canvas
    assert not win.open_project(demo_dir / "missing")
    assert "missing" in win.errors.history[-1]
    win.close()


def test_new_project_from_folders_reports_skipped_files(qtbot, tmp_path):
    from PIL import Image

    from segstudio.qt.app import make_app
    from segstudio.qt.dialogs.project_dialogs import NewProjectRequest
    from segstudio.qt.main_window import MainWindow

    images, masks = tmp_path / "images", tmp_path / "masks"
    images.mkdir()
    masks.mkdir()
    for i in range(3):
        Image.fromarray(np.full((24, 32), 40 * i, np.uint8)).save(images / f"im{i}.png")
    Image.fromarray(np.eye(24, 32, dtype=np.uint8) * 2).save(masks / "im0.png")
    (images / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n nope")
    make_app()
    win = MainWindow(dialogs=False, restore_layout=False)
    qtbot.addWidget(win)
    assert win.import_project(NewProjectRequest(tmp_path / "proj", images, masks, None)) is not None
    qtbot.waitUntil(lambda: win.session.current is not None or bool(win.errors.history), timeout=20000)
    assert not win.errors.history
    assert win.image_list.model.rowCount() == 3
    report = win.last_import_report
    assert report.findChild(QtWidgets.QTableWidget).item(0, 0).text().endswith("broken.png")
    assert win.session.current is not None
    win.close()


def test_closing_autosaves_and_layout_persists(qtbot, demo_dir):
    from segstudio.qt.app import make_app
    from segstudio.qt.main_window import MainWindow

    make_app()
    win = MainWindow(dialogs=False)
    qtbot.addWidget(win)
    win.resize(1100, 760)
    win.show()
    win.open_project(demo_dir)
    win.open_first_image()
    rec = win.session.current.record
    win.docks["statistics"].hide()
    drag(qtbot, win, [(8.5, 8.5), (20.5, 8.5)])
    win.close()
    assert (read_mask(rec.abs_mask_path).labels[8, 8:21] == win.canvas.settings.label).all()
    again = MainWindow(dialogs=False)
    qtbot.addWidget(again)
    assert again.restored_geometry  # (the offscreen screen clamps the size, so not compared)
    assert again.recent_menu.actions()[0].text() == str(demo_dir.resolve())
    assert again.docks["classes"].isHidden()  # start page only, until a project is open
    again.open_project(demo_dir)
    assert not again.docks["classes"].isHidden() and again.docks["statistics"].isHidden()
    again.close()


def test_unsaved_edits_ask_when_autosave_is_off(window, qtbot, monkeypatch):
    win = window
    win.autosave_action.setChecked(False)
    first = win.session.current.record.id
    drag(qtbot, win, [(8.5, 8.5), (20.5, 8.5)])
    monkeypatch.setattr(win, "_ask_unsaved", lambda: "cancel")
    qtbot.keyClick(win, Qt.Key.Key_PageDown)
    # PageDown moves the list selection; the session refuses to leave, the list snaps back
    assert win.session.current.record.id == first and win.session.dirty


def test_status_bar_shows_position_value_and_class(window, qtbot):
    win = window
    labels = win.session.model.labels
    ys, xs = np.nonzero(labels)
    x, y = int(xs[0]), int(ys[0])
    vp, pos = win.canvas.viewport(), QtCore.QPointF(widget_pos(win, x + 0.5, y + 0.5))
    QtCore.QCoreApplication.sendEvent(vp, QtGui.QMouseEvent(
        QtCore.QEvent.Type.MouseMove, pos, vp.mapToGlobal(pos), Qt.MouseButton.NoButton,
        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier))
    text = win.cursor_label.text()
    name = win.session.table.get(int(labels[y, x])).name
    assert f"x {x}, y {y}" in text and f"value {win.canvas.pixels[y, x]}" in text and name in text


def test_no_painting_while_a_merge_rewrites_masks(window, qtbot):
    win = window
    win.session.busy.emit("Merging classes", 0, 3)
    before = win.session.model.labels.copy()
    drag(qtbot, win, [(8.5, 8.5), (30.5, 8.5)])
    assert np.array_equal(win.session.model.labels, before)
    win.session.busy.emit("Merging classes", 0, 0)
    drag(qtbot, win, [(8.5, 8.5), (30.5, 8.5)])
    assert not np.array_equal(win.session.model.labels, before)


def test_reindex_in_a_worker_picks_up_masks_edited_elsewhere(window, qtbot):
    from PIL import Image

    win = window
    project = win.session.project
    rec = project.images()[4]
    labels = read_mask(rec.abs_mask_path).labels.copy()
    labels[:10, :10] = 29
    Image.fromarray(labels).save(rec.abs_mask_path)  # another program changed it
    progress = []
    win.session.busy.connect(lambda what, done, total: progress.append((done, total)))
    assert win.session.reindex(force=True) is not None
    qtbot.waitUntil(lambda: progress and progress[-1][1] == 0, timeout=20000)
    assert project.image_class_counts(rec.id)[29] == int((labels == 29).sum())
    assert win.session.totals.pixels[29] >= 100
    assert any(total > 0 and done == total for done, total in progress)
    assert not win.errors.history


def test_closing_during_a_merge_waits_for_the_worker(window, qtbot, monkeypatch):
    win = window
    totals = win.session.project.class_totals()
    src = int(np.flatnonzero(totals.pixels[1:] > 0)[0]) + 1
    monkeypatch.setattr("segstudio.qt.dialogs.project_dialogs.ask_merge_target", lambda *a: 0 if src != 0 else 1)
    win.class_panel._ask_merge(src)
    assert win.session._workers  # running
    win.close()
    assert not win.session._workers and win.session.project is None
