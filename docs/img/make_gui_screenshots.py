"""Re-make docs/img/main_window.png and docs/img/editing.png (offscreen, on a demo project).

Usage: python docs/img/make_gui_screenshots.py [DEMO_FOLDER]   (made with 200 images if absent)
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

HERE = Path(__file__).resolve().parent


def save_small(window, path: Path, quantize: bool = True) -> None:
    """Grab the window and store it as a 256-colour PNG (a fraction of the size).

    ``quantize=False`` keeps every colour: on a real gray image the texture takes the
    palette and a small class's colour is merged into gray (EM's axon did)."""
    from PIL import Image

    tmp = path.with_suffix(".tmp.png")
    window.grab().save(str(tmp), "PNG")
    image = Image.open(tmp).convert("RGB")
    if quantize:
        image = image.quantize(colors=256, method=Image.Quantize.MEDIANCUT)
    image.save(path, optimize=True)
    tmp.unlink()
    print(path)


def main() -> int:
    from PySide6 import QtCore, QtGui, QtWidgets

    from segstudio.core.tools import Tool
    from segstudio.qt.app import DEFAULT_SIZE, make_app
    from segstudio.qt.main_window import MainWindow
    from segstudio.services.demo import make_demo

    demo = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp()) / "demo"
    if not (demo / "segstudio.db").exists():
        project, _ = make_demo(demo, n=200)
        project.close()
    _app = make_app()  # keep a reference while the window lives

    def settle(ms: int = 300) -> None:
        loop = QtCore.QEventLoop()
        QtCore.QTimer.singleShot(ms, loop.quit)
        loop.exec()

    win = MainWindow(dialogs=False, restore_layout=False)
    win.resize(*DEFAULT_SIZE)
    win.show()
    win.open_project(demo)
    win.open_first_image(richest=True)
    settle()
    save_small(win, HERE / "main_window.png")

    # editing: a fresh stroke in a rare class, the brush outline under the pointer, zoomed in
    c = win.canvas
    win.choose_class(29)
    win.toolbar.size_spin.setValue(14)
    model = win.session.model
    with model.stroke():
        for k in range(12):
            model.paint_segment((60 + 9 * k, 150 + 4 * k), (69 + 9 * k, 154 + 4 * k), 7, 29)
    c.viewbox.setRange(QtCore.QRectF(30, 100, 170, 120), padding=0)
    settle(100)
    vp = c.viewport()
    pos = QtCore.QPointF(c.mapFromScene(c.viewbox.mapViewToScene(QtCore.QPointF(182, 200))))
    QtCore.QCoreApplication.sendEvent(vp, QtGui.QMouseEvent(
        QtCore.QEvent.Type.MouseMove, pos, vp.mapToGlobal(pos), QtCore.Qt.MouseButton.NoButton,
        QtCore.Qt.MouseButton.NoButton, QtCore.Qt.KeyboardModifier.NoModifier))
    c.set_tool(Tool.BRUSH)
    settle()
    save_small(win, HERE / "editing.png")
    model.undo()
    model.mark_saved()
    win.close()
    QtWidgets.QApplication.processEvents()
    return 0


if __name__ == "__main__":
    sys.exit(main())
