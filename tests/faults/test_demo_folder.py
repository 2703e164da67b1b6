"""Item 13 of issue 10: ``segstudio demo DIR`` never overwrites a folder that is not an
earlier demo (a newer-schema project included), and writes nothing before refusing."""

from __future__ import annotations

import sqlite3

import numpy as np
from PIL import Image

from segstudio.cli import main
from segstudio.services.project_import import import_folder

DEMO = ["--n", "2", "--size", "32"]


def _snapshot(root):
    """Every file's bytes (SQLite's -shm index aside: readers may touch it)."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and not p.name.endswith("-shm")}


def _own_project(root):
    """A project laid out like the demo: images/ and masks/ inside the project folder."""
    for d in ("images", "masks"):
        (root / d).mkdir(parents=True)
        Image.fromarray(np.full((32, 32), 1, np.uint8)).save(root / d / "demo_0000.png")
        Image.fromarray(np.full((32, 32), 1, np.uint8)).save(root / d / "mine.png")
    project, _ = import_folder(root, root / "images", root / "masks")
    project.close()


def test_demo_refuses_an_existing_project(tmp_path, capsys):
    root = tmp_path / "proj"
    _own_project(root)
    before = _snapshot(root)
    assert main(["demo", str(root), *DEMO]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "not an earlier demo" in err[0] and str(root) in err[0]
    assert _snapshot(root) == before


def test_demo_refuses_a_newer_schema_project_before_writing(tmp_path, capsys):
    root = tmp_path / "proj"
    _own_project(root)
    with sqlite3.connect(root / "segstudio.db") as db:
        db.execute("UPDATE alembic_version SET version_num = 'ffff_newer'")
    before = _snapshot(root)
    assert main(["demo", str(root), *DEMO]) != 0
    assert "newer segstudio" in capsys.readouterr().err
    assert _snapshot(root) == before


def test_demo_refuses_a_folder_of_other_files(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("mine")
    assert main(["demo", str(tmp_path), *DEMO]) != 0
    assert "not an earlier demo" in capsys.readouterr().err
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_demo_regenerates_over_an_earlier_demo(tmp_path, capsys):
    root = tmp_path / "demo"
    assert main(["demo", str(root), *DEMO]) == 0
    assert main(["demo", str(root), *DEMO, "--seed", "1"]) == 0


def test_demo_finishes_a_demo_stopped_before_its_database(tmp_path, capsys):
    root = tmp_path / "demo"
    for d in ("images", "masks"):
        (root / d).mkdir(parents=True)
        Image.fromarray(np.zeros((32, 32), np.uint8)).save(root / d / "demo_0000.png")
    assert main(["demo", str(root), *DEMO]) == 0
