"""Grab docs/img/training_plan.png: the Train workspace at the plan, its Advanced section open,
on the real EM slices (../shared/data/epfl-em) imported into a temporary project, 1400x900.

    .venv/bin/python docs/img/make_plan_screenshot.py [--out DIR]
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
EM = HERE.parents[2] / "shared" / "data" / "epfl-em"
sys.path.insert(0, str(HERE))

from make_gui_screenshots import save_small  # noqa: E402 (beside this script)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=str(HERE))
    args = ap.parse_args()
    if not EM.exists():
        print(f"{EM}: not found", file=sys.stderr)
        return 1

    from PySide6 import QtCore

    from segstudio.qt.app import make_app
    from segstudio.qt.main_window import MainWindow
    from segstudio.services.project_import import import_folder

    tmp = tempfile.TemporaryDirectory(prefix="segstudio-shots-")
    QtCore.QSettings.setPath(QtCore.QSettings.Format.IniFormat, QtCore.QSettings.Scope.UserScope, tmp.name)
    root = Path(tmp.name) / "em"
    import_folder(root, EM / "train" / "images", EM / "train" / "masks", EM / "classes.csv")[0].close()

    app = make_app()
    win = MainWindow(dialogs=False, restore_layout=False)
    win.learning.session.query_devices = False
    win.resize(1400, 900)
    win.show()
    assert win.open_project(root), win.errors.history
    win.open_first_image()
    win.workspaces.switch("train")
    panel = win.learning.training

    def settle(seconds: float) -> None:
        end = time.time() + seconds
        while time.time() < end:
            app.processEvents(QtCore.QEventLoop.ProcessEventsFlag.AllEvents, 50)
            time.sleep(0.01)

    settle(1.0)
    panel.advanced.set_open(True)
    settle(0.5)
    panel.scroll.ensureWidgetVisible(panel.reasons["rare_fraction"])
    settle(0.5)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    save_small(win, out / "training_plan.png", quantize=False)
    win.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
