"""Grab each workspace (Annotate, Train, Review) of the real window, offscreen, on a demo
project with a trained model and its predictions: docs/img/workspace_<name>.png at 1400x900.

    .venv/bin/python docs/img/make_workspace_screenshots.py [--size 1920x1080 --out /tmp/shots]
        [--project DEMO] [--epochs 6]
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
sys.path.insert(0, str(HERE))

from make_gui_screenshots import save_small  # noqa: E402 (beside this script)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", default="1400x900")
    ap.add_argument("--out", default=str(HERE))
    ap.add_argument("--project", help="reuse this demo project folder (made and trained when missing)")
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--workspaces", default="annotate,train,review")
    args = ap.parse_args()
    width, height = (int(v) for v in args.size.lower().split("x"))

    from PySide6 import QtCore, QtWidgets

    from segstudio.qt.app import make_app
    from segstudio.qt.main_window import MainWindow
    from segstudio.services import corrections
    from segstudio.services.demo import make_demo
    from segstudio.store.project import Project

    tmp = tempfile.TemporaryDirectory(prefix="segstudio-shots-")
    QtCore.QSettings.setPath(QtCore.QSettings.Format.IniFormat, QtCore.QSettings.Scope.UserScope, tmp.name)
    root = Path(args.project) if args.project else Path(tmp.name) / "demo"
    if not Project.exists(root):
        make_demo(root, n=40, size=256, seed=7)[0].close()
    project = Project.open(root)
    if not project.runs():
        print("training a small model…", flush=True)
        corrections.train_with_corrections(project, dict(filters=16, depth=4, crop=96, batch=8,
                                                         steps_per_epoch=args.steps, epochs=args.epochs))
    project.close()

    app = make_app()
    win = MainWindow(dialogs=False, restore_layout=False)
    win.learning.session.query_devices = False
    win.resize(width, height)
    win.show()
    assert win.open_project(root), win.errors.history
    win.open_first_image(richest=True)
    L = win.learning

    def wait(cond, seconds: float) -> None:
        end = time.time() + seconds
        while not cond() and time.time() < end:
            app.processEvents(QtCore.QEventLoop.ProcessEventsFlag.AllEvents, 50)
            time.sleep(0.01)

    L.session.refresh_models()
    if L.predictions.cached is None:
        L.predictions.predict([r.id for r in win.session.images()])
        wait(lambda: L.session.prediction_job is None, 1800)
    runs = L.history.selected_runs() or [int(L.history.view.item(0, 0).text())]
    L.history.select_runs(runs[:1])
    L.training.plots.set_checked_classes([c.id for c in win.session.table if c.id and c.id <= 12])
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for name in args.workspaces.split(","):
        win.workspaces.switch(name)
        review = name == "review"  # elsewhere the mask alone
        L.predictions.set_view("both" if review else "mask")
        L.predictions.set_highlight("disagreement" if review else "none")
        wait(lambda: False, 0.6)
        save_small(win, out / (f"workspace_{name}.png" if args.size == "1400x900"
                               else f"workspace_{name}_{args.size}.png"))
    print("errors:", win.errors.history)
    win.session.autosave = False
    win.close()
    QtWidgets.QApplication.processEvents()
    return 0 if not win.errors.history else 1


if __name__ == "__main__":
    sys.exit(main())
