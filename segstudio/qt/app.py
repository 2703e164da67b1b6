"""Application start-up: ``run_gui(project, screenshot, size)`` (called by segstudio.launcher)."""

from __future__ import annotations

import sys
from pathlib import Path

import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from segstudio.qt.icons import app_icon
from segstudio.qt.theme import dark_palette, style_sheet

DEFAULT_SIZE = (1400, 900)
SETTLE_MS = 400


def make_app(argv: list[str] | None = None) -> QtWidgets.QApplication:
    """The QApplication with segstudio's look (reuses an existing one, e.g. under pytest-qt)."""
    pg.setConfigOptions(imageAxisOrder="row-major", foreground=(200, 200, 200), antialias=True)
    app = QtWidgets.QApplication.instance()
    if app is None:
        QtCore.QCoreApplication.setOrganizationName("segstudio")
        QtCore.QCoreApplication.setApplicationName("segstudio")
        app = QtWidgets.QApplication(argv if argv is not None else sys.argv[:1])
    app.setStyle("Fusion")
    app.setWindowIcon(app_icon())  # every PNG size and the SVG (qt.icons)
    # Wayland compositors (and GNOME's dock on X11) match the window to segstudio.desktop by this
    QtGui.QGuiApplication.setDesktopFileName("segstudio")
    app.setPalette(dark_palette())
    app.setStyleSheet(style_sheet())
    font = app.font()
    if font.pointSizeF() < 9.5:
        font.setPointSizeF(9.5)
        app.setFont(font)
    return app


def grab_window(window: QtWidgets.QWidget, path: str | Path) -> bool:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return window.grab().save(str(path), "PNG")


def run_gui(project: str | None = None, screenshot: str | None = None,
            size: tuple[int, int] | None = None, workspace: str | None = None) -> int:
    """Open the main window (on ``project``, in ``workspace``); with ``screenshot``, save a
    PNG of it and exit."""
    from segstudio.qt.main_window import MainWindow
    from segstudio.qt.workspaces import WORKSPACES

    if workspace is not None and workspace not in WORKSPACES:
        print(f"segstudio: no workspace {workspace!r}; one of {', '.join(WORKSPACES)}", file=sys.stderr)
        return 2
    app = make_app()
    window = MainWindow(dialogs=screenshot is None, restore_layout=screenshot is None)
    if screenshot is not None:  # a picture needs no TensorFlow: exit without waiting for it
        window.learning.session.query_devices = False
    if screenshot is not None or size is not None or not window.restored_geometry:
        window.resize(*(size or DEFAULT_SIZE))
    window.show()
    if screenshot is None:  # an unexpected error in any slot reaches the one error place
        def excepthook(kind, error, tb) -> None:
            sys.__excepthook__(kind, error, tb)
            window.errors.report("Unexpected error", error)

        sys.excepthook = excepthook
    if project:
        # opens on the image the project was left on; a screenshot shows the richest one
        if window.open_project(project) and screenshot is not None:
            window.open_first_image(richest=True)
    if workspace is not None:
        window.workspaces.switch(workspace)
    if screenshot is None:
        return app.exec()
    result = {"ok": False}

    def shoot() -> None:
        result["ok"] = grab_window(window, screenshot)
        window.close()
        app.quit()

    QtCore.QTimer.singleShot(SETTLE_MS, shoot)
    app.exec()
    if not result["ok"]:
        print(f"segstudio: could not write the screenshot {screenshot}", file=sys.stderr)
        return 1
    print(screenshot)
    return 0
