"""Qt tests run offscreen on a real demo project on disk, with settings in a temp folder."""

from __future__ import annotations

import os

os.environ["QT_QPA_PLATFORM"] = "offscreen"  # before anything imports Qt

import shutil
from pathlib import Path

import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pyqtgraph")

from PySide6 import QtCore

from segstudio.services.demo import make_demo

DEMO_IMAGES = 8


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory) -> Path:
    """A demo project made once; each test gets its own copy."""
    root = tmp_path_factory.mktemp("demo_template") / "demo"
    project, _ = make_demo(root, n=DEMO_IMAGES, seed=4)
    project.close()
    return root


@pytest.fixture
def demo_dir(demo_template, tmp_path) -> Path:
    dest = tmp_path / "demo"
    shutil.copytree(demo_template, dest)
    return dest


@pytest.fixture(scope="session")
def trained_template(demo_template, tmp_path_factory):
    """The demo project with one tiny trained model (trained once per session)."""
    root = tmp_path_factory.mktemp("trained") / "demo"
    shutil.copytree(demo_template, root)
    from segstudio.services import corrections
    from segstudio.store.project import Project

    project = Project.open(root)
    corrections.train_with_corrections(project, dict(filters=4, depth=2, crop=32, batch=2,
                                                     steps_per_epoch=2, epochs=1))
    project.close()
    return root


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path_factory):
    """QSettings (recent projects, geometry) go to a temp folder, never the user's."""
    folder = tmp_path_factory.mktemp("settings")
    QtCore.QSettings.setPath(QtCore.QSettings.Format.IniFormat, QtCore.QSettings.Scope.UserScope, str(folder))
    yield folder


def open_window(qtbot, project_dir, richest: bool = False):
    """Main window on a project, first (or richest) image open, dialogs off (errors still
    recorded). A generator: the fixtures yield from it and it closes the window after."""
    from segstudio.qt.app import make_app
    from segstudio.qt.main_window import MainWindow

    make_app()
    win = MainWindow(dialogs=False, restore_layout=False)
    qtbot.addWidget(win)
    win.resize(1200, 800)
    win.show()
    qtbot.waitExposed(win)
    assert win.open_project(project_dir)
    win.open_first_image(richest=richest)
    qtbot.waitUntil(lambda: win.session.current is not None)
    yield win
    win.session.autosave = False
    if win.session.model is not None:
        win.session.model.mark_saved()
    win.close()


@pytest.fixture
def window(qtbot, demo_dir):
    """Main window on the demo project, first image open."""
    yield from open_window(qtbot, demo_dir)


@pytest.fixture
def trained_window(qtbot, trained_template, tmp_path):
    """Main window on a copy of the trained demo project, its richest image open."""
    dest = tmp_path / "demo"
    shutil.copytree(trained_template, dest)
    yield from open_window(qtbot, dest, richest=True)
