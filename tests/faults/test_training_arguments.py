"""Item 12 of issue 10: nonsense learning rates are usage errors; a NaN stop does not point
at a checkpoint that was never written."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from segstudio.cli import main
from tests.faults.conftest import TINY_TRAIN


@pytest.mark.parametrize("lr", ["nan", "inf", "-inf", "-1", "0", "1e6", "fast"])
def test_bad_learning_rates_are_usage_errors(tiny_project, capsys, lr):
    with pytest.raises(SystemExit) as e:
        main(["train", str(tiny_project.root), "--lr", lr, "--epochs", "1"])
    err = capsys.readouterr().err
    assert e.value.code == 2
    assert "argument --lr" in err.strip().splitlines()[-1] and "Traceback" not in err
    assert not tiny_project.runs()


def test_nan_in_the_first_epoch_offers_no_checkpoint(tmp_path, capsys, monkeypatch):
    from segstudio.ml import trainer
    from tests.ml.conftest import make_tiny_project

    real = trainer._Bridge.on_train_batch_end

    def nan_loss(self, batch, logs=None):
        return real(self, batch, {**(logs or {}), "loss": math.nan})

    monkeypatch.setattr(trainer._Bridge, "on_train_batch_end", nan_loss)
    project, _ = make_tiny_project(tmp_path)
    rc = main(["train", str(project.root), *TINY_TRAIN, "--epochs", "1"])
    out = capsys.readouterr().out
    (run,) = project.runs()
    assert rc == 1 and run.status == "failed"
    assert "no checkpoint had been written yet" in run.message and "is kept" not in run.message
    assert "--resume" not in out and not Path(run.checkpoint_path).exists()
    project.close()
