"""First run: the start page's buttons and recent list emit what the window acts on; the help
dialogs list the window's real shortcuts, the weight schemes and the installed versions."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before anything imports Qt

import pytest

pytest.importorskip("PySide6")

from PySide6 import QtCore, QtGui, QtWidgets


@pytest.fixture
def app():
    from segstudio.qt.app import make_app

    return make_app()


@pytest.fixture
def page(qtbot, app):
    from segstudio.qt.panels.start_page import StartPage

    p = StartPage()
    qtbot.addWidget(p)
    p.resize(1000, 700)
    p.show()
    qtbot.waitExposed(p)
    return p


def _click(qtbot, widget: QtWidgets.QWidget) -> None:
    qtbot.mouseClick(widget, QtCore.Qt.MouseButton.LeftButton, pos=widget.rect().center())


def test_start_page_buttons_emit_their_signals(qtbot, page):
    seen = []
    for name in ("open_folder_requested", "open_project_requested", "open_demo_requested"):
        getattr(page, name).connect(lambda *a, n=name: seen.append(n))
    with qtbot.waitSignal(page.open_folder_requested, timeout=1000):
        _click(qtbot, page.folder_button)
    assert seen == ["open_folder_requested"]  # one signal per click
    with qtbot.waitSignal(page.open_project_requested, timeout=1000) as blocker:
        _click(qtbot, page.project_button)
    assert blocker.args == [""]  # "" = ask for the folder
    with qtbot.waitSignal(page.open_demo_requested, timeout=1000):
        _click(qtbot, page.demo_button)
    # keyboard: the cards are buttons, Space activates the focused one
    page.demo_button.setFocus()
    with qtbot.waitSignal(page.open_demo_requested, timeout=1000):
        qtbot.keyClick(page.demo_button, QtCore.Qt.Key.Key_Space)


def test_start_page_recent_projects(qtbot, page, tmp_path):
    present, gone = tmp_path / "cells", tmp_path / "deleted"
    present.mkdir()
    assert page.no_recent.isVisible() and page.recent_buttons == []
    page.set_recent([str(present), str(gone)])
    assert not page.no_recent.isVisible()
    assert [b.property("project_path") for b in page.recent_buttons] == [str(present), str(gone)]
    live, missing = page.recent_buttons
    assert live.isEnabled() and not missing.isEnabled()
    assert live.name_label.text() == "cells" and "(missing)" in missing.where_label.text()
    got = []
    page.open_project_requested.connect(lambda p: got.append(("open_project_requested", p)))
    _click(qtbot, live)
    assert got == [("open_project_requested", str(present))]
    with qtbot.assertNotEmitted(page.open_project_requested, wait=50):
        _click(qtbot, missing)
    page.set_recent([str(tmp_path / f"p{i}") for i in range(20)])
    from segstudio.qt.panels.start_page import MAX_SHOWN_RECENT

    assert len(page.recent_buttons) == MAX_SHOWN_RECENT
    page.set_recent([])
    qtbot.waitUntil(lambda: page.no_recent.isVisible())


def test_start_page_in_the_window_opens_a_recent_project(qtbot, app, demo_dir):
    """Through the signal main_window connects (open_project_requested → open_project)."""
    from segstudio.qt.main_window import MainWindow

    win = MainWindow(dialogs=False, restore_layout=False)
    qtbot.addWidget(win)
    win.show()
    win.start_page.set_recent([str(demo_dir)])
    assert win.stack.currentWidget() is win.start_page
    _click(qtbot, win.start_page.recent_buttons[0])
    qtbot.waitUntil(lambda: win.stack.currentWidget() is win.canvas)
    assert win.session.project is not None
    assert win.session.current is not None and win.canvas.pixels is not None  # an image, not a blank canvas
    QtCore.QThreadPool.globalInstance().waitForDone(30000)  # workers the window starts on open
    win.close()


@pytest.fixture
def main_window(qtbot, app):
    from segstudio.qt.main_window import MainWindow

    win = MainWindow(dialogs=False, restore_layout=False)
    qtbot.addWidget(win)
    yield win
    win.close()


def test_shortcuts_dialog_lists_every_real_shortcut(qtbot, main_window):
    from segstudio.qt.dialogs.help_dialogs import ShortcutsDialog, action_shortcuts, keys_mentioned
    from segstudio.qt.shortcuts import SHORTCUTS

    dlg = ShortcutsDialog(main_window)
    qtbot.addWidget(dlg)
    shown = dlg.shown_rows()
    assert shown[: len(SHORTCUTS)] == [tuple(r) for r in SHORTCUTS]
    real = action_shortcuts(main_window)
    real_keys = {k for k, _, _ in real}
    # nothing the window binds is missing from the dialog
    assert real_keys <= keys_mentioned(shown), real_keys - keys_mentioned(shown)
    # the keys the dialog names are bound (apart from mouse gestures): it does not invent any
    assert keys_mentioned(shown) <= real_keys, keys_mentioned(shown) - real_keys
    for key in ("B", "E", "F", "P", "I", "[", "]", "Ctrl+Z", "Ctrl+S", "O", "F1"):
        assert key in real_keys and key in keys_mentioned(shown)


def test_keys_mentioned_reads_the_key_column():
    from segstudio.qt.dialogs.help_dialogs import keys_mentioned

    keys = keys_mentioned([("1 … 4, 0", ""), ("Page Down / Page Up", ""), ("Enter / Esc", ""),
                           ("Wheel, middle-drag, Ctrl+0", ""), ("Ctrl+Z / Ctrl+Shift+Z", "")])
    assert keys == {"1", "2", "3", "4", "0", "PgDown", "PgUp", "Return", "Enter", "Esc", "Ctrl+0",
                    "Ctrl+Z", "Ctrl+Shift+Z"}


def test_imbalance_help_covers_weights_losses_sampling_and_metrics(qtbot, app):
    from segstudio.core.weights import SCHEMES
    from segstudio.qt.dialogs.help_dialogs import ImbalanceHelpDialog

    dlg = ImbalanceHelpDialog()
    qtbot.addWidget(dlg)
    text = dlg.text()
    for scheme, line in SCHEMES.items():
        assert f"{scheme}: {line}" in text
    for needle in ("99%", "per-class IoU", "foreground mIoU", "Clip", "Weighted cross-entropy", "Dice",
                   "Focal", "Tversky", "crop", "collapse", "flood"):
        assert needle in text, needle
    # the default loss named is the trainer's (ml.config, no TensorFlow import)
    from segstudio.qt.dialogs.help_dialogs import LOSS_LABELS
    from segstudio.services.training_setup import engine_defaults

    label = " + ".join(LOSS_LABELS[p] for p in engine_defaults()["loss"].split("+"))
    assert f"The default, {label}," in text
    from segstudio.ml.config import LOSS_PARTS

    assert set(LOSS_LABELS) == set(LOSS_PARTS)  # a name for every loss part ml.config knows


def test_about_dialog_shows_the_versions_that_version_prints(qtbot, app, capsys):
    from segstudio import __version__
    from segstudio.cli import main as cli_main
    from segstudio.core.versions import versions
    from segstudio.qt.dialogs.help_dialogs import AboutDialog

    dlg = AboutDialog()
    qtbot.addWidget(dlg)
    rows = {dlg.table.item(r, 0).text(): dlg.table.item(r, 1).text() for r in range(dlg.table.rowCount())}
    v = versions()
    assert {k: rows[k] for k in v} == v
    assert rows["segstudio"] == __version__
    assert rows["Qt runtime"] == QtCore.qVersion()
    for name in ("TensorFlow", "Keras", "Qt (PySide6)"):
        assert rows[name] not in ("", "not installed")
    try:
        cli_main(["--version"])
    except SystemExit:
        pass
    printed = capsys.readouterr().out
    for name, value in v.items():
        assert value in printed, (name, value)
    _click(qtbot, dlg.copy_button)
    assert f"TensorFlow: {v['TensorFlow']}" in QtGui.QGuiApplication.clipboard().text()
