"""Train a project's model: statistics and files from the project, the loop from ml, results to the DB.

``train_project`` turns a Project into the plain data the trainer needs (loader
callables over the io readers, per-image class counts, class weights from the
stored totals), records the run and every epoch in the project database, and
writes the model card beside the model.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from segstudio.core.atomic import copy_atomic
from segstudio.core.classes import ClassTable
from segstudio.core.errors import SegstudioError
from segstudio.core.text import counted
from segstudio.core.weights import class_weights
from segstudio.io.images import read_image
from segstudio.io.masks import read_mask
from segstudio.ml.config import DEFAULT_WEIGHT_CLIP, DEFAULT_WEIGHT_SCHEME, TrainConfig
from segstudio.ml.correction import weights_at
from segstudio.ml.data import as_model_input, default_ignore_index
from segstudio.ml.distribute import worker_role
from segstudio.ml.export import input_spec, write_card
from segstudio.ml.predict import load_model
from segstudio.ml.trainer import (
    EpochReport,
    NullCallbacks,
    TrainCallbacks,
    TrainData,
    Trainer,
    TrainResult,
    read_checkpoint_state,
)
from segstudio.ml.unet import image_stats
from segstudio.services.planning import plan_for_project
from segstudio.store.project import ImageRecord, Project

#: project-level defaults (weight scheme and clip), from ml.config
DEFAULTS: dict = {"weights": DEFAULT_WEIGHT_SCHEME, "clip": DEFAULT_WEIGHT_CLIP}

# keys of the run config that are not TrainConfig fields
_EXTRA_KEYS = ("weights", "clip", "resume", "init_from", "out", "plan")
#: with a time budget and no epoch count, epochs only cap the run
EPOCH_CAP = 100_000


def model_classes(table: ClassTable) -> int:
    """Softmax size: largest trainable id + 1 (a VOC void 255 must not make 256 outputs)."""
    ids = table.trainable_ids
    if not ids:
        raise SegstudioError("the class table has no trainable classes")
    return max(ids) + 1


def label_lut(table: ClassTable, num_classes: int) -> tuple[np.ndarray, int]:
    """Lookup table raw id -> training id: ignore classes and unknown ids -> the ignore index."""
    ignore = default_ignore_index(num_classes)
    lut = np.full(65536, ignore, dtype=np.uint8 if ignore == 255 else np.uint16)
    for c in table.trainable_ids:
        lut[c] = c
    return lut, ignore


class CachedLoader:
    """``i -> (image, training labels)`` over image records, caching decoded arrays up to a budget."""

    def __init__(self, records: Sequence[ImageRecord], table: ClassTable, lut: np.ndarray,
                 cache_bytes: int = 1 << 30):
        self.records, self.table, self.lut = list(records), table, lut
        self.cache: OrderedDict[int, tuple[np.ndarray, np.ndarray]] = OrderedDict()
        self.budget, self.used = cache_bytes, 0
        self.lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.records)

    def __call__(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        with self.lock:
            hit = self.cache.get(i)
            if hit is not None:
                self.cache.move_to_end(i)
                return hit
        r = self.records[i]
        image = read_image(r.abs_path)
        if r.abs_mask_path is None:
            raise SegstudioError(f"{r.abs_path}: no mask to train on")
        labels = self.lut[read_mask(r.abs_mask_path, self.table, (image.shape[1], image.shape[0])).labels]
        size = image.nbytes + labels.nbytes
        with self.lock:
            if size <= self.budget:
                self.cache[i] = (image, labels)
                self.used += size
                while self.used > self.budget:
                    _, (a, b) = self.cache.popitem(last=False)
                    self.used -= a.nbytes + b.nbytes
        return image, labels


def split_config(config: dict) -> tuple[TrainConfig, dict]:
    """Separate TrainConfig fields from the project-level options; reject unknown keys."""
    known = TrainConfig.field_names()
    unknown = set(config) - known - set(_EXTRA_KEYS)
    if unknown:
        raise SegstudioError(f"unknown training option(s): {', '.join(sorted(unknown))}")
    tc = TrainConfig(**{k: v for k, v in config.items() if k in known and v is not None})
    extra = {**DEFAULTS, **{k: config[k] for k in _EXTRA_KEYS if k in config and config[k] is not None}}
    return tc, extra


class _Recorder:
    """Writes every epoch to the database, then forwards to the caller's callbacks."""

    def __init__(self, project: Project, run_id: int, inner: TrainCallbacks):
        self.project, self.run_id, self.inner = project, run_id, inner

    def on_batch(self, epoch, step, steps, loss):
        self.inner.on_batch(epoch, step, steps, loss)

    def on_epoch(self, report: EpochReport):
        self.project.add_epoch(
            self.run_id, report.epoch, report.train_loss, report.val_loss, report.fg_miou,
            report.pixel_accuracy, report.per_class_iou, report.alarm, report.seconds,
            report.adjustment, report.val_pixels,
        )
        self.inner.on_epoch(report)

    def on_message(self, text):
        self.inner.on_message(text)


def prepare(project: Project, tc: TrainConfig, extra: dict) -> tuple[TrainData, dict, list[ImageRecord]]:
    """(trainer data, data summary for the model card, training records)."""
    table = project.class_table()
    num_classes = model_classes(table)
    lut, ignore = label_lut(table, num_classes)
    train = project.images("train", labelled_only=True)
    val = project.images("val", labelled_only=True)
    if not train:
        raise SegstudioError(f"{project.root}: no labelled training images (import masks and run 'segstudio index')")
    ids, counts = project.counts_matrix("train", labelled_only=True, num_classes=max(table.num_classes, num_classes))
    by_id = {r.id: r for r in train}
    train = [by_id[i] for i in ids]
    counts = counts[:, :num_classes].copy()
    ignore_ids = [i for i in table.ignore_ids if i < num_classes]
    counts[:, ignore_ids] = 0
    if counts.sum() == 0:
        raise SegstudioError(f"{project.root}: the training masks have no counted pixels; run 'segstudio index'")
    totals = project.class_totals("train")
    weights = class_weights(
        totals.pixels[:num_classes], extra["weights"],
        image_counts=totals.images[:num_classes],
        pixels_of_images_with_class=totals.pixels_of_images_with_class[:num_classes],
        clip=extra.get("clip"), ignore_ids=ignore_ids,
    )
    channels = 3 if any(r.channels >= 3 for r in train) else 1
    load_train = CachedLoader(train, table, lut)
    sample = train[:: max(1, len(train) // 50)]  # statistics from <= ~50 images
    mean, var = image_stats((as_model_input(read_image(r.abs_path), channels) for r in sample), channels)
    data = TrainData(
        load_train=load_train, train_counts=counts, num_classes=num_classes, channels=channels,
        class_weights=weights.tolist(), load_val=CachedLoader(val, table, lut) if val else None,
        n_val=len(val), ignore_index=ignore, ignore_ids=ignore_ids, mean=mean, variance=var,
    )
    summary = {
        "train_images": len(train), "val_images": len(val),
        "train_pixels_per_class": totals.pixels[:num_classes].tolist(),
        "train_images_per_class": totals.images[:num_classes].tolist(),
    }
    return data, summary, train


def model_card(table: ClassTable, num_classes: int, tc: TrainConfig, extra: dict, weights,
               summary: dict, last: EpochReport | None, model, run_id: int | None) -> dict:
    return {
        "segstudio_run": run_id,
        "classes": table.to_json(),  # ignore classes too: evaluation must skip their pixels
        "num_outputs": num_classes,
        "input": input_spec(model) if model is not None else None,
        "loss": tc.loss,
        # values: the scheme's weights; applied: what the loss used at the strength the run started
        # with (0: unweighted); self-correction's later changes are in the epochs' adjustments
        "class_weights": {"scheme": extra["weights"], "clip": extra.get("clip"), "values": list(weights),
                          "strength": tc.weight_strength,
                          "applied": weights_at(weights, tc.weight_strength).tolist() if len(weights) else []},
        "training": {**tc.to_dict(), **summary},
        "validation": None if last is None else {
            "epoch": last.epoch, "per_class_iou": last.per_class_iou,
            "fg_miou": last.fg_miou, "pixel_accuracy": last.pixel_accuracy,
        },
    }


def planned_config(project: Project, config: dict) -> dict:
    """The user's settings on top of the project's plan (``config["plan"]`` records it).

    Epochs without minutes train epochs x steps (no budget); otherwise the plan's (or the
    user's) minutes bound the run and epochs only cap it.
    """
    user = {k: v for k, v in config.items() if v is not None}
    parent = user.get("init_from")
    if parent is not None and (isinstance(parent, int) or str(parent).isdigit()):
        prev = project.run(int(parent)).config  # fine-tuning keeps the parent's architecture
        user = {**{k: prev[k] for k in ("depth", "filters", "crop") if k in prev}, **user}
    plan = plan_for_project(project, user.get("minutes"), user)
    merged = {**plan.config(), **user, "plan": plan.to_json()}
    if "epochs" in user and "minutes" not in user:
        merged["minutes"] = None
    elif "epochs" not in user:
        merged["epochs"] = EPOCH_CAP
    return merged


def run_files(project: Project, run_id: int) -> tuple[Path, Path]:
    """(model, checkpoint) paths of a run."""
    run_dir = project.root / "runs" / f"run_{run_id:04d}"
    return run_dir / "model.keras", run_dir / "checkpoint.keras"


def record_unfinished_run(project: Project, run_id: int, tc: TrainConfig, extra: dict, summary: dict) -> int:
    """Record a run whose process was killed after its last epoch but before it was recorded:
    its model file and epochs are there, only the card, the model row and its end are missing."""
    model_path = run_files(project, run_id)[0]
    if not model_path.is_file():
        raise SegstudioError(f"run {run_id} trained every epoch but its model {model_path} is missing; "
                             "train a new run")
    epochs = project.epochs(run_id)
    best = max((e for e in epochs if e.fg_miou is not None), key=lambda e: e.fg_miou,
               default=epochs[-1] if epochs else None)
    prev = project.run(run_id)
    model = load_model(model_path)
    card = model_card(project.class_table(), int(model.output_shape[-1]), tc, extra, prev.class_weights,
                      summary, best, model, run_id)
    write_card(model_path, card)
    if not any(m.run_id == run_id and m.path == str(model_path) for m in project.models()):
        project.add_model(run_id, str(model_path), "keras", card)
    project.finish_run(run_id, "finished", f"finished {counted(len(epochs), 'epoch')} (recorded after its process ended)",
                       model_path=str(model_path), best_fg_miou=best.fg_miou if best else None)
    return run_id


def _setup(project: Project, config: dict, pixel_weights):
    """The run's config and data, or the id of a run that only needed recording."""
    parent = None
    resume_ckpt = init_path = None
    if config.get("resume") is not None:
        parent = int(config["resume"])
        prev = project.run(parent)
        if not prev.checkpoint_path or not Path(prev.checkpoint_path).exists():
            raise SegstudioError(f"run {parent} has no checkpoint to resume from")
        resume_ckpt = prev.checkpoint_path
        base = {k: v for k, v in prev.config.items() if k not in ("resume", "init_from", "out")}
        config = {**base, **{k: v for k, v in config.items() if v is not None}}
    if config.get("init_from") is not None:
        src = config["init_from"]
        if isinstance(src, int) or str(src).isdigit():
            parent = int(src)
            init_path = project.run(parent).model_path
        else:
            init_path = str(src)
        if not init_path or not Path(init_path).exists():
            raise SegstudioError(f"no model to fine-tune from: {init_path or src}")
    if resume_ckpt is None and "plan" not in config:  # a caller may have planned already
        config = planned_config(project, config)
    tc, extra = split_config(config)
    data, summary, train_records = prepare(project, tc, extra)
    if resume_ckpt and int(read_checkpoint_state(resume_ckpt).get("epoch", 0)) >= tc.epochs:
        return record_unfinished_run(project, parent, tc, extra, summary)
    if pixel_weights is not None:
        data.load_weights = pixel_weights(train_records)
    return tc, extra, data, summary, resume_ckpt, init_path, parent


def worker_scratch(project: Project, index: int) -> Path:
    """Where a non-chief worker of a multi-worker run keeps its model and checkpoint."""
    return project.root / "runs" / f"worker_{index}"


def train_worker(project: Project, config: dict, callbacks: TrainCallbacks | None = None,
                 cancel_event: threading.Event | None = None) -> TrainResult:
    """A non-chief worker of a ``TF_CONFIG`` cluster: the same training as the chief's
    ``train_project`` (gradients are all-reduced every step), but, as TensorFlow's multi-worker
    guide prescribes, it writes only to its own scratch folder and records nothing in the
    project database; the chief (worker 0) records the run and keeps the model."""
    if config.get("resume") is not None:  # the run and its checkpoint are in the chief's project
        raise SegstudioError("--resume is for one machine: the other workers keep no runs to resume")
    role = worker_role()
    tc, _, data, _, _, init_path, _ = _setup(project, {k: v for k, v in config.items() if k != "out"}, None)
    scratch = worker_scratch(project, role.index if role else 0)
    scratch.mkdir(parents=True, exist_ok=True)
    trainer = Trainer(data, tc, model_path=scratch / "model.keras", checkpoint_path=scratch / "checkpoint.keras",
                      callbacks=callbacks or NullCallbacks(), cancel=cancel_event, init_from=init_path)
    try:
        return trainer.run()
    except (ValueError, OSError) as e:
        raise SegstudioError(f"training failed: {e}") from e


def train_project(
    project: Project,
    config: dict,
    callbacks: TrainCallbacks | None = None,
    cancel_event: threading.Event | None = None,
    pixel_weights: Callable[[list[ImageRecord]], Callable[[int], np.ndarray | None]] | None = None,
) -> int:
    """Train on the project's train split, validate on its val split; return the run id.

    ``config`` holds TrainConfig fields plus ``weights`` (scheme), ``clip``, ``resume``
    (a run id to continue from its checkpoint), ``init_from`` (a run id or .keras path to
    fine-tune from) and ``out`` (also copy the final model there). ``pixel_weights``, given
    the training records in trainer order, returns ``i -> (H,W) loss weights or None``
    (services.corrections uses it to weigh up corrected pixels). In a ``TF_CONFIG`` cluster
    only the chief calls this; the other workers call ``train_worker``.
    """
    callbacks = callbacks or NullCallbacks()
    s = _setup(project, config, pixel_weights)
    if isinstance(s, int):
        return s
    tc, extra, data, summary, resume_ckpt, init_path, parent = s
    run_id = project.create_run({**tc.to_dict(), **extra}, data.class_weights, parent_run_id=parent)
    model_path, ckpt = run_files(project, run_id)
    project.update_run(run_id, checkpoint_path=str(ckpt))
    trainer = Trainer(data, tc, model_path=model_path, checkpoint_path=ckpt,
                      callbacks=_Recorder(project, run_id, callbacks), cancel=cancel_event,
                      resume_from=resume_ckpt, init_from=init_path)
    try:
        result = trainer.run()
    except Exception as e:  # record the failure, then let the caller show it
        project.finish_run(run_id, "failed", f"{type(e).__name__}: {e}")
        if isinstance(e, (ValueError, OSError)):
            raise SegstudioError(f"training failed: {e}") from e
        raise
    final = out_error = None
    if result.model_path:
        best = max((h for h in result.history if h.fg_miou is not None), key=lambda h: h.fg_miou,
                   default=result.history[-1] if result.history else None)
        table = project.class_table()
        model = load_model(result.model_path)
        card = model_card(table, data.num_classes, tc, extra, data.class_weights, summary, best, model, run_id)
        write_card(result.model_path, card)
        project.add_model(run_id, result.model_path, "keras", card)
        final = result.model_path
        if extra.get("out"):
            out = Path(extra["out"])
            try:
                out.parent.mkdir(parents=True, exist_ok=True)
                copy_atomic(result.model_path, out)  # a full disk must not destroy the model at --out
                write_card(out, card)
                final = str(out)
            except OSError as e:
                out_error = f"{out}: cannot write the model ({e.strerror or e}); it is kept at {final}"
    project.finish_run(run_id, result.status, result.message, model_path=final,
                       checkpoint_path=result.checkpoint_path, best_fg_miou=result.best_fg_miou)
    if out_error:
        raise SegstudioError(out_error)
    return run_id
