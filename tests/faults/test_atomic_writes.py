"""Items 3 and 6 of issue 10: every write is atomic through one helper, temps are exclusive,
carry the target's mode, never follow planted symlinks, and orphans are swept on open."""

from __future__ import annotations

import errno
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from segstudio.core import atomic
from segstudio.core.atomic import copy_atomic, write_atomic, write_text_atomic
from segstudio.store.project import Project
from tests.faults.conftest import TINY_TRAIN, fill

posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX modes, symlinks and flock")


@posix_only
def test_temp_has_the_target_mode_while_it_is_written(tmp_path):
    """A 0600 mask was saved through a 0644 temp, readable by others while it existed."""
    target = tmp_path / "secret.png"
    target.write_bytes(b"old")
    os.chmod(target, 0o600)
    seen = []

    def writer(tmp: Path) -> None:
        seen.append(stat.S_IMODE(tmp.stat().st_mode))
        tmp.write_bytes(b"new")

    old_umask = os.umask(0o022)
    try:
        write_atomic(target, writer)
    finally:
        os.umask(old_umask)
    assert seen == [0o600]
    assert stat.S_IMODE(target.stat().st_mode) == 0o600 and target.read_bytes() == b"new"


@posix_only
def test_model_card_does_not_follow_a_planted_symlink(tmp_path):
    """``ln -s victim x.card.json.tmp`` used to make the card write overwrite ``victim``."""
    from segstudio.ml.export import write_card

    victim = tmp_path / "victim"
    victim.write_text("precious")
    (tmp_path / "x.card.json.tmp").symlink_to(victim)
    write_card(tmp_path / "x.keras", {"classes": []})
    assert victim.read_text() == "precious"
    assert json.loads((tmp_path / "x.card.json").read_text()) == {"classes": []}


@posix_only
def test_temps_are_created_exclusively(tmp_path, monkeypatch):
    """A symlink planted at the very name the helper picks is skipped, not written through."""
    names = iter(["deadbeef", "cafef00d"])
    monkeypatch.setattr(atomic.secrets, "token_hex", lambda n: next(names))
    victim = tmp_path / "victim"
    victim.write_text("precious")
    (tmp_path / ".mask.deadbeef.tmp.png").symlink_to(victim)
    write_text_atomic(tmp_path / "mask.png", "new")
    assert victim.read_text() == "precious" and (tmp_path / "mask.png").read_text() == "new"


def test_copy_onto_a_full_disk_keeps_the_old_file(small_fs, tmp_path):
    old = small_fs / "model.keras"
    old_bytes = os.urandom(200_000)
    old.write_bytes(old_bytes)
    src = tmp_path / "bigger.keras"
    src.write_bytes(os.urandom(2_000_000))
    with pytest.raises(OSError) as e:
        copy_atomic(src, old)
    assert e.value.errno == errno.ENOSPC
    assert old.read_bytes() == old_bytes
    assert sorted(p.name for p in small_fs.iterdir()) == ["model.keras"]


def test_train_out_onto_a_full_disk_keeps_the_model_there(small_fs, tmp_path, capsys):
    """``train --out`` used to truncate the model at --out when the disk filled up."""
    from segstudio.cli import main
    from tests.ml.conftest import make_tiny_project

    project, _ = make_tiny_project(tmp_path)
    out = small_fs / "model.keras"
    out_bytes = os.urandom(5_000)
    out.write_bytes(out_bytes)
    fill(small_fs, leave=16_000)  # less than any model file
    rc = main(["train", str(project.root), *TINY_TRAIN, "--epochs", "1", "--out", str(out)])
    err = capsys.readouterr().err
    assert rc != 0
    last = err.strip().splitlines()[-1]  # progress lines go to stderr too
    assert "Traceback" not in err and last.startswith("segstudio train: error: ") and str(out) in last
    assert "No space left" in last
    assert out.read_bytes() == out_bytes
    assert sorted(p.name for p in small_fs.iterdir()) == ["filler", "model.keras"]
    (run,) = project.runs()
    assert run.status == "finished" and Path(run.model_path).is_file()  # kept in the project
    project.close()


def test_checkpoint_state_survives_a_failed_write(tmp_path, monkeypatch):
    """The checkpoint-state JSON was written in place: a failed write left half a file."""
    from segstudio.ml.trainer import TrainConfig, TrainData, Trainer, read_checkpoint_state
    from tests.ml.conftest import synthetic_pair

    rng = np.random.default_rng(0)
    pairs = [synthetic_pair(rng, 48) for _ in range(4)]
    counts = np.stack([np.bincount(lab[lab != 255], minlength=3)[:3] for _, lab in pairs])
    data = TrainData(load_train=pairs.__getitem__, train_counts=counts, num_classes=3, channels=1,
                     class_weights=[0.5, 2.0, 2.0], ignore_index=255, mean=[70.0], variance=[1600.0])
    real_write_text = Path.write_text
    json_writes = []

    def half_then_full_disk(self, text, *a, **k):
        if self.name.endswith(".json"):
            json_writes.append(self.name)
            if len(json_writes) == 2:
                real_write_text(self, text[: len(text) // 2], *a, **k)
                raise OSError(errno.ENOSPC, "No space left on device")
        return real_write_text(self, text, *a, **k)

    monkeypatch.setattr(Path, "write_text", half_then_full_disk)
    ckpt = tmp_path / "run" / "checkpoint.keras"
    trainer = Trainer(data, TrainConfig(epochs=2, filters=4, depth=2, batch=4, crop=32, steps_per_epoch=1),
                      model_path=tmp_path / "run" / "model.keras", checkpoint_path=ckpt)
    with pytest.raises(OSError):
        trainer.run()
    monkeypatch.undo()
    assert read_checkpoint_state(ckpt)["epoch"] == 1
    assert sorted(p.name for p in ckpt.parent.iterdir()) == [
        "checkpoint.keras", "checkpoint.keras.json", "model.keras"]


def _hold_locked(path: Path) -> subprocess.Popen:
    """Another process in the middle of an atomic write: it holds its temp under flock."""
    code = ("import fcntl, os, sys, time\n"
            "fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT | os.O_EXCL)\n"
            "fcntl.flock(fd, fcntl.LOCK_EX)\nprint('locked', flush=True)\ntime.sleep(60)\n")
    p = subprocess.Popen([sys.executable, "-I", "-c", code, str(path)], stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "locked"
    return p


@posix_only
def test_open_sweeps_orphaned_temps_only(tiny_project, tiny_dataset, tmp_path):
    masks = tiny_dataset.masks_dir
    orphans = [masks / ".img00.0123abcd.tmp.png", masks / ".img01.89abcdef.png.tmp",  # this and older versions
               tiny_project.root / "x.card.json.tmp"]
    for p in orphans:
        p.write_bytes(b"half a mask")
    users = masks / ".notes.tmp"
    users.write_text("mine")
    live = masks / ".img02.fedcba98.tmp.png"
    holder = _hold_locked(live)
    try:
        Project.open(tiny_project.root).close()
        assert [p.exists() for p in orphans] == [False, False, False]
        assert live.exists() and users.exists()
    finally:
        holder.kill()
        holder.wait()
    Project.open(tiny_project.root).close()  # its writer is gone now
    assert not live.exists()
