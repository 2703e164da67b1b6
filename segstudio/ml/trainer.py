"""The training loop: any thread, plain-Python progress callbacks, cancel, checkpoints, alarms.

The trainer receives plain data (loader callables, per-image class counts, class
weights) from the services layer and knows nothing of projects or databases.
Progress goes out through a ``TrainCallbacks`` object; a ``threading.Event``
stops training at the next batch. Validation runs on whole images of the
validation split each epoch and reports per-class IoU from one confusion matrix
over the whole split (core.metrics), plus an alarm when the model collapses to
background or floods it with foreground.
"""

from __future__ import annotations

import json
import math
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Protocol

import keras
import numpy as np

from segstudio.core.atomic import write_atomic, write_text_atomic
from segstudio.core.metrics import confusion_matrix, foreground_miou, per_class_iou, pixel_accuracy
from segstudio.ml import losses
from segstudio.ml.data import default_ignore_index, training_dataset
from segstudio.ml.predict import predict_image
from segstudio.ml.sampling import CropSampler, Loader
from segstudio.ml.unet import build_unet, prior_bias


@dataclass
class TrainConfig:
    # defaults measured with benchmarks/bench_quality.py (docs/ml.md)
    loss: str = "focal+dice"
    filters: int = 16
    depth: int = 4
    batch_norm: bool = True
    dropout: float = 0.0
    batch: int = 64
    crop: int = 32  # keep >= ~2x the largest object; more small crops beat fewer large ones
    epochs: int = 10
    steps_per_epoch: int = 50
    lr: float = 1e-2
    lr_schedule: str = "cosine"  # or "constant"
    clip_norm: float | None = 1.0
    seed: int = 0
    rare_fraction: float = 0.67
    repeat_threshold: float = 0.3
    class_power: float = 0.5
    focal_gamma: float = 2.0
    mixed_precision: str = "auto"  # "auto": only when a GPU is present
    jit_compile: bool | str = False
    prior_init: bool = True  # start the logits at the (weighted) class priors

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class TrainData:
    """Everything the trainer needs, as plain Python/numpy."""

    load_train: Loader  # i -> (image (H,W[,ch]), labels (H,W)) with ignore pixels = ignore_index
    train_counts: np.ndarray  # (n_train, C) per-image class pixel counts
    num_classes: int
    channels: int = 1
    class_weights: Sequence[float] | None = None
    load_val: Loader | None = None
    n_val: int = 0
    ignore_index: int | None = None
    ignore_ids: Sequence[int] = ()  # class ids excluded from foreground mIoU
    mean: Sequence[float] | None = None
    variance: Sequence[float] | None = None
    # i -> (H,W) per-pixel loss weights of training image i (None: all 1), e.g. corrected pixels up
    load_weights: Callable[[int], np.ndarray | None] | None = None


@dataclass
class EpochReport:
    epoch: int  # 1-based
    epochs: int
    train_loss: float
    val_loss: float | None
    per_class_iou: list[float | None]
    fg_miou: float | None
    pixel_accuracy: float | None
    alarm: str | None
    seconds: float
    confusion: np.ndarray | None = field(default=None, repr=False)
    improved: bool = False


@dataclass
class TrainResult:
    status: str  # "finished" | "cancelled" | "failed"
    message: str
    epochs_done: int
    best_fg_miou: float | None
    model_path: str | None
    checkpoint_path: str | None
    history: list[EpochReport] = field(default_factory=list)


class TrainCallbacks(Protocol):
    def on_batch(self, epoch: int, step: int, steps: int, loss: float) -> None: ...
    def on_epoch(self, report: EpochReport) -> None: ...
    def on_message(self, text: str) -> None: ...


class NullCallbacks:
    def on_batch(self, epoch, step, steps, loss):
        pass

    def on_epoch(self, report):
        pass

    def on_message(self, text):
        pass


# --------------------------------------------------------------------------- alarms
def collapse_alarm(
    cm: np.ndarray, background: int = 0, ignore_ids: Sequence[int] = (),
    collapse_below: float = 0.1, flood_above: float = 3.0, min_bg_recall: float = 0.97,
) -> str | None:
    """Name the failure, if any, from a validation confusion matrix (rows truth).

    Foreground collapse: truth has foreground but the model predicts under
    ``collapse_below`` x as many foreground pixels. Background flood: the model
    predicts over ``flood_above`` x the true foreground pixels and background
    recall falls under ``min_bg_recall`` (what over-strong class weights do).
    """
    cm = np.asarray(cm, dtype=np.float64)
    fg = np.ones(cm.shape[0], bool)
    fg[background] = False
    for i in ignore_ids:
        if 0 <= i < fg.size:
            fg[i] = False
    true_fg = cm[fg, :].sum()
    pred_fg = cm[:, fg].sum()
    bg_truth = cm[background].sum()
    bg_recall = cm[background, background] / bg_truth if bg_truth else 1.0
    if true_fg > 0 and pred_fg < collapse_below * true_fg:
        return (
            f"foreground collapse: the model predicts {pred_fg / true_fg:.1%} as many foreground "
            "pixels as the validation masks hold (stronger class weights, Dice term or rare-class crops help)"
        )
    if pred_fg > flood_above * max(true_fg, 1.0) and bg_recall < min_bg_recall:
        return (
            f"background flood: {pred_fg / max(true_fg, 1.0):.1f}x the true foreground predicted, "
            f"background recall {bg_recall:.1%} (class weights too strong: lower --clip or use sqrt)"
        )
    return None


# --------------------------------------------------------------------------- helpers
def _finite(x) -> float | None:
    return None if x is None or not math.isfinite(float(x)) else float(x)


def _save_atomic(model: keras.Model, path: Path) -> None:
    write_atomic(path, lambda tmp: model.save(str(tmp)))  # the temp keeps the .keras suffix


def save_inference_model(model: keras.Model, path: str | Path) -> None:
    """Save without optimizer or loss, so plain Keras loads it with no segstudio code."""
    bare = keras.Model(model.inputs, model.outputs, name=model.name)
    _save_atomic(bare, Path(path))


def _state_path(checkpoint: Path) -> Path:
    return checkpoint.with_name(checkpoint.name + ".json")


def read_checkpoint_state(checkpoint: str | Path) -> dict:
    p = _state_path(Path(checkpoint))
    return json.loads(p.read_text()) if p.exists() else {"epoch": 0}


def strategy_for_devices():
    """MultiWorkerMirrored with TF_CONFIG, Mirrored on several GPUs, else None (default)."""
    import tensorflow as tf

    if os.environ.get("TF_CONFIG"):
        return tf.distribute.MultiWorkerMirroredStrategy()
    gpus = tf.config.list_physical_devices("GPU")
    if len(gpus) > 1:
        return tf.distribute.MirroredStrategy()
    return None


def _gpu_present() -> bool:
    import tensorflow as tf

    return bool(tf.config.list_physical_devices("GPU"))


def evaluate_split(
    model: keras.Model, load: Loader, n: int, num_classes: int, ignore_index: int,
    loss_fn: Callable | None = None, tile: int = 512,
) -> tuple[np.ndarray, float | None]:
    """Confusion matrix over all ``n`` images, and the mean per-image loss."""
    cm = np.zeros((num_classes, num_classes), np.int64)
    loss_sum, loss_n = 0.0, 0
    for i in range(n):
        image, labels = load(i)
        pred = predict_image(model, image, tile=tile)
        confusion_matrix(labels, pred.classes, num_classes, ignore_index, out=cm)
        if loss_fn is not None and pred.probs is not None:
            loss_sum += float(loss_fn(labels[None], pred.probs[None]))
            loss_n += 1
    return cm, (loss_sum / loss_n if loss_n else None)


# --------------------------------------------------------------------------- the loop
class _Bridge(keras.callbacks.Callback):
    """Keras -> TrainCallbacks; cancel and NaN checks after every batch; validation per epoch."""

    def __init__(self, trainer: Trainer):
        super().__init__()
        self.t = trainer
        self._epoch_start = time.perf_counter()

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_start = time.perf_counter()
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        loss = float((logs or {}).get("loss", float("nan")))
        if not math.isfinite(loss):
            self.t.stop_reason = (
                "failed",
                f"loss became {loss} at epoch {self._epoch + 1}, batch {batch + 1}: training stopped; "
                + ("the last good checkpoint is kept" if self.t.checkpoint_path.exists() else "no checkpoint was written")
                + " (try a lower --lr, or --clip / gradient clipping)",
            )
            self.model.stop_training = True
            return
        self.t.callbacks.on_batch(self._epoch + 1, batch + 1, self.t.config.steps_per_epoch, loss)
        if self.t.cancel.is_set():
            self.t.stop_reason = ("cancelled", f"cancelled during epoch {self._epoch + 1}")
            self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None):
        if self.t.stop_reason is not None:  # partial or broken epoch: keep the last good checkpoint
            return
        self.t.end_epoch(epoch + 1, float((logs or {}).get("loss", float("nan"))),
                         time.perf_counter() - self._epoch_start)
        if self.t.cancel.is_set():
            self.t.stop_reason = ("cancelled", f"cancelled after epoch {epoch + 1}")
            self.model.stop_training = True


class Trainer:
    """One training run. ``run()`` blocks; call it from a worker thread for a responsive UI."""

    def __init__(
        self,
        data: TrainData,
        config: TrainConfig,
        *,
        model_path: str | Path,
        checkpoint_path: str | Path | None = None,
        callbacks: TrainCallbacks | None = None,
        cancel: threading.Event | None = None,
        resume_from: str | Path | None = None,
        init_from: str | Path | None = None,
    ):
        self.data, self.config = data, config
        self.model_path = Path(model_path)
        self.checkpoint_path = Path(checkpoint_path) if checkpoint_path else self.model_path.with_suffix(".ckpt.keras")
        self.callbacks = callbacks or NullCallbacks()
        self.cancel = cancel or threading.Event()
        self.resume_from, self.init_from = resume_from, init_from
        self.ignore_index = default_ignore_index(data.num_classes) if data.ignore_index is None else data.ignore_index
        self.stop_reason: tuple[str, str] | None = None
        self.history: list[EpochReport] = []
        self.best: float | None = None
        self.model: keras.Model | None = None
        self.saved_model = False

    # -- building -------------------------------------------------------------
    def make_loss(self):
        return losses.get(self.config.loss, self.data.class_weights, self.ignore_index, gamma=self.config.focal_gamma)

    def _optimizer(self, total_steps: int):
        c = self.config
        lr = c.lr
        if c.lr_schedule == "cosine":
            lr = keras.optimizers.schedules.CosineDecay(c.lr, max(total_steps, 1), alpha=0.05)
        return keras.optimizers.Adam(lr, clipnorm=c.clip_norm)

    def _build(self) -> keras.Model:
        c, d = self.config, self.data
        total = c.epochs * c.steps_per_epoch
        if self.resume_from:
            model = keras.saving.load_model(str(self.resume_from), compile=True)
            return model
        if self.init_from:
            model = keras.saving.load_model(str(self.init_from), compile=False)
            if int(model.output_shape[-1]) != d.num_classes:
                raise ValueError(
                    f"{self.init_from} predicts {model.output_shape[-1]} classes, the project has {d.num_classes}"
                )
        else:
            bias = None
            if c.prior_init:
                weighted = self.config.loss.split("+")[0].strip() in ("wce", "focal")
                bias = prior_bias(np.asarray(d.train_counts).sum(0),
                                  d.class_weights if weighted else None)
            model = build_unet(d.num_classes, d.channels, c.depth, c.filters, c.batch_norm,
                               c.dropout, d.mean, d.variance, output_bias=bias)
        model.compile(optimizer=self._optimizer(total), loss=self.make_loss(), jit_compile=c.jit_compile)
        return model

    # -- epoch end ------------------------------------------------------------
    def end_epoch(self, epoch: int, train_loss: float, seconds: float) -> None:
        d = self.data
        cm, val_loss = None, None
        iou: list[float | None] = []
        fg = acc = None
        alarm = None
        if d.load_val is not None and d.n_val > 0:
            cm, val_loss = evaluate_split(self.model, d.load_val, d.n_val, d.num_classes,
                                          self.ignore_index, self.make_loss())
            iou = [_finite(v) for v in per_class_iou(cm)]
            fg = _finite(foreground_miou(cm, d.ignore_ids))
            acc = _finite(pixel_accuracy(cm))
            alarm = collapse_alarm(cm, ignore_ids=d.ignore_ids)
        improved = False
        score = fg if fg is not None else (-train_loss if math.isfinite(train_loss) else None)
        if score is not None and (self.best is None or score > self.best):
            self.best, improved = score, True
            save_inference_model(self.model, self.model_path)
            self.saved_model = True
        _save_atomic(self.model, self.checkpoint_path)
        state = {"epoch": epoch, "best": self.best, "config": self.config.to_dict()}
        write_text_atomic(_state_path(self.checkpoint_path), json.dumps(state))
        report = EpochReport(epoch, self.config.epochs, train_loss, _finite(val_loss), iou, fg, acc,
                             alarm, seconds, cm, improved)
        self.history.append(report)
        self.callbacks.on_epoch(report)

    # -- run --------------------------------------------------------------------
    def run(self) -> TrainResult:
        c, d = self.config, self.data
        keras.utils.set_random_seed(c.seed)
        start_epoch = 0
        if self.resume_from:
            state = read_checkpoint_state(self.resume_from)
            start_epoch = int(state.get("epoch", 0))
            # the resumed run writes its own model file: its best starts afresh
        use_gpu = _gpu_present()
        if c.mixed_precision == "on" or (c.mixed_precision == "auto" and use_gpu):
            keras.mixed_precision.set_global_policy("mixed_float16")
            self.callbacks.on_message("mixed precision (float16) on")
        strategy = strategy_for_devices()
        if strategy is not None:
            self.callbacks.on_message(f"{type(strategy).__name__} over {strategy.num_replicas_in_sync} replicas")
            with strategy.scope():
                self.model = self._build()
        else:
            self.model = self._build()
        sampler = CropSampler(d.train_counts, c.rare_fraction, c.repeat_threshold, c.class_power,
                              ignore_ids=list(d.ignore_ids))
        ds = training_dataset(
            d.load_train, sampler, crop=c.crop, batch=c.batch, channels=d.channels,
            num_classes=d.num_classes, seed=c.seed, ignore_index=self.ignore_index,
            start=start_epoch * c.steps_per_epoch * c.batch, load_weights=d.load_weights,
        )
        if start_epoch >= c.epochs:
            return TrainResult("finished", "nothing to do: the checkpoint already has every epoch",
                               start_epoch, self.best, None, str(self.checkpoint_path))
        self.callbacks.on_message(
            f"training {c.epochs - start_epoch} epochs x {c.steps_per_epoch} steps, batch {c.batch}, "
            f"crop {c.crop}, loss {c.loss}"
        )
        try:
            self.model.fit(ds, epochs=c.epochs, initial_epoch=start_epoch,
                           steps_per_epoch=c.steps_per_epoch, callbacks=[_Bridge(self)], verbose=0,
                           shuffle=False)
        finally:
            if c.mixed_precision != "off" and keras.mixed_precision.global_policy().name != "float32":
                keras.mixed_precision.set_global_policy("float32")
        done = start_epoch + len(self.history)
        status, message = self.stop_reason or ("finished", f"finished {done} epochs")
        fgs = [h.fg_miou for h in self.history if h.fg_miou is not None]
        return TrainResult(
            status, message, done, max(fgs) if fgs else None,
            str(self.model_path) if self.saved_model else None,
            str(self.checkpoint_path) if self.checkpoint_path.exists() else None, self.history,
        )
