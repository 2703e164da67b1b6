"""Layout fixes: the loss-share chart leaves the wheel to the form, Start / Cancel stay put,
plain epoch axes, a visible check box, room for the prediction panel's rows and the image
list's class column."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6 import QtCore, QtGui, QtWidgets


@pytest.fixture
def panel(qtbot):
    from segstudio.qt.app import make_app
    from segstudio.qt.panels.training_panel import TrainingPanel

    make_app()
    p = TrainingPanel()
    qtbot.addWidget(p)
    p.resize(1000, 520)
    p.show()
    qtbot.waitExposed(p)
    return p


def _wheel(widget: QtWidgets.QWidget, steps: int = 3) -> None:
    pos = QtCore.QPointF(widget.width() / 2, widget.height() / 2)
    for _ in range(steps):
        ev = QtGui.QWheelEvent(pos, widget.mapToGlobal(pos), QtCore.QPoint(0, 0), QtCore.QPoint(0, -120),
                               QtCore.Qt.MouseButton.NoButton, QtCore.Qt.KeyboardModifier.NoModifier,
                               QtCore.Qt.ScrollPhase.NoScrollPhase, False)
        QtWidgets.QApplication.sendEvent(widget, ev)


def test_wheel_over_the_loss_share_chart_scrolls_the_form_not_the_chart(panel):
    chart = panel.weights_plot
    chart.setXRange(-0.7, 5.7, padding=0)
    chart.setYRange(-4, 2.05, padding=0)
    before = chart.getViewBox().viewRange()
    panel.advanced.set_open(True)  # a form taller than the panel: it scrolls
    QtWidgets.QApplication.processEvents()
    bar = panel.scroll.verticalScrollBar()
    assert bar.maximum() > 0
    bar.setValue(0)
    _wheel(chart.viewport())
    assert np.allclose(chart.getViewBox().viewRange(), before)
    assert bar.value() > 0  # the wheel went on to the scroll area


def test_start_and_cancel_do_not_move_when_the_status_text_grows(panel, qtbot):
    panel.status.setText("")
    qtbot.wait(20)
    y = (panel.start_button.mapTo(panel, QtCore.QPoint(0, 0)).y(),
         panel.cancel_button.mapTo(panel, QtCore.QPoint(0, 0)).y())
    panel.status.setText("Run 3 finished: finished 12 epochs. Best foreground mIoU 0.512 · 480 batches in 600 s "
                         "(0.8/s incl. start-up). " * 3)
    QtWidgets.QApplication.processEvents()
    qtbot.wait(20)
    assert (panel.start_button.mapTo(panel, QtCore.QPoint(0, 0)).y(),
            panel.cancel_button.mapTo(panel, QtCore.QPoint(0, 0)).y()) == y
    assert "Best foreground" in panel.status.toolTip()


def test_a_one_batch_loss_plot_has_a_plain_epoch_axis(panel, qtbot):
    plots = panel.plots
    plots.add_batch(1, 1, 1000, 0.7)
    plots._flush_batches()
    plots.loss_plot.setXRange(0.0009, 0.0011, padding=0)
    qtbot.wait(20)
    axis = plots.loss_plot.getAxis("bottom")
    assert axis.autoSIPrefixScale == 1.0 and "x0.001" not in axis.labelString()


def test_plot_titles_are_short_with_the_story_in_the_tooltip(panel):
    plots = panel.plots
    for plot in (plots.loss_plot, plots.fg_plot, plots.acc_plot):
        assert len(plot.getPlotItem().titleLabel.text) <= 20
    assert "misleading under imbalance" in plots.acc_plot.toolTip()


def test_rarely_changed_fields_are_in_a_closed_advanced_section(panel):
    assert not panel.advanced.is_open and panel.lr_spin.isHidden() is False
    assert not panel.lr_spin.isVisible() and panel.strength_spin.isVisible()
    panel.advanced.button.click()
    assert panel.lr_spin.isVisible()


def test_checkbox_indicator_stands_out_from_the_dark_background(qtbot):
    from segstudio.qt.app import make_app

    make_app()
    box = QtWidgets.QCheckBox("include corrected")
    qtbot.addWidget(box)
    box.show()
    qtbot.waitExposed(box)
    img = box.grab().toImage()
    bg = QtGui.QColor(box.palette().color(QtGui.QPalette.ColorRole.Window)).lightness()
    side = min(img.height(), 20)
    brightest = max(img.pixelColor(x, y).lightness() for x in range(side) for y in range(img.height()))
    assert brightest - bg >= 80  # the box's border, not dark grey on dark grey


def test_predicting_does_not_squash_the_show_and_highlight_rows(window, qtbot):
    P = window.learning.predictions
    window.workspaces.switch("review")
    qtbot.wait(50)
    before = (P.view_combo.height(), P.highlight_combo.height())
    P.set_predicting(True)
    QtWidgets.QApplication.processEvents()
    qtbot.wait(20)
    assert (P.view_combo.height(), P.highlight_combo.height()) == before
    assert P.view_combo.height() >= P.view_combo.minimumSizeHint().height()
    P.set_predicting(False)


def test_prediction_scores_stay_above_the_review_queue(window, qtbot):
    P, Q = window.learning.predictions, window.learning.queue
    window.workspaces.switch("review")
    P.scores_label.setText("Run 1: mean confidence 0.91 · uncertainty on rare-class pixels 0.33 (12,345 px) · "
                           "disagreement with the mask on rare classes 12.0% · review score 0.45<br>"
                           "<b>Out of date:</b> the active model is run 2; predict again to update.")
    QtWidgets.QApplication.processEvents()
    qtbot.wait(20)
    label_bottom = P.scores_label.mapTo(window, QtCore.QPoint(0, P.scores_label.height())).y()
    needed = P.scores_label.heightForWidth(P.scores_label.width())
    assert needed <= P.scores_label.height()
    assert label_bottom <= Q.next_button.mapTo(window, QtCore.QPoint(0, 0)).y()


def test_the_image_list_shows_its_classes_column(window, qtbot):
    window.workspaces.switch("annotate")
    qtbot.wait(50)
    view = window.image_list.view
    hh = view.horizontalHeader()
    title = window.image_list.model.HEADERS[2]
    assert hh.sectionSize(2) >= hh.fontMetrics().horizontalAdvance(title) + 8
    assert hh.sectionViewportPosition(2) + hh.sectionSize(2) <= view.viewport().width() + 1


def test_fields_the_alarm_calls_advanced_are_under_advanced(panel):
    from segstudio.qt.panels.training_fields import ADVANCED, FIELD_LABELS

    labels = {w.text() for w in panel.advanced.body.findChildren(QtWidgets.QLabel)}
    assert {FIELD_LABELS[k] for k in ADVANCED} <= labels
