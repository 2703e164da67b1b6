"""Trainer: callbacks, checkpoints, cancel, resume, NaN stop and the collapse alarm, on tiny data."""

import re
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


def test_cancel_during_validation_stops_before_the_next_image(data, tmp_path):
    """Validation used to run every image (and save) before looking at the cancel."""
    import dataclasses

    cancel, loaded = threading.Event(), []

    def load_val(i):
        loaded.append(i)
        if len(loaded) == 3:  # epoch 2's first validation image: the user presses Cancel
            cancel.set()
        return data.load_val(i)

    rec = Recorder()
    result = Trainer(dataclasses.replace(data, load_val=load_val), TrainConfig(epochs=3, **TINY),
                     model_path=tmp_path / "m.keras", callbacks=rec, cancel=cancel).run()
    assert result.status == "cancelled" and "validation" in result.message
    assert loaded == [0, 1, 0]  # epoch 2's second image never ran
    assert [r.epoch for r in rec.epochs] == [1] and result.epochs_done == 1
    assert read_checkpoint_state(result.checkpoint_path)["epoch"] == 1  # the last full epoch's


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
    assert "loss became nan" in result.message and re.search(r"the checkpoint of epoch \d+ is kept", result.message)
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


def test_a_time_budget_stops_the_run_and_keeps_the_best_checkpoint(data, tmp_path):
    rec = Recorder()
    cfg = TrainConfig(epochs=100_000, minutes=0.1, **TINY)
    trainer = Trainer(data, cfg, model_path=tmp_path / "m.keras", callbacks=rec)
    result = trainer.run()
    # no wall-clock bound here (shared machines): the trainer's own clock says why it stopped
    assert result.status == "finished" and "budget spent" in result.message and trainer.time_up
    assert 1 <= result.epochs_done < 100_000 and (tmp_path / "m.keras").exists()
    last = rec.epochs[-1]
    assert last.minutes == 0.1 and last.elapsed + trainer.last_val_seconds >= 6.0
    assert max(r.fg_miou for r in rec.epochs) == result.best_fg_miou


def test_learning_rate_warms_up_then_decays_over_the_steps(data, tmp_path):
    long = Trainer(data, TrainConfig(epochs=1000, warmup_steps=10, **TINY), model_path=tmp_path / "m.keras")
    lrs = [long.learning_rate_at(s) for s in range(12)]
    assert lrs[0] == pytest.approx(1e-4) and lrs[0] < lrs[5] < lrs[9] == pytest.approx(1e-3, rel=0.01)
    short = Trainer(data, TrainConfig(epochs=10, warmup_steps=10, **TINY), model_path=tmp_path / "m.keras")
    lrs = [short.learning_rate_at(s) for s in range(31)]
    assert lrs[29] < lrs[20] < lrs[10] and lrs[30] == pytest.approx(5e-5, rel=0.01)


def test_the_learning_rate_the_optimizer_sees_follows_the_schedule(data, tmp_path):
    seen = []

    class Spy(Recorder):
        def on_batch(self, epoch, step, steps, loss):
            seen.append(float(trainer.model.optimizer.learning_rate.numpy()))

    trainer = Trainer(data, TrainConfig(epochs=2, warmup_steps=3, **TINY), model_path=tmp_path / "m.keras",
                      callbacks=Spy())
    trainer.run()
    assert seen[0] == pytest.approx(trainer.learning_rate_at(0), rel=1e-4)
    assert seen[2] == pytest.approx(1e-3 * (0.05 + 0.95 * 0.5 * (1 + np.cos(np.pi * 2 / 6))), rel=1e-3)


def test_a_flood_alarm_softens_the_class_weights_the_loss_uses(data):
    from segstudio.ml import losses
    from segstudio.ml.correction import Corrector

    loss = losses.get("wce+dice", [1.0, 16.0, 4.0], 255)
    y = np.array([[[0, 1, 2, 1]]])
    p = np.array([[[[0.8, 0.1, 0.1], [0.5, 0.3, 0.2], [0.3, 0.3, 0.4], [0.1, 0.8, 0.1]]]], "float32")
    before = float(loss(y, p))
    c = Corrector([1.0, 16.0, 4.0])
    note = c.after_epoch("background flood: 9.0x the true foreground", lambda w: losses.set_class_weights(loss, w))
    assert note and "softened" in note and "1 -> 0.5" in note
    assert loss.losses[0].class_weights == pytest.approx([1.0, 4.0, 2.0])
    assert float(loss(y, p)) != pytest.approx(before)
    assert loss.get_config()["losses"][0]["config"]["class_weights"] == pytest.approx([1.0, 4.0, 2.0])
    # one collapse is the start of most runs; two in a row strengthen the weighting
    assert c.after_epoch("foreground collapse: 1%", lambda w: losses.set_class_weights(loss, w)) is None
    note = c.after_epoch("foreground collapse: 1%", lambda w: losses.set_class_weights(loss, w))
    assert note and "strengthened" in note
    assert c.after_epoch(None, lambda w: 1) is None


def test_the_trainer_records_its_adjustment_when_a_flood_is_raised(data, tmp_path, monkeypatch):
    from segstudio.ml import trainer as trainer_module

    monkeypatch.setattr(trainer_module, "collapse_alarm", lambda cm, **kw: "background flood: forced")
    rec = Recorder()
    t = Trainer(data, TrainConfig(epochs=2, self_correct=True, **TINY), model_path=tmp_path / "m.keras",
                callbacks=rec)
    t.run()
    assert [r.adjustment is not None for r in rec.epochs] == [True, True]
    assert t.corrector.strength == 0.25 and any("softened" in m for m in rec.messages)
    assert rec.epochs[-1].val_pixels and sum(rec.epochs[-1].val_pixels) == 2 * 48 * 48 - sum(
        int((data.load_val(i)[1] == 255).sum()) for i in range(2))
    off = Trainer(data, TrainConfig(epochs=1, self_correct=False, **TINY), model_path=tmp_path / "n.keras",
                  callbacks=Recorder())
    off.run()
    assert off.corrector is None


@pytest.mark.parametrize("strength", [0.0, 0.5, 1.0])
def test_the_logits_start_at_the_priors_of_the_loss_as_weighted(data, tmp_path, strength):
    """At strength 0 the loss is unweighted, so the logits start at the plain class priors; the
    full weights there (as before) started an unweighted run deep in the foreground."""
    from segstudio.ml.correction import weights_at
    from segstudio.ml.unet import prior_bias

    trainer = Trainer(data, TrainConfig(epochs=1, loss="wce+dice", weight_strength=strength, **TINY),
                      model_path=tmp_path / "m.keras")
    bias = trainer._build().get_layer("logits").bias.numpy()
    counts = np.asarray(data.train_counts).sum(0)
    expected = prior_bias(counts, weights_at(data.class_weights, strength))
    assert bias == pytest.approx(expected, abs=1e-5)
    if strength == 0.0:
        assert bias == pytest.approx(prior_bias(counts), abs=1e-5)
        assert bias != pytest.approx(prior_bias(counts, data.class_weights), abs=1e-2)
