"""Item 5 of issue 10: the window's child processes never run modules from the current folder."""

from __future__ import annotations

import os

import pytest

from segstudio.services.subprocess_jobs import ChildJob, child_pythonpath

PLANTED = """
import pathlib
pathlib.Path(__file__).with_name("PLANTED_CODE_RAN").write_text("pwned")
raise SystemExit("planted json.py ran")
"""


@pytest.mark.parametrize("inherited", [None, os.pathsep])  # an empty entry means the cwd
def test_child_ignores_a_planted_module_in_the_current_folder(tmp_path, monkeypatch, inherited):
    (tmp_path / "json.py").write_text(PLANTED)
    monkeypatch.chdir(tmp_path)
    if inherited is None:
        monkeypatch.delenv("PYTHONPATH", raising=False)
    else:
        monkeypatch.setenv("PYTHONPATH", os.environ.get("PYTHONPATH", "") + inherited)
    result = ChildJob("devices", {}).run()
    assert not (tmp_path / "PLANTED_CODE_RAN").exists()
    assert result["devices"]  # the job itself ran (at least the CPU)


def test_child_pythonpath_has_no_relative_or_empty_entries(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    entries = child_pythonpath(f"{os.pathsep}rel{os.pathsep}/abs{os.pathsep}").split(os.pathsep)
    assert entries[1:] == [str(tmp_path / "rel"), "/abs"]
    assert all(os.path.isabs(e) for e in entries)
