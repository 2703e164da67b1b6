"""The main window wires the start page and the Help menu (applied with main_window's patch)."""

from __future__ import annotations

import functools

from PySide6 import QtCore, QtWidgets


def _window(qtbot):
    from segstudio.qt.app import make_app
    from segstudio.qt.main_window import MainWindow

    make_app()
    win = MainWindow(dialogs=False, restore_layout=False)
    qtbot.addWidget(win)
    win.show()
    return win


def _close(win) -> None:
    QtCore.QThreadPool.globalInstance().waitForDone(30000)
    win.close()


def test_help_menu_has_shortcuts_imbalance_and_about(qtbot, monkeypatch):
    from segstudio.qt.dialogs import help_dialogs

    win = _window(qtbot)
    help_menu = next(m for m in win.menuBar().findChildren(QtWidgets.QMenu) if m.title() == "&Help")
    texts = [a.text().replace("&", "") for a in help_menu.actions() if not a.isSeparator()]
    assert texts == ["Keyboard shortcuts", "How imbalance is handled", "About segstudio"]
    opened = []
    for cls in ("ShortcutsDialog", "ImbalanceHelpDialog", "AboutDialog"):
        monkeypatch.setattr(getattr(help_dialogs, cls), "exec", lambda self, c=cls: opened.append(c) or 0)
    for act in help_menu.actions():
        if not act.isSeparator():
            act.trigger()
    assert opened == ["ShortcutsDialog", "ImbalanceHelpDialog", "AboutDialog"]
    _close(win)


def test_start_page_demo_button_generates_then_opens_the_demo(qtbot, monkeypatch, tmp_path):
    import segstudio.qt.main_window as mw
    import segstudio.services.demo as demo

    target = tmp_path / "userdata" / "demo"
    monkeypatch.setattr(mw, "default_demo_dir", lambda: target)
    monkeypatch.setattr(demo, "make_demo", functools.partial(demo.make_demo, n=4))
    win = _window(qtbot)
    qtbot.mouseClick(win.start_page.demo_button, QtCore.Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: win.session.project is not None, timeout=60000)
    assert (target / "segstudio.db").is_file()
    assert win.stack.currentWidget() is win.canvas
    _close(win)


def test_start_page_open_project_button_asks_for_a_folder(qtbot, monkeypatch, demo_dir):
    win = _window(qtbot)
    monkeypatch.setattr(QtWidgets.QFileDialog, "getExistingDirectory", lambda *a, **k: str(demo_dir))
    qtbot.mouseClick(win.start_page.project_button, QtCore.Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: win.session.project is not None, timeout=30000)
    assert win.session.project.root.resolve() == demo_dir.resolve()
    _close(win)
