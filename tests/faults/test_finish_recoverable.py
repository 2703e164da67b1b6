"""Item 4 of issue 10: a run killed after its last epoch, before it was recorded finished,
is recorded by ``train --resume`` instead of 'nothing to do' and a checkpoint that isn't there."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from segstudio.cli import main
from segstudio.store.project import Project
from tests.faults.conftest import TINY_TRAIN

KILLED_BEFORE_RECORDING = r"""
import os, signal, sys
from segstudio.services import training
from segstudio.store.project import Project
training.write_card = lambda *a, **k: os.kill(os.getpid(), signal.SIGKILL)  # right after the last epoch
project = Project.open(sys.argv[1])
training.train_project(project, dict(filters=4, depth=2, batch=4, crop=32, steps_per_epoch=2, epochs=1))
"""


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL")
def test_resume_records_a_run_killed_after_its_last_epoch(tmp_path, capsys):
    from tests.ml.conftest import make_tiny_project

    project, _ = make_tiny_project(tmp_path)
    project.close()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    child = subprocess.run([sys.executable, "-c", KILLED_BEFORE_RECORDING, str(tmp_path / "proj")],
                           env=env, capture_output=True, text=True, timeout=300)
    assert child.returncode == -signal.SIGKILL, child.stderr[-2000:]
    with Project.open(tmp_path / "proj") as project:
        assert project.runs()[0].status == "running"  # reads never write
        project.mark_interrupted_runs()  # what the window and 'segstudio runs' do first
        (run,) = project.runs()
        assert run.status == "interrupted" and not project.models()

    rc = main(["train", str(tmp_path / "proj"), "--resume", str(run.id), *TINY_TRAIN])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert "nothing to do" not in out
    with Project.open(tmp_path / "proj") as project:
        runs = project.runs()
        assert [r.status for r in runs] == ["finished"]  # recorded, not a second empty run
        (model,) = project.models()
        assert model.run_id == run.id and Path(model.path).is_file()
        assert model.card["validation"]["epoch"] == 1
        assert runs[0].model_path == model.path
    for line in out.splitlines():
        if line.startswith(("model: ", "checkpoint: ")):
            assert Path(line.split(": ", 1)[1].split(" (")[0]).exists(), line
