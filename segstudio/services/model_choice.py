"""Which trained model the project uses for predicting and as the start of a retrain.

The *active* model is the run the user chose (remembered in the project's settings), or,
when they chose none -- or the chosen one's model file is gone -- the best finished run by
validation foreground mIoU. A prediction is *current* when the active model made it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from segstudio.core.statuses import RunStatus
from segstudio.store.project import Project, RunRecord

#: project setting: the run id the user chose as the active model (absent/None: automatic)
ACTIVE_RUN_SETTING = "active_model_run"


def has_model(run: RunRecord) -> bool:
    return bool(run.model_path) and Path(run.model_path).exists()


def best_model_run(runs: Sequence[RunRecord]) -> RunRecord | None:
    """The finished run with the best foreground mIoU (ties: the newer); without any finished
    run, the best of the runs that left a model (cancelled ones keep theirs)."""
    with_model = [r for r in runs if has_model(r)]
    finished = [r for r in with_model if r.status == RunStatus.FINISHED]
    pool = finished or with_model
    if not pool:
        return None
    return max(pool, key=lambda r: (r.best_fg_miou if r.best_fg_miou is not None else -1.0, r.id))


def chosen_run_id(project: Project) -> int | None:
    value = project.get_setting(ACTIVE_RUN_SETTING)
    return int(value) if value is not None else None


def active_model_run(project: Project, runs: Sequence[RunRecord] | None = None) -> RunRecord | None:
    runs = project.runs() if runs is None else runs
    chosen = chosen_run_id(project)
    for r in runs:
        if r.id == chosen and has_model(r):
            return r
    return best_model_run(runs)


def choose_model(project: Project, run_id: int | None) -> None:
    """Remember ``run_id`` as the project's active model (None: back to the best run)."""
    if run_id is not None and not any(r.id == run_id and has_model(r) for r in project.runs()):
        raise ValueError(f"run {run_id} has no model file to predict with")
    project.set_setting(ACTIVE_RUN_SETTING, run_id)
