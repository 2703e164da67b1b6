"""Grab docs/img/training_panel.png (mid-run) and docs/img/prediction_overlay.png from the
real window, offscreen, on a generated demo project.

    .venv/bin/python docs/img/make_learning_screenshots.py [--epochs 20 --grab-at 12]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

HERE = Path(__file__).resolve().parent


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--images", type=int, default=40)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--grab-at", type=int, default=12, help="grab the training panel after this epoch")
    ap.add_argument("--filters", type=int, default=16)
    ap.add_argument("--depth", type=int, default=4)
    ap.add_argument("--out", default=str(HERE))
    ap.add_argument("--project", help="reuse this demo project folder (created when missing)")
    ap.add_argument("--overlay-only", action="store_true", help="no training: overlay of the cached predictions")
    ap.add_argument("--image", help="show this image file in the overlay shot (default: the richest)")
    ap.add_argument("--zoom", help="x,y,w,h of the image region the overlay shot shows")
    ap.add_argument("--highlight", default="disagreement", choices=["none", "confidence", "disagreement"])
    args = ap.parse_args()

    from PySide6 import QtCore

    from segstudio.qt.app import make_app
    from segstudio.qt.main_window import MainWindow
    from segstudio.services.demo import make_demo
    from segstudio.store.project import Project

    tmp = tempfile.TemporaryDirectory(prefix="segstudio-shots-")
    QtCore.QSettings.setPath(QtCore.QSettings.Format.IniFormat, QtCore.QSettings.Scope.UserScope, tmp.name)
    root = Path(args.project) if args.project else Path(tmp.name) / "demo"
    if not Project.exists(root):
        make_demo(root, n=args.images, size=args.size, seed=7)[0].close()
    app = make_app()
    win = MainWindow(dialogs=False, restore_layout=False)
    win.resize(1680, 1050)
    win.show()
    assert win.open_project(root), win.errors.history
    win.open_first_image(richest=True)
    L = win.learning
    win.workspaces.switch("train")
    panel = L.training
    panel.set_config(start="new", epochs=args.epochs, steps_per_epoch=args.steps, filters=args.filters,
                     depth=args.depth)  # the engine's defaults otherwise
    panel.plots.set_checked_classes([c.id for c in win.session.table if c.id and c.id <= 12])
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    grabbed = {"training": False}

    def wait(cond, seconds: float) -> None:
        end = time.time() + seconds
        while not cond() and time.time() < end:
            app.processEvents(QtCore.QEventLoop.ProcessEventsFlag.AllEvents, 50)
            time.sleep(0.01)

    if args.overlay_only:
        return overlay(args, app, win, wait, out, predict=False)
    epochs: list[dict] = []
    win.learning.session.trainingEpoch.connect(epochs.append)
    panel.start()
    wait(lambda: len(epochs) >= args.grab_at or not panel.running, 3600)
    # let the epoch signal and a few batches of the next epoch reach the plots
    wait(lambda: False, 1.5)
    if panel.running:
        win.grab().save(str(out / "training_panel.png"))
        grabbed["training"] = True
        print("wrote", out / "training_panel.png", "at epoch", len(epochs))
    wait(lambda: not panel.running, 3600)
    if not grabbed["training"]:
        print("the run ended before --grab-at; lower it", file=sys.stderr)
    return overlay(args, app, win, wait, out, predict=True) if grabbed["training"] else 1


def overlay(args, app, win, wait, out: Path, predict: bool) -> int:
    """Predictions over the images, then the overlay of one image, zoomed in."""
    from PySide6 import QtCore, QtWidgets

    L = win.learning
    P = L.predictions
    win.workspaces.switch("review")
    ids = [r.id for r in win.session.images()]
    if predict:
        P.predict(ids)
        wait(lambda: L.session.prediction_job is None, 1800)
    if args.image:
        L.open_image(next(r.id for r in win.session.images() if Path(r.path).name == args.image))
    L.session.refresh_models()
    L.history.select_runs([L.history.selected_runs()[0]] if L.history.selected_runs() else
                          [int(L.history.view.item(0, 0).text())])
    P.set_view("both")
    P.set_highlight(args.highlight)
    win.canvas.fit()
    if args.zoom:
        x, y, w, h = (float(v) for v in args.zoom.split(","))
        win.canvas.viewbox.setRange(QtCore.QRectF(x, y, w, h), padding=0)
    wait(lambda: False, 1.0)
    win.grab().save(str(out / "prediction_overlay.png"))
    print("wrote", out / "prediction_overlay.png")
    print("errors:", win.errors.history)
    win.session.autosave = False
    win.close()
    QtWidgets.QApplication.processEvents()
    return 0 if not win.errors.history else 1


if __name__ == "__main__":
    sys.exit(main())
