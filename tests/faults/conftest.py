"""Fault-injection fixtures: a tiny full filesystem, CPU-quiet TensorFlow, tiny projects."""

from __future__ import annotations

import os
import subprocess
import uuid

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")
os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "2")

#: keyword arguments of a TrainConfig small enough for a CPU test
TINY_TRAIN = ["--filters", "4", "--depth", "2", "--batch", "4", "--crop", "32", "--steps-per-epoch", "2"]


@pytest.fixture
def small_fs(tmp_path):
    """A 1 MiB tmpfs at ``tmp_path / "small"`` (root only; skipped where mounting is not allowed)."""
    mnt = tmp_path / f"small-{uuid.uuid4().hex[:6]}"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1M", "tmpfs", str(mnt)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs to fill up: {r.stderr.strip() or r.returncode}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def fill(folder, leave: int = 0) -> None:
    """Fill the filesystem of ``folder`` until at most ``leave`` bytes are free."""
    st = os.statvfs(folder)
    free = st.f_bavail * st.f_frsize - leave
    with open(os.path.join(folder, "filler"), "wb") as f:
        try:
            f.write(b"\0" * max(free, 0))
        except OSError:
            pass
