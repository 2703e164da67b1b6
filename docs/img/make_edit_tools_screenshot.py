"""Re-make docs/img/edit_tools.png: mask edges only, a hidden class, prediction outlines with
their legend, and the status bar's predicted class + confidence (offscreen, 1400x900).

The prediction is the mask shifted by 3 px plus a made-up block, so no model is needed: the
picture shows how things are drawn, not a model's quality.

Usage: python docs/img/make_edit_tools_screenshot.py [DEMO_FOLDER]   (made with 20 images if absent)
"""

from __future__ import annotations

import os
import sys
import tempfile
from datetime import datetime
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

HERE = Path(__file__).resolve().parent


def main() -> int:
    import numpy as np
    from PySide6 import QtCore, QtGui

    from segstudio.qt.app import make_app
    from segstudio.qt.learning_session import ShownPrediction
    from segstudio.qt.main_window import MainWindow
    from segstudio.services.demo import make_demo
    from segstudio.services.prediction_cache import CachedPrediction
    from segstudio.store.learning import PredictionRecord

    sys.path.insert(0, str(HERE))
    from make_gui_screenshots import save_small

    demo = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp()) / "demo"
    if not (demo / "segstudio.db").exists():
        project, _ = make_demo(demo, n=20)
        project.close()
    _app = make_app()

    def settle(ms: int = 300) -> None:
        loop = QtCore.QEventLoop()
        QtCore.QTimer.singleShot(ms, loop.quit)
        loop.exec()

    win = MainWindow(dialogs=False, restore_layout=False)
    win.resize(1400, 900)
    win.show()
    win.open_project(demo)
    win.open_first_image(richest=True)
    settle()
    labels = win.session.model.labels
    classes = np.roll(labels, 3, axis=1)
    confidence = np.clip(np.random.default_rng(0).normal(0.85, 0.1, labels.shape), 0, 1).astype(np.float32)
    image_id = win.session.current.record.id
    record = PredictionRecord(image_id, 1, "", "", datetime.now(), float(confidence.mean()), 0.1, 0, None, 0.1)
    shown = ShownPrediction(image_id, CachedPrediction(image_id, classes, confidence, record), True, 1)
    win.learning.session.shown = shown
    win.learning.session.predictionChanged.emit(shown)
    win.learning.docks["predictions"].raise_()
    present = [int(i) for i in np.unique(labels) if i]
    win.session.set_hidden_classes({present[0]})
    win.toolbar.contour_action.setChecked(True)
    ys, xs = np.nonzero(labels == present[1])
    x, y = int(xs.mean()), int(ys.mean())
    c = win.canvas
    c.viewbox.setRange(QtCore.QRectF(x - 60, y - 40, 120, 80), padding=0)
    settle(100)
    vp = c.viewport()
    pos = QtCore.QPointF(c.mapFromScene(c.viewbox.mapViewToScene(QtCore.QPointF(x + 0.5, y + 0.5))))
    QtCore.QCoreApplication.sendEvent(vp, QtGui.QMouseEvent(
        QtCore.QEvent.Type.MouseMove, pos, vp.mapToGlobal(pos), QtCore.Qt.MouseButton.NoButton,
        QtCore.Qt.MouseButton.NoButton, QtCore.Qt.KeyboardModifier.NoModifier))
    settle()
    save_small(win, HERE / "edit_tools.png")
    win.session.model.mark_saved()
    win.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
