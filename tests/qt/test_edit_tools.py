"""The editing tools in the window, with real mouse and key events on the demo project and a
made-up prediction (no model needed): accept lasso / brush, typed class ids, class
visibility and edges-only drawing, the status bar readout, paint over background only."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pytest
from PySide6 import QtCore, QtGui

from segstudio.core.tools import Tool
from segstudio.qt.learning_session import ShownPrediction
from segstudio.services.prediction_cache import CachedPrediction
from segstudio.store.learning import PredictionRecord
from tests.qt.test_main_window import drag, overlay_rgb, widget_pos

Qt = QtCore.Qt


def show_prediction(win, classes: np.ndarray, confidence: np.ndarray) -> None:
    image_id = win.session.current.record.id
    record = PredictionRecord(image_id, 1, "m.keras", "p.npz", datetime.now(), float(confidence.mean()),
                              0.0, 0, None, 0.0)
    shown = ShownPrediction(image_id, CachedPrediction(image_id, classes, confidence, record), True, 1)
    win.learning.session.shown = shown
    win.learning.session.predictionChanged.emit(shown)


@pytest.fixture
def predicted(window):
    """The window with a prediction of class 5 everywhere (confidence 0.87) shown."""
    labels = window.session.model.labels
    show_prediction(window, np.full(labels.shape, 5, labels.dtype), np.full(labels.shape, 0.87, np.float32))
    return window


def test_accept_lasso_drag_copies_the_prediction_inside_only_and_undo_restores(predicted, qtbot):
    win = predicted
    model = win.session.model
    before = model.labels.copy()
    win.learning.predictions.accept_lasso_button.click()
    assert win.canvas.settings.tool == Tool.ACCEPT_LASSO and win.toolbar.tool_actions[Tool.ACCEPT_LASSO].isChecked()
    drag(qtbot, win, [(20, 20), (40, 20), (60, 20), (60, 35), (60, 50), (40, 50), (20, 50), (20, 35)])
    inside = np.zeros(model.shape, bool)
    inside[20:50, 20:60] = True
    assert (model.labels[inside] == 5).all()
    np.testing.assert_array_equal(model.labels[~inside], before[~inside])
    assert model.undo_depth == 1 and model.dirty
    qtbot.keyClick(win, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    np.testing.assert_array_equal(model.labels, before)


def test_accept_brush_paints_the_prediction_in(predicted, qtbot):
    win = predicted
    model = win.session.model
    before = model.labels.copy()
    qtbot.keyClick(win, Qt.Key.Key_A)
    assert win.canvas.settings.tool == Tool.ACCEPT_BRUSH
    win.canvas.set_brush_size(5)
    drag(qtbot, win, [(30.5, 80.5), (60.5, 80.5), (90.5, 80.5)])
    assert (model.labels[80, 30:91] == 5).all() and model.undo_depth == 1
    np.testing.assert_array_equal(model.labels[90:], before[90:])


def test_typed_digits_select_class_17_and_period_comma_step(window, qtbot):
    win = window
    win.edit_wiring.clock = lambda: 100.0  # every key 'in time', however slow the machine
    qtbot.keyClick(win, Qt.Key.Key_1)
    assert win.canvas.settings.label == 1
    qtbot.keyClick(win, Qt.Key.Key_7)
    assert win.canvas.settings.label == 17
    assert win.toolbar.class_combo.currentData() == 17 and win.class_panel.selected_class() == 17
    assert "17" in win.statusBar().currentMessage()
    assert win.canvas.brush_class_ring.pen().color().getRgb()[:3] == win.session.table.get(17).color
    qtbot.keyClick(win, Qt.Key.Key_Period)
    assert win.canvas.settings.label == 18
    qtbot.keyClick(win, Qt.Key.Key_Comma)
    qtbot.keyClick(win, Qt.Key.Key_Comma)
    assert win.canvas.settings.label == 16


def background_spot(labels: np.ndarray, r: int = 8) -> tuple[int, int]:
    """(x, y) of a pixel with only background within ``r`` pixels."""
    for y in range(r, labels.shape[0] - r):
        for x in range(r, labels.shape[1] - r):
            if not labels[y - r:y + r + 1, x - r:x + r + 1].any():
                return x, y
    raise AssertionError("no background spot")


def test_hiding_a_class_and_edges_only_change_the_rendered_overlay(window, qtbot):
    win = window
    model = win.session.model
    x, y = background_spot(model.labels)
    win.canvas.viewbox.setRange(QtCore.QRectF(x - 8, y - 8, 16, 16), padding=0)  # big pixels: exact reads
    image_rgb = overlay_rgb(win, x + 0.5, y + 0.5)
    with model.stroke():
        model.paint_segment((x + 0.5, y + 0.5), (x + 0.5, y + 0.5), radius=6, value=31)
    painted = overlay_rgb(win, x + 0.5, y + 0.5)
    assert painted != image_rgb
    panel = win.class_panel
    swatch = panel.tw.item(panel._row_of(31), 0)
    swatch.setCheckState(Qt.CheckState.Unchecked)  # the user unticks class 31
    assert win.session.hidden_classes == {31}
    assert overlay_rgb(win, x + 0.5, y + 0.5) == image_rgb
    assert win.canvas.mask_overlay.colours[31, 3] == 0 and win.canvas.mask_overlay.colours[1, 3] > 0
    panel.show_all_button.click()
    assert overlay_rgb(win, x + 0.5, y + 0.5) == painted
    panel.select_class(31)
    panel.only_button.click()
    assert win.session.hidden_classes == set(win.session.table.ids) - {31}
    assert swatch.checkState() == Qt.CheckState.Checked
    assert overlay_rgb(win, x + 0.5, y + 0.5) == painted
    # edges only: the inside shows the image, the edge keeps the class colour, unblended
    win.toolbar.contour_action.setChecked(True)
    assert overlay_rgb(win, x + 0.5, y + 0.5) == image_rgb
    c31 = np.array(win.session.table.get(31).color)
    edge = np.array(overlay_rgb(win, x - 6 + 0.5, y + 0.5))
    assert np.abs(edge - c31).max() <= 2, (edge, c31)


def test_status_bar_shows_the_predicted_class_and_confidence(predicted, qtbot):
    win = predicted
    labels = win.session.model.labels
    x, y = 30, 40
    vp = win.canvas.viewport()
    pos = QtCore.QPointF(widget_pos(win, x + 0.5, y + 0.5))
    QtCore.QCoreApplication.sendEvent(vp, QtGui.QMouseEvent(
        QtCore.QEvent.Type.MouseMove, pos, vp.mapToGlobal(pos), Qt.MouseButton.NoButton,
        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier))
    text = win.cursor_label.text()
    mask_name = win.session.table.get(int(labels[y, x])).name
    assert f"x {x}, y {y}" in text
    assert f"mask: {int(labels[y, x])} {mask_name}" in text
    assert f"predicted: 5 {win.session.table.get(5).name} 87%" in text


def test_paint_over_background_only_keeps_the_classes_painted(window, qtbot):
    win = window
    model = win.session.model
    x, y = background_spot(model.labels, r=12)
    with model.stroke():
        model.paint_segment((x + 0.5, y + 0.5), (x + 0.5, y + 0.5), radius=3, value=2)
    combo = win.toolbar.paint_over_combo
    combo.setCurrentIndex(combo.findData(0))  # background only
    assert win.canvas.settings.paint_over == 0
    win.choose_class(9)
    win.canvas.set_brush_size(21)
    drag(qtbot, win, [(x + 0.5, y + 0.5), (x + 1.5, y + 0.5)])
    around = model.labels[y - 10:y + 11, x - 10:x + 11]
    assert (around == 2).sum() == 29 and (around == 9).sum() > 200  # the class-2 dab is kept


def test_readout_and_legend_texts():
    from segstudio.core.classes import ClassInfo, ClassTable
    from segstudio.qt.cursor_readout import cursor_text
    from segstudio.qt.panels.prediction_legend import prediction_legend

    table = ClassTable([ClassInfo(0, "background", (0, 0, 0)), ClassInfo(3, "vesicle", (255, 0, 0)),
                        ClassInfo(4, "mito", (0, 0, 255))])
    labels = np.zeros((4, 4), np.uint8)
    labels[1, 2] = 3
    classes = np.full((4, 4), 4, np.uint8)
    classes[1, 2] = 3
    conf = np.full((4, 4), 0.5, np.float32)
    conf[1, 2] = 0.874
    pred = CachedPrediction(1, classes, conf, None)
    pixels = np.arange(16, dtype=np.uint8).reshape(4, 4)
    assert cursor_text(2, 1, pixels, labels, table, pred) == (
        "x 2, y 1   value 6   mask: 3 vesicle · predicted: 3 vesicle 87%")
    assert cursor_text(2, 1, pixels, labels, table) == "x 2, y 1   value 6   mask: 3 vesicle"
    assert cursor_text(-1, -1, pixels, labels, table, pred) == ""
    legend = prediction_legend(table, classes, "both")
    assert "outlines" in legend and legend.index("4&nbsp;mito") < legend.index("3&nbsp;vesicle")  # most first
    assert "#0000ff" in legend.lower()
    assert "vesicle" not in prediction_legend(table, classes, "both", hidden={3})
    assert prediction_legend(table, classes, "mask") == "" and prediction_legend(table, None, "both") == ""


def test_accept_tool_without_a_prediction_says_so_and_paints_nothing(window, qtbot):
    win = window
    before = win.session.model.labels.copy()
    qtbot.keyClick(win, Qt.Key.Key_L)
    assert win.canvas.settings.tool == Tool.ACCEPT_LASSO
    assert "No prediction" in win.statusBar().currentMessage()
    drag(qtbot, win, [(20, 20), (60, 20), (60, 50), (20, 50)])
    np.testing.assert_array_equal(win.session.model.labels, before)
    assert win.session.model.undo_depth == 0
