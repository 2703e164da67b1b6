"""Trainer: callbacks, checkpoints, cancel, resume, NaN stop and the collapse alarm, on tiny data."""

import threading

import keras
import numpy as np
import pytest

from segstudio.ml.trainer import (
    TrainConfig,
    TrainData,
    Trainer,
    collapse_alarm,
    read_checkpoint_state,
    strategy_for_devices,
)

TINY = dict(filters=4, depth=2, batch=4, crop=32, steps_per_epoch=3, lr=1e-3)


@pytest.fixture(scope="module")
def data():
    from tests.ml.conftest import synthetic_pair

    rng = np.random.default_rng(0)
    train = [synthetic_pair(rng, 48) for _ in range(6)]
    val = [synthetic_pair(rng, 48) for _ in range(2)]
    counts = np.stack([np.bincount(lab[lab != 255], minlength=3)[:3] for _, lab in train])
    return TrainData(
        load_train=train.__getitem__, train_counts=counts, num_classes=3, channels=1,
        class_weights=[0.5, 2.0, 2.0], load_val=val.__getitem__, n_val=2, ignore_index=255,
        mean=[70.0], variance=[1600.0],
    )


class Recorder:
    def __init__(self, on_batch=None):
        self.batches, self.epochs, self.messages = [], [], []
        self._on_batch = on_batch

    def on_batch(self, epoch, step, steps, loss):
        self.batches.append((epoch, step, loss))
        if self._on_batch:
            self._on_batch(epoch, step)

    def on_epoch(self, report):
        self.epochs.append(report)

    def on_message(self, text):
        self.messages.append(text)


def test_training_reports_every_batch_and_epoch(data, tmp_path):
    rec = Recorder()
    result = Trainer(data, TrainConfig(epochs=2, **TINY), model_path=tmp_path / "m.keras",
                     callbacks=rec).run()
    assert result.status == "finished" and result.epochs_done == 2
    assert [(e, s) for e, s, _ in rec.batches] == [(1, 1), (1, 2), (1, 3), (2, 1), (2, 2), (2, 3)]
    r = rec.epochs[-1]
    assert r.epoch == 2 and len(r.per_class_iou) == 3 and r.val_loss is not None
    assert r.fg_miou is not None and 0 <= r.pixel_accuracy <= 1
    assert r.confusion.sum() == 2 * 48 * (48 - 2)  # every non-void validation pixel, once
    assert read_checkpoint_state(result.checkpoint_path)["epoch"] == 2
    plain = keras.saving.load_model(result.model_path, compile=False)
    assert plain.output_shape[-1] == 3


def test_training_runs_in_a_worker_thread(data, tmp_path):
    out = {}
    t = threading.Thread(target=lambda: out.update(r=Trainer(
        data, TrainConfig(epochs=1, **TINY), model_path=tmp_path / "m.keras").run()))
    t.start()
    t.join(120)
    assert out["r"].status == "finished"


def test_cancel_stops_at_next_batch_and_keeps_last_good_checkpoint(data, tmp_path):
    cancel = threading.Event()
    rec = Recorder(on_batch=lambda e, s: cancel.set() if (e, s) == (2, 2) else None)
    result = Trainer(data, TrainConfig(epochs=3, **TINY), model_path=tmp_path / "m.keras",
                     callbacks=rec, cancel=cancel).run()
    assert result.status == "cancelled" and result.epochs_done == 1
    assert rec.batches[-1][:2] == (2, 2)  # nothing ran after the cancel
    assert read_checkpoint_state(result.checkpoint_path)["epoch"] == 1
    ckpt = keras.saving.load_model(result.checkpoint_path)  # compiled: optimizer and loss come back
    assert all(np.all(np.isfinite(w)) for w in ckpt.get_weights())


def test_resume_continues_from_the_checkpoint(data, tmp_path):
    first = Trainer(data, TrainConfig(epochs=1, **TINY), model_path=tmp_path / "a.keras").run()
    rec = Recorder()
    second = Trainer(data, TrainConfig(epochs=2, **TINY), model_path=tmp_path / "b.keras",
                     checkpoint_path=tmp_path / "b.ckpt.keras", callbacks=rec,
                     resume_from=first.checkpoint_path).run()
    assert second.status == "finished" and second.epochs_done == 2
    assert [r.epoch for r in rec.epochs] == [2]
    assert {e for e, _, _ in rec.batches} == {2}


def test_nan_loss_stops_with_a_clear_message(data, tmp_path):
    poisoned = threading.Event()

    def load(i):
        image, labels = data.load_train(i)
        return (np.full(image.shape, np.nan, np.float32) if poisoned.is_set() else image), labels

    bad = TrainData(**{**data.__dict__, "load_train": load})
    rec = Recorder()
    rec.on_epoch = lambda r: (rec.epochs.append(r), poisoned.set())
    result = Trainer(bad, TrainConfig(epochs=6, **TINY), model_path=tmp_path / "m.keras",
                     callbacks=rec).run()
    assert result.status == "failed"
    assert "loss became nan" in result.message and "checkpoint of epoch 2 is kept" in result.message
    assert 1 <= result.epochs_done < 6
    ckpt = keras.saving.load_model(result.checkpoint_path, compile=False)
    assert all(np.all(np.isfinite(w)) for w in ckpt.get_weights())


def test_collapse_alarm_both_ways():
    healthy = np.array([[9000, 50, 50], [20, 80, 0], [10, 0, 90]])
    assert collapse_alarm(healthy) is None
    collapsed = np.array([[9100, 0, 0], [100, 0, 0], [99, 0, 1]])
    assert collapse_alarm(collapsed).startswith("foreground collapse")
    flooded = np.array([[6000, 2000, 1100], [0, 100, 0], [0, 0, 100]])
    assert collapse_alarm(flooded).startswith("background flood")
    # no foreground in the validation truth: nothing to collapse from
    assert collapse_alarm(np.array([[100, 0], [0, 0]])) is None


def test_no_distribution_strategy_on_a_plain_cpu(monkeypatch):
    import tensorflow as tf

    monkeypatch.delenv("TF_CONFIG", raising=False)
    if len(tf.config.list_physical_devices("GPU")) <= 1:
        assert strategy_for_devices() is None
