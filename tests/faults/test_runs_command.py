"""Item 14 of issue 10: ``segstudio runs PROJECT [--json]`` lists the training runs."""

from __future__ import annotations

import json
import socket
import subprocess

from segstudio.cli import main


def _runs(project):
    finished = project.create_run({"epochs": 3}, [1.0, 2.0])
    for e, fg in ((1, 0.2), (2, 0.45), (3, 0.4)):
        project.add_epoch(finished, e, train_loss=1.0, fg_miou=fg)
    project.finish_run(finished, "finished", "finished 3 epochs", model_path=str(project.root / "m.keras"))
    dead = subprocess.Popen(["true"])
    dead.wait()
    killed = project.create_run({"epochs": 5}, [1.0, 2.0])
    project.add_epoch(killed, 1, train_loss=1.0)
    project.update_run(killed, process_id=dead.pid, host=socket.gethostname())
    return finished, killed


def test_runs_json_lists_every_run(tiny_project, capsys):
    finished, killed = _runs(tiny_project)
    assert main(["runs", str(tiny_project.root), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["id"], r["status"], r["epochs"], r["epochs_planned"]) for r in rows] == [
        (finished, "finished", 3, 3), (killed, "interrupted", 1, 5)]
    assert rows[0]["best_fg_miou"] == 0.45 and rows[0]["model_path"].endswith("m.keras")
    assert rows[1]["model_path"] is None


def test_runs_table(tiny_project, capsys):
    _runs(tiny_project)
    assert main(["runs", str(tiny_project.root)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["id", "status", "epochs", "best", "fg", "mIoU", "model"]
    assert lines[1].split()[1:4] == ["finished", "3/3", "0.450"]
    assert lines[2].split()[1:] == ["interrupted", "1/5", "-", "-"]


def test_runs_of_a_project_without_runs(tiny_project, capsys):
    assert main(["runs", str(tiny_project.root)]) == 0
    assert capsys.readouterr().out.strip() == "no training runs yet"
