"""Item 11 of issue 10: a locked, read-only or damaged database, a full disk and broken
.keras files each get one line naming the file -- never a traceback."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import zipfile

import numpy as np
import pytest
from PIL import Image

from segstudio.cli import main
from segstudio.store import schema
from segstudio.store.project import Project
from tests.faults.conftest import fill


def _one_error_line(capsys, command: str) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err, err
    lines = [line for line in err.strip().splitlines() if line.startswith(f"segstudio {command}: error: ")]
    assert len(lines) == 1 and lines[0] == err.strip().splitlines()[-1], err
    return lines[0]


@pytest.fixture
def read_only_copy(tiny_project, tmp_path):
    """The tiny project seen through a read-only bind mount (root only)."""
    tiny_project.close()
    mnt = tmp_path / "ro"
    mnt.mkdir()
    r = subprocess.run(["mount", "--bind", str(tiny_project.root), str(mnt)], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot bind-mount a read-only copy: {r.stderr.strip()}")
    try:
        if subprocess.run(["mount", "-o", "remount,bind,ro", str(mnt)], capture_output=True).returncode:
            pytest.skip("cannot remount read-only")
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def test_a_read_only_project_shows_stats_and_refuses_changes(read_only_copy, capsys):
    assert main(["stats", str(read_only_copy)]) == 0
    assert "background" in capsys.readouterr().out
    assert main(["index", "--force", str(read_only_copy)]) != 0
    assert "read-only" in _one_error_line(capsys, "index")


def test_a_read_only_open_leaves_no_wal_or_shm(tiny_project, monkeypatch):
    """A database the user may not write (0444, someone else's) used to get -wal/-shm files."""
    tiny_project.close()
    for suffix in ("-wal", "-shm"):
        tiny_project.db_path.with_name(tiny_project.db_path.name + suffix).unlink(missing_ok=True)
    before = sorted(os.listdir(tiny_project.root))
    monkeypatch.setattr(schema, "_writable", lambda path: False)
    with Project.open(tiny_project.root) as project:  # SQLite creates -wal/-shm while open
        assert len(project.class_table()) == 4 and project.class_totals().n_labelled == 4
        assert sorted(os.listdir(tiny_project.root)) == before


def test_a_write_lock_held_too_long(tiny_project, monkeypatch, capsys):
    monkeypatch.setattr(schema, "LOCK_TIMEOUT_S", 0.2)
    holder = sqlite3.connect(tiny_project.db_path)
    holder.execute("BEGIN IMMEDIATE")
    try:
        assert main(["index", "--force", str(tiny_project.root)]) != 0
    finally:
        holder.rollback()
        holder.close()
    line = _one_error_line(capsys, "index")
    assert "write lock" in line and str(tiny_project.db_path) in line


def test_a_damaged_database(tiny_project, capsys):
    tiny_project.close()
    with sqlite3.connect(tiny_project.db_path) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    page, size = 4096, tiny_project.db_path.stat().st_size
    with open(tiny_project.db_path, "r+b") as f:
        for k in range(3, size // page):  # keep the header and the schema page
            f.seek(k * page)
            f.write(b"\xff" * page)
    assert main(["stats", str(tiny_project.root)]) != 0
    assert "damaged" in _one_error_line(capsys, "stats")


@pytest.fixture
def images(tmp_path):
    folder = tmp_path / "images"
    folder.mkdir()
    for i in range(3):
        Image.fromarray(np.full((64, 64), 40 * i, np.uint8)).save(folder / f"im{i}.png")
    return folder


def test_a_corrupt_keras_file_is_not_called_missing(tmp_path, images, capsys):
    model = tmp_path / "model.keras"
    model.write_bytes(os.urandom(4096))
    assert main(["predict", str(model), str(images), "--out", str(tmp_path / "out")]) != 0
    line = _one_error_line(capsys, "predict")
    assert str(model) in line and "not a zip archive" in line and "not found" not in line.lower()


def test_a_keras_file_with_a_broken_config(tmp_path, images, capsys):
    model = tmp_path / "model.keras"
    with zipfile.ZipFile(model, "w") as z:
        z.writestr("metadata.json", json.dumps({"keras_version": "3.0.0"}))
        z.writestr("config.json", json.dumps({"class_name": "Functional", "config": {"layers": [{}]}}))
    assert main(["predict", str(model), str(images), "--out", str(tmp_path / "out")]) != 0
    assert "not a loadable Keras model (TypeError" in _one_error_line(capsys, "predict")


def test_predict_out_onto_a_full_disk(small_fs, tmp_path, images, capsys):
    from segstudio.ml.trainer import save_inference_model
    from segstudio.ml.unet import build_unet

    model = tmp_path / "model.keras"
    save_inference_model(build_unet(3, channels=1, depth=1, filters=2), model)
    fill(small_fs, leave=200)
    rc = main(["predict", str(model), str(images), "--out", str(small_fs / "pred")])
    line = _one_error_line(capsys, "predict")
    assert rc == 1 and "No space left on device" in line and str(small_fs / "pred" / "im0.png") in line
    assert sorted(p.name for p in small_fs.rglob("*")) == ["filler", "pred"]


def test_train_onto_a_full_disk(small_fs, capsys):
    """The project itself on a disk that fills up while training."""
    from tests.faults.conftest import TINY_TRAIN
    from tests.ml.conftest import make_tiny_project

    project, _ = make_tiny_project(small_fs)
    project.close()
    fill(small_fs, leave=30_000)
    rc = main(["train", str(small_fs / "proj"), *TINY_TRAIN, "--epochs", "1"])
    line = _one_error_line(capsys, "train")
    assert rc != 0 and any(s in line for s in ("No space left", "disk is full", "disk I/O error")), line
    assert not [p for p in small_fs.rglob("*") if ".tmp" in p.name]
