"""Workspaces: Annotate / Train / Review dock layouts, switched from the tool bar or Ctrl+1/2/3,
remembered across windows (QSettings in the test's temp folder), each fitting 1400x900."""

from __future__ import annotations

import pytest
from PySide6 import QtCore

from segstudio.qt.workspaces import WORKSPACES


def _window(qtbot, demo_dir, size=(1400, 900)):
    from segstudio.qt.app import make_app
    from segstudio.qt.main_window import MainWindow

    make_app()
    win = MainWindow(dialogs=False)  # restore_layout: the temp QSettings of tests/qt/conftest.py
    win.learning.session.query_devices = False
    qtbot.addWidget(win)
    win.resize(*size)
    win.show()
    qtbot.waitExposed(win)
    assert win.open_project(demo_dir)
    return win


def _shown(win) -> set[str]:
    return {name for name, dock in win.docks.items() if not dock.isHidden()}


def _close(win) -> None:
    win.session.autosave = False
    win.close()


def test_switching_workspaces_changes_the_docks_and_a_new_window_restores_them(qtbot, demo_dir):
    win = _window(qtbot, demo_dir)
    assert win.workspaces.current == "annotate"
    assert _shown(win) == {"images", "classes", "statistics"}
    win.workspaces.actions["train"].trigger()  # the tool bar's button (Ctrl+2)
    assert _shown(win) == {"training", "runs"}
    assert win.workspaces.actions["train"].isChecked()
    win.docks["runs"].hide()  # the user's own change within the workspace
    _close(win)

    again = _window(qtbot, demo_dir)
    assert again.workspaces.current == "train"
    assert _shown(again) == {"training"}
    again.workspaces.switch("review")
    assert _shown(again) == {"images", "predictions"}
    again.workspaces.switch("train")
    assert _shown(again) == {"training"}  # still as the user left it
    again.workspaces.reset_action.trigger()
    assert _shown(again) == {"training", "runs"}
    _close(again)


def test_workspace_keys_are_ctrl_1_2_3_and_clash_with_nothing(qtbot, demo_dir):
    from PySide6 import QtGui, QtWidgets

    win = _window(qtbot, demo_dir)
    keys = [win.workspaces.actions[n].shortcut().toString() for n in WORKSPACES]
    assert keys == ["Ctrl+1", "Ctrl+2", "Ctrl+3"]
    others = [s.toString() for a in win.findChildren(QtGui.QAction) if a not in win.workspaces.actions.values()
              for s in a.shortcuts()]
    assert not set(keys) & set(others)
    assert isinstance(win.menuBar().cornerWidget(), QtWidgets.QToolBar)
    _close(win)


@pytest.mark.parametrize("size", [(1400, 900), (1920, 1080)])
def test_every_workspace_fits_without_overlap(qtbot, demo_dir, size):
    win = _window(qtbot, demo_dir, size)
    for name in WORKSPACES:
        win.workspaces.switch(name)
        qtbot.wait(50)
        rects = {n: d.geometry() for n, d in win.docks.items() if d.isVisible()}
        central = win.centralWidget().geometry()
        assert central.width() >= 300 and central.height() >= 300, (name, central)  # the canvas stays
        for a, ra in rects.items():
            assert not ra.intersects(central), (name, a)
            assert win.rect().contains(ra), (name, a, ra)
            for b, rb in rects.items():
                assert a == b or not ra.intersects(rb), (name, a, b)
            hint = win.docks[a].widget().minimumSizeHint()
            inner = win.docks[a].widget().size()
            assert inner.width() >= hint.width() and inner.height() >= hint.height(), (name, a, inner, hint)
    _close(win)


def test_the_train_workspace_gives_the_per_class_plot_real_height(qtbot, demo_dir):
    win = _window(qtbot, demo_dir)
    win.workspaces.switch("train")
    qtbot.wait(50)
    plots = win.learning.training.plots
    assert plots.class_plot.height() >= 250
    assert plots.class_plot.height() >= plots.loss_plot.height()
    _close(win)


def test_no_project_hides_the_workspace_bar_and_docks(qtbot):
    from segstudio.qt.app import make_app
    from segstudio.qt.main_window import MainWindow

    make_app()
    win = MainWindow(dialogs=False, restore_layout=False)
    qtbot.addWidget(win)
    win.show()
    assert _shown(win) == set() and win.workspaces.toolbar.isHidden()
    win.close()
    QtCore.QCoreApplication.processEvents()
