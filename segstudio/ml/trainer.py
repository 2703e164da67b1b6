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
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import keras
import numpy as np

from segstudio.core import alarm_advice
from segstudio.core.atomic import write_atomic, write_text_atomic
from segstudio.core.metrics import confusion_matrix, foreground_miou, per_class_iou, pixel_accuracy
from segstudio.ml import losses
from segstudio.ml.config import TrainConfig
from segstudio.ml.correction import Corrector
from segstudio.ml.data import default_ignore_index, training_dataset
from segstudio.ml.distribute import (
    CANCEL,
    GO,
    NAN,
    TIME_UP,
    WorkerAgreement,
    build_from_spec,
    lost_worker_message,
    per_replica_logs,
    strategy_for_devices,
    synchronize_batch_norm,
    worker_role,
)
from segstudio.ml.predict import predict_image
from segstudio.ml.sampling import CropSampler, Loader
from segstudio.ml.unet import build_unet, prior_bias


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
    adjustment: str | None = None  # what the trainer changed after this epoch's alarm, and why
    val_pixels: list[int] = field(default_factory=list)  # validation pixels per class (truth)
    elapsed: float = 0.0  # seconds since the run started
    minutes: float | None = None  # the run's time budget


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
    settings: Mapping[str, object] | None = None,
) -> str | None:
    """Name the failure, if any, from a validation confusion matrix (rows truth).

    Foreground collapse: truth has foreground but the model predicts under
    ``collapse_below`` x as many foreground pixels. Background flood: the model
    predicts over ``flood_above`` x the true foreground pixels and background
    recall falls under ``min_bg_recall`` (what over-strong class weights do).
    The advice (core.alarm_advice) leaves out what ``settings`` (the run's config) already do.
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
        return alarm_advice.with_advice(
            f"{alarm_advice.COLLAPSE}: the model predicts {pred_fg / true_fg:.1%} as many foreground "
            "pixels as the validation masks hold", settings or {})
    if pred_fg > flood_above * max(true_fg, 1.0) and bg_recall < min_bg_recall:
        return alarm_advice.with_advice(
            f"{alarm_advice.FLOOD}: {pred_fg / max(true_fg, 1.0):.1f}x the true foreground predicted, "
            f"background recall {bg_recall:.1%}", settings or {})
    return None


LR_FLOOR = 0.05  # the cosine schedule ends at this fraction of the peak learning rate


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


def _gpu_present() -> bool:
    import tensorflow as tf

    return bool(tf.config.list_physical_devices("GPU"))


def evaluate_split(
    model: keras.Model, load: Loader, n: int, num_classes: int, ignore_index: int,
    loss_fn: Callable | None = None, tile: int = 512, cancelled: Callable[[], bool] = lambda: False,
) -> tuple[np.ndarray, float | None]:
    """Confusion matrix over all ``n`` images, and the mean per-image loss; stops between
    images once ``cancelled()`` (the caller discards the partial matrix)."""
    cm = np.zeros((num_classes, num_classes), np.int64)
    loss_sum, loss_n = 0.0, 0
    for i in range(n):
        if cancelled():
            break
        image, labels = load(i)
        pred = predict_image(model, image, tile=tile)
        confusion_matrix(labels, pred.classes, num_classes, ignore_index, out=cm)
        if loss_fn is not None and pred.probs is not None:
            loss_sum += float(loss_fn(labels[None], pred.probs[None]))
            loss_n += 1
    return cm, (loss_sum / loss_n if loss_n else None)


# --------------------------------------------------------------------------- the loop
class _Bridge(keras.callbacks.Callback):
    """Keras -> TrainCallbacks; learning rate, cancel, budget and NaN checks every batch;
    validation per epoch."""

    def __init__(self, trainer: Trainer):
        super().__init__()
        self.t = trainer
        self._epoch_start = time.perf_counter()
        self._set_lr = True

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_start = time.perf_counter()
        self._epoch = epoch

    def on_train_batch_begin(self, batch, logs=None):
        if self._set_lr:
            step = self._epoch * self.t.config.steps_per_epoch + batch
            try:
                self.model.optimizer.learning_rate = self.t.learning_rate_at(step)
            except TypeError:  # a checkpoint from before the budgeted schedule keeps its own
                self._set_lr = False

    def on_train_batch_end(self, batch, logs=None):
        loss = float((logs or {}).get("loss", float("nan")))
        epoch = self._epoch + 1
        if not math.isfinite(loss):
            code = NAN
        else:
            self.t.callbacks.on_batch(epoch, batch + 1, self.t.config.steps_per_epoch, loss)
            code = CANCEL if self.t.cancel.is_set() else TIME_UP if self.t.out_of_time() else GO
        own = code
        if self.t.agree is not None:  # every worker stops at the same batch, or the next all-reduce waits
            code, self.t.shared_elapsed = self.t.agree(code, self.t.local_elapsed())
        if code == GO:
            return
        self.model.stop_training = True
        if code == NAN:
            self.t.stop_reason = ("failed", self.t.nan_message(loss, epoch, batch + 1) if own == NAN else
                                  f"another worker's loss became NaN at epoch {epoch}, batch {batch + 1}")
        elif code == CANCEL:
            self.t.stop_reason = ("cancelled", f"cancelled during epoch {epoch}"
                                  + ("" if own == CANCEL else " (on another worker)"))
        else:  # stop now; on_epoch_end still validates this partial epoch
            self.t.time_up = True

    def on_epoch_end(self, epoch, logs=None):
        if self.t.stop_reason is not None:  # partial or broken epoch: keep the last good checkpoint
            return
        self.t.end_epoch(epoch + 1, float((logs or {}).get("loss", float("nan"))),
                         time.perf_counter() - self._epoch_start)
        if self.t.stop_reason is not None:  # cancelled during the validation
            return
        own = CANCEL if self.t.cancel.is_set() else GO
        cancel = own
        if self.t.agree is not None:
            cancel, self.t.shared_elapsed = self.t.agree(own, self.t.local_elapsed())
        if cancel == CANCEL:
            self.t.stop_reason = ("cancelled", f"cancelled after epoch {epoch + 1}"
                                  + ("" if own == CANCEL else " (on another worker)"))
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
        self.loss = None
        self.saved_model = False
        self.started = time.perf_counter()
        self.elapsed_before = 0.0  # seconds of the run this one resumes
        self.last_val_seconds = 0.0
        self.time_up = False
        self.agree: WorkerAgreement | None = None  # set for a run over several workers
        self.shared_elapsed: float | None = None  # the workers' agreed clock, when self.agree is set
        self.corrector = Corrector(data.class_weights, config.weight_strength) if config.self_correct else None

    # -- building -------------------------------------------------------------
    def loss_weights(self) -> list[float] | None:
        """The class weights at the run's weight strength: what the loss applies."""
        weights = self.data.class_weights
        if weights is not None and self.config.weight_strength != 1.0:
            from segstudio.ml.correction import weights_at

            weights = weights_at(weights, self.config.weight_strength).tolist()
        return weights

    def make_loss(self):
        return losses.get(self.config.loss, self.loss_weights(), self.ignore_index, gamma=self.config.focal_gamma)

    def _optimizer(self):
        # a plain variable: _Bridge sets it before every batch from learning_rate_at()
        return keras.optimizers.Adam(self.config.lr, clipnorm=self.config.clip_norm)

    def progress(self, step: int) -> float:
        """Fraction of the run done: of the time budget with ``minutes``, else of the steps."""
        c = self.config
        if c.minutes:
            return min(1.0, self.elapsed() / (60.0 * c.minutes))
        return min(1.0, step / max(1, c.epochs * c.steps_per_epoch))

    def learning_rate_at(self, step: int) -> float:
        """Linear warm-up, then cosine decay to 5% of the peak over the run's progress."""
        c = self.config
        warm = min(1.0, (step + 1) / c.warmup_steps) if c.warmup_steps else 1.0
        if c.lr_schedule != "cosine":
            return c.lr * warm
        return c.lr * warm * (LR_FLOOR + (1 - LR_FLOOR) * 0.5 * (1 + math.cos(math.pi * self.progress(step))))

    def nan_message(self, loss: float, epoch: int, batch: int) -> str:
        kept = (f"the checkpoint of epoch {epoch - 1} is kept" if self.checkpoint_path.exists()
                else "no checkpoint had been written yet")
        return (f"loss became {loss} at epoch {epoch}, batch {batch}: training stopped; {kept} "
                f"(try a lower learning rate than {self.config.lr:g})")

    def local_elapsed(self) -> float:
        return self.elapsed_before + time.perf_counter() - self.started

    def elapsed(self) -> float:
        """Seconds of the run; over several workers, the clock they agreed on at the last batch."""
        return self.local_elapsed() if self.shared_elapsed is None else self.shared_elapsed

    def out_of_time(self) -> bool:
        """True when the budget, less one more validation, is spent."""
        c = self.config
        return bool(c.minutes) and self.elapsed() + self.last_val_seconds >= 60.0 * c.minutes

    def _build(self) -> keras.Model:
        c, d = self.config, self.data
        if self.resume_from:
            model = keras.saving.load_model(str(self.resume_from), compile=True)
            self.loss = model.loss
            # the checkpoint's loss scaling is for its own replica count: set this run's
            model.compile(optimizer=model.optimizer, loss=self.loss, loss_weights=self._replica_scale(),
                          jit_compile=c.jit_compile)
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
                # the priors of the loss as it is weighted: at strength 0 the full weights
                # started the logits far into the foreground of an unweighted loss
                weighted = self.config.loss.split("+")[0].strip() in ("wce", "focal")
                bias = prior_bias(np.asarray(d.train_counts).sum(0),
                                  self.loss_weights() if weighted else None)
            model = build_unet(d.num_classes, d.channels, c.depth, c.filters, c.batch_norm,
                               c.dropout, d.mean, d.variance, output_bias=bias)
        self.loss = self.make_loss()
        model.compile(optimizer=self._optimizer(), loss=self.loss, loss_weights=self._replica_scale(),
                      jit_compile=c.jit_compile)
        return model

    def _replica_scale(self) -> float | None:
        """1/replicas under a tf.distribute strategy, else None. Keras sums the replicas' gradients
        and expects each replica's loss divided by their number; its own losses do that in
        ``Loss.__call__``, which segstudio's losses override (they reduce the batch themselves)."""
        import tensorflow as tf

        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        return 1.0 / replicas if replicas > 1 else None

    # -- epoch end ------------------------------------------------------------
    def end_epoch(self, epoch: int, train_loss: float, seconds: float) -> None:
        d = self.data
        cm, val_loss = None, None
        iou: list[float | None] = []
        fg = acc = None
        alarm = None
        t_val = time.perf_counter()
        if d.load_val is not None and d.n_val > 0:
            # several workers agree on a cancel at the epoch end instead (their all-reduces pair up)
            cancelled = self.cancel.is_set if self.agree is None else (lambda: False)
            cm, val_loss = evaluate_split(self.model, d.load_val, d.n_val, d.num_classes,
                                          self.ignore_index, self.loss or self.make_loss(),
                                          cancelled=cancelled)
            if cancelled():
                # a cancel mid-validation: drop this epoch (no scores, no save); the last checkpoint stays
                self.stop_reason = ("cancelled", f"cancelled during epoch {epoch}'s validation")
                self.model.stop_training = True
                return
            iou = [_finite(v) for v in per_class_iou(cm)]
            fg = _finite(foreground_miou(cm, d.ignore_ids))
            acc = _finite(pixel_accuracy(cm))
            alarm = collapse_alarm(cm, ignore_ids=d.ignore_ids, settings=self.config.to_dict())
        self.last_val_seconds = time.perf_counter() - t_val
        adjustment = None
        if self.corrector is not None and self.loss is not None:
            adjustment = self.corrector.after_epoch(alarm, lambda w: losses.set_class_weights(self.loss, w))
            if adjustment:
                self.callbacks.on_message(f"epoch {epoch}: {adjustment}")
        improved = False
        score = fg if fg is not None else (-train_loss if math.isfinite(train_loss) else None)
        if score is not None and (self.best is None or score > self.best):
            self.best, improved = score, True
            save_inference_model(self.model, self.model_path)
            self.saved_model = True
        _save_atomic(self.model, self.checkpoint_path)
        state = {"epoch": epoch, "best": self.best, "config": self.config.to_dict(),
                 "elapsed": self.elapsed()}
        write_text_atomic(_state_path(self.checkpoint_path), json.dumps(state))
        report = EpochReport(epoch, self.config.epochs, train_loss, _finite(val_loss), iou, fg, acc,
                             alarm, seconds, cm, improved, adjustment,
                             [] if cm is None else cm.sum(1).astype(int).tolist(),
                             self.elapsed(), self.config.minutes)
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
            self.elapsed_before = float(state.get("elapsed", 0.0))
            # the resumed run writes its own model file: its best starts afresh
        use_gpu = _gpu_present()
        if c.mixed_precision == "on" or (c.mixed_precision == "auto" and use_gpu):
            keras.mixed_precision.set_global_policy("mixed_float16")
            self.callbacks.on_message("mixed precision (float16) on")
        strategy = strategy_for_devices()
        if strategy is not None:
            replicas = strategy.num_replicas_in_sync
            if c.batch % replicas:
                raise ValueError(f"batch {c.batch} does not split over {replicas} replicas: "
                                 f"use a multiple of {replicas}")
            self.callbacks.on_message(f"{type(strategy).__name__} over {replicas} replicas")
            with strategy.scope():
                self.model = self._build()
            synchronize_batch_norm(self.model)
            role = worker_role()
            if role is not None and role.count > 1:
                per_replica_logs(self.model)
                self.agree = WorkerAgreement(strategy)
                self.shared_elapsed = self.elapsed_before
        else:
            self.model = self._build()
        sampler = CropSampler(d.train_counts, c.rare_fraction, c.repeat_threshold, c.class_power,
                              ignore_ids=list(d.ignore_ids))
        ds = training_dataset(
            d.load_train, sampler, crop=c.crop, batch=c.batch, channels=d.channels,
            num_classes=d.num_classes, seed=c.seed, ignore_index=self.ignore_index,
            start=start_epoch * c.steps_per_epoch * c.batch, load_weights=d.load_weights,
            augment=c.augment,
        )
        if start_epoch >= c.epochs:
            return TrainResult("finished", "nothing to do: the checkpoint already has every epoch",
                               start_epoch, self.best, None, str(self.checkpoint_path))
        length = (f"for {c.minutes:g} minutes (at most {c.epochs - start_epoch} epochs)" if c.minutes
                  else f"{c.epochs - start_epoch} epochs")
        self.callbacks.on_message(
            f"training {length} x {c.steps_per_epoch} steps, batch {c.batch}, crop {c.crop}, loss {c.loss}, "
            f"augment {c.augment}"
        )
        if strategy is not None:
            build_from_spec(self.model, ds.element_spec)
        self.started = time.perf_counter()
        try:
            self.model.fit(ds, epochs=c.epochs, initial_epoch=start_epoch,
                           steps_per_epoch=c.steps_per_epoch, callbacks=[_Bridge(self)], verbose=0,
                           shuffle=False)
        except Exception as e:
            lost = lost_worker_message(e) if self.agree is not None else None
            if lost is None:
                raise
            self.stop_reason = ("failed", lost)
        finally:
            if c.mixed_precision != "off" and keras.mixed_precision.global_policy().name != "float32":
                keras.mixed_precision.set_global_policy("float32")
        done = start_epoch + len(self.history)
        spent = f"the {c.minutes:g}-minute budget spent, " if self.time_up else ""
        status, message = self.stop_reason or ("finished", f"finished: {spent}{done} epochs")
        fgs = [h.fg_miou for h in self.history if h.fg_miou is not None]
        return TrainResult(
            status, message, done, max(fgs) if fgs else None,
            str(self.model_path) if self.saved_model else None,
            str(self.checkpoint_path) if self.checkpoint_path.exists() else None, self.history,
        )
