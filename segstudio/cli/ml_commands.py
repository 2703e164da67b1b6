"""``segstudio train | predict | evaluate | export``. TensorFlow loads only when one of these runs."""

from __future__ import annotations

import argparse
import json
import math
import signal
import sys
import threading
import time
from pathlib import Path

from segstudio.cli.arguments import (
    clip_ratio,
    fraction,
    learning_rate,
    positive_float,
    positive_int,
    weight_strength,
)
from segstudio.core.errors import SegstudioError
from segstudio.ml.config import AUGMENT_PARTS, DEFAULT_AUGMENT, LOSS_PARTS, canonical_augment

#: train/plan options that override one choice of the plan: (flag, config key, type, help)
RECIPE_OPTIONS = (
    ("--minutes", "minutes", positive_float, "M", "time budget: train until spent, keep the best "
     "validation checkpoint (the plan: 10 on a CPU)"),
    ("--loss", "loss", str, "L", f"'+'-joined names of {', '.join(LOSS_PARTS)}"),
    ("--clip", "clip", clip_ratio, "R", "cap class weights at R x the smallest"),
    ("--filters", "filters", positive_int, "F", "first-level filters"),
    ("--depth", "depth", positive_int, "D", "poolings"),
    ("--batch", "batch", positive_int, "B", "crops per step"),
    ("--crop", "crop", positive_int, "S", "training crop side in pixels (a multiple of 2**depth)"),
    ("--steps-per-epoch", "steps_per_epoch", positive_int, "K", "steps between validations"),
    ("--lr", "lr", learning_rate, "X", "peak learning rate (warm-up, cosine decay)"),
    ("--rare-fraction", "rare_fraction", fraction, "P", "share of crops centred on a rare-class pixel"),
    ("--weight-strength", "weight_strength", weight_strength, "S",
     "class weights ** S: 0 unweighted, 1 as computed (with --weights alone: 1)"),
)


def _recipe_options(parser) -> None:
    from segstudio.core.weights import SCHEMES

    for flag, key, kind, metavar, text in RECIPE_OPTIONS:
        parser.add_argument(flag, dest=key, type=kind, default=None, metavar=metavar,
                            help=f"{text} (default: the plan)")
    parser.add_argument("--weights", default=None, choices=sorted(SCHEMES),
                        help="class-weight scheme (default: the plan)")


def register(sub) -> None:
    pl = sub.add_parser(
        "plan", help="the training plan for a project: each choice with its reason",
        description="Derive crop, depth, filters, batch, loss, class weights, rare-crop share, learning "
        "rate and validation cadence from the project's fingerprint, this machine and a time budget. "
        "'segstudio train' uses the same plan; each option overrides one choice.",
    )
    pl.add_argument("project", help="project folder")
    _recipe_options(pl)
    pl.add_argument("--json", action="store_true", help="machine-readable output")
    pl.set_defaults(func=cmd_plan)

    t = sub.add_parser(
        "train", help="train a U-Net on a project (Ctrl-C stops cleanly at the next batch)",
        description="Train on the project's train split with the plan ('segstudio plan'): an "
        "imbalance-aware loss, class weights and rare-class crops, for a time budget; per-class IoU "
        "on the val split at every validation, and the best checkpoint kept.",
    )
    t.add_argument("project", help="project folder")
    _recipe_options(t)
    t.add_argument("--epochs", type=positive_int, default=None, metavar="E",
                   help="train exactly E epochs x steps instead of a time budget (with --minutes: a cap)")
    t.add_argument("--self-correct", dest="self_correct", action="store_true", default=None,
                   help="soften the class weighting on a background-flood alarm, strengthen it on a "
                   "foreground collapse in two epochs running")
    t.add_argument("--augment", type=_augment_spec, default=None, metavar="A",
                   help=f"'+'-joined {', '.join(AUGMENT_PARTS)}, or none (default: {DEFAULT_AUGMENT}). "
                   + "; ".join(f"{k}: {v}" for k, v in AUGMENT_PARTS.items()))
    t.add_argument("--seed", type=int, default=None, metavar="N")
    t.add_argument("--resume", type=int, default=None, metavar="RUN", help="continue a run from its checkpoint")
    t.add_argument("--init-from", default=None, metavar="RUN|MODEL",
                   help="fine-tune from a run's model or a .keras file")
    t.add_argument("--out", default=None, metavar="MODEL.keras", help="also copy the final model here")
    t.set_defaults(func=cmd_train)

    p = sub.add_parser("predict", help="class maps (8-bit index PNGs) for a folder of images")
    p.add_argument("model", help=".keras model")
    p.add_argument("images", help="folder of images")
    p.add_argument("--out", required=True, metavar="DIR")
    p.add_argument("--confidence", action="store_true", help="also write DIR/confidence/STEM.png (max prob x 255)")
    p.add_argument("--tile", type=int, default=512, help="tile side for large images (default 512)")
    _tta_option(p)
    p.set_defaults(func=cmd_predict)

    e = sub.add_parser("evaluate", help="per-class IoU, foreground mIoU and pixel accuracy on labelled images")
    e.add_argument("model", help=".keras model")
    e.add_argument("--images", required=True, metavar="DIR")
    e.add_argument("--masks", required=True, metavar="DIR", help="masks with the same file stems")
    e.add_argument("--json", action="store_true", help="print JSON (NaN as null)")
    e.add_argument("--tile", type=int, default=512)
    _tta_option(e)
    e.set_defaults(func=cmd_evaluate)

    x = sub.add_parser("export", help="export a model as .keras, TF SavedModel or ONNX, with a model card")
    x.add_argument("model", help=".keras model")
    x.add_argument("--format", required=True, choices=["keras", "savedmodel", "onnx"])
    x.add_argument("--out", required=True, metavar="PATH")
    x.add_argument("--project", default=None, help="record the export in this project")
    x.set_defaults(func=cmd_export)


# --------------------------------------------------------------------------- plan / train
def cmd_plan(args: argparse.Namespace) -> int:
    from segstudio.services.planning import detect_device, plan_for_project
    from segstudio.store.project import Project

    with Project.open(args.project) as project:
        overrides = {key: getattr(args, key) for _, key, *_ in RECIPE_OPTIONS}
        overrides["weights"] = args.weights
        device = detect_device()
        plan = plan_for_project(project, overrides.pop("minutes"), overrides, device)
    if args.json:
        print(json.dumps({"device": device.describe(), "choices": plan.to_json()}, indent=1))
        return 0
    print(f"training plan for {args.project} on this machine ({device.describe()}):")
    for line in plan.lines():
        print("  " + line)
    print("'segstudio train' uses it; each option (--crop, --lr, ...) overrides one choice.")
    return 0


class ConsoleProgress:
    """A one-line progress bar per epoch, then one summary line; alarms loud."""

    def __init__(self, stream=None, width: int = 24):
        self.stream, self.width = stream or sys.stderr, width  # the stderr of now, not of import time
        self.last = None
        self._t = 0.0
        self.tty = getattr(self.stream, "isatty", lambda: False)()

    def on_batch(self, epoch, step, steps, loss):
        now = time.monotonic()
        if self.tty and (now - self._t > 0.2 or step == steps):
            self._t = now
            done = int(self.width * step / max(steps, 1))
            bar = "#" * done + "." * (self.width - done)
            self.stream.write(f"\repoch {epoch} [{bar}] {step}/{steps} loss {loss:.4f}")
            self.stream.flush()

    def on_epoch(self, r):
        if self.tty:
            self.stream.write("\r" + " " * (self.width + 40) + "\r")
        val = "-" if r.val_loss is None else f"{r.val_loss:.4f}"
        fg = "-" if r.fg_miou is None else f"{r.fg_miou:.3f}"
        acc = "-" if r.pixel_accuracy is None else f"{r.pixel_accuracy:.2%}"
        star = " *" if r.improved else ""
        where = (f"epoch {r.epoch} ({r.elapsed / 60:.1f}/{r.minutes:g} min)" if r.minutes
                 else f"epoch {r.epoch}/{r.epochs}")
        self.stream.write(f"{where}  loss {r.train_loss:.4f}  val loss {val}  "
                          f"fg mIoU {fg}  pixel acc {acc}  {r.seconds:.0f}s{star}\n")
        if r.alarm:
            self.stream.write(f"  ALARM: {r.alarm}\n")
        if r.adjustment:
            self.stream.write(f"  adjusted: {r.adjustment}\n")
        self.stream.flush()
        self.last = r

    def on_message(self, text):
        self.stream.write(text + "\n")
        self.stream.flush()


def per_class_table(names: list[str], iou: list, fg: float | None, acc: float | None,
                    val_pixels: list[int] | None = None, edges: dict | None = None) -> str:
    """IoU per class; with ``val_pixels`` also each class's validation pixels, and a note on
    the classes with too few of them to trust; with ``edges`` (``metrics.summarize``'s edge
    keys) the edge-tolerant IoU and the share of errors at outlines."""
    from segstudio.core.metrics import MIN_SCORED_PIXELS, too_few_to_score

    def num(v, spec: str) -> str:
        return "-" if v is None else format(v, spec)

    few = too_few_to_score(val_pixels) if val_pixels else [False] * len(iou)
    tol = edges["edge_tolerance_px"] if edges else 0
    head = f"{'id':>3}  {'class':<24} {'IoU':>6}" + (f" {'val pixels':>11}" if val_pixels else "")
    if edges:
        head += f" {f'IoU ±{tol} px':>10} {'errors at edges':>16}"
    lines = [head]
    for c, v in enumerate(iou):
        name = names[c] if c < len(names) else f"class {c}"
        row = f"{c:>3}  {name[:24]:<24} {num(v, '.3f'):>6}"
        if val_pixels:
            row += f" {val_pixels[c] if c < len(val_pixels) else 0:>11}"
            if c < len(few) and few[c]:
                row += f"  (under {MIN_SCORED_PIXELS} px: too few to score)"
        if edges:
            row += f" {num(edges['edge_tolerant_iou'][c], '.3f'):>10} {num(edges['edge_error_share'][c], '.0%'):>16}"
        lines.append(row)
    lines.append(f"foreground mIoU {num(fg, '.3f')}   pixel accuracy {num(acc, '.2%')}")
    if edges:
        lines.append(f"IoU ±{tol} px forgives errors within {tol} px of a truth outline; errors at edges: "
                     "the share of a class's errors there (outlines a pixel off, not misses)")
    return "\n".join(lines)


def cmd_train(args: argparse.Namespace) -> int:
    from segstudio.services.training import train_project
    from segstudio.store.project import Project

    project = Project.open(args.project)
    keys = [key for _, key, *_ in RECIPE_OPTIONS] + ["weights", "epochs", "self_correct", "augment", "seed",
                                                     "resume", "init_from", "out"]
    config = {k: getattr(args, k) for k in keys if getattr(args, k) is not None}
    cancel = threading.Event()
    progress = ConsoleProgress()

    def on_sigint(signum, frame):
        if cancel.is_set():
            raise KeyboardInterrupt
        cancel.set()
        print("\nstopping at the next batch (Ctrl-C again to abort)", file=sys.stderr)

    old = signal.signal(signal.SIGINT, on_sigint) if threading.current_thread() is threading.main_thread() else None
    if args.resume is None:
        from segstudio.services.training import planned_config

        config = planned_config(project, config)
        print("plan (segstudio plan explains each choice):  " + ", ".join(
            f"{c['key']}={c['value']:g}" if isinstance(c["value"], float) else f"{c['key']}={c['value']}"
            for c in config["plan"]) + ("" if not any(c["source"] == "user" for c in config["plan"])
                                        else "  (yours: " + ", ".join(c["key"] for c in config["plan"]
                                                                       if c["source"] == "user") + ")"))
    from segstudio.ml.distribute import worker_role

    try:
        role = worker_role()
    except ValueError as e:
        raise SegstudioError(str(e)) from None
    try:
        if role is not None and not role.is_chief:
            return _train_worker(project, config, progress, cancel, role)
        run_id = train_project(project, config, progress, cancel)
    finally:
        if old is not None:
            signal.signal(signal.SIGINT, old)
    run = project.run(run_id)
    epochs = project.epochs(run_id)
    best = max((e for e in epochs if e.fg_miou is not None), key=lambda e: e.fg_miou, default=None)
    if best is not None:
        by_id = {c.id: c.name for c in project.class_table()}
        names = [by_id.get(i, f"class {i}") for i in range(len(best.per_class_iou))]
        print(f"validation, best epoch {best.epoch} (run {run_id}):")
        print(per_class_table(names, best.per_class_iou, best.fg_miou, best.pixel_accuracy,
                              best.val_pixels or None))
    print(f"run {run_id}: {run.status}: {run.message or ''}")
    if run.model_path:
        print(f"model: {run.model_path}")
    if run.checkpoint_path and Path(run.checkpoint_path).exists():  # a NaN in epoch 1 writes none
        print(f"checkpoint: {run.checkpoint_path} (resume with --resume {run_id})")
    return {"finished": 0, "cancelled": 130}.get(run.status, 1)


def _train_worker(project, config, progress, cancel, role) -> int:
    """A non-chief worker of a TF_CONFIG cluster: trains in step with the chief, records nothing."""
    from segstudio.services.training import train_worker

    result = train_worker(project, config, progress, cancel)
    print(f"worker {role.index} of {role.count}: {result.status}: {result.message}")
    if result.model_path:
        print(f"its copy of the model: {result.model_path} (the chief, worker 0, records the run; "
              "keep the chief's model)")
    return {"finished": 0, "cancelled": 130}.get(result.status, 1)


# --------------------------------------------------------------------------- predict / evaluate / export
def _augment_spec(text: str) -> str:
    try:
        return canonical_augment(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _tta_option(parser: argparse.ArgumentParser) -> None:
    from segstudio.ml.tta import TTA_VIEWS

    parser.add_argument("--tta", type=int, default=1, choices=sorted(TTA_VIEWS), metavar="N",
                        help="average N flipped/rotated views: 1 (off, default), 4 or 8 (N times slower)")


def _progress(verb: str):
    def report(k, n, name):
        if sys.stderr.isatty():
            sys.stderr.write(f"\r{verb} {k}/{n} {name[:40]:<40}")
            if k == n:
                sys.stderr.write("\n")
            sys.stderr.flush()
    return report


def cmd_predict(args: argparse.Namespace) -> int:
    from segstudio.services.prediction import predict_folder

    written = predict_folder(args.model, args.images, args.out, args.confidence, args.tile,
                           _progress("predict"), args.tta)
    print(f"wrote {len(written)} class maps to {args.out}")
    return 0


def _nan_to_none(x):
    if isinstance(x, float) and math.isnan(x):
        return None
    if isinstance(x, list):
        return [_nan_to_none(v) for v in x]
    return x


def cmd_evaluate(args: argparse.Namespace) -> int:
    from segstudio.services.prediction import card_table, evaluate_folder

    result = evaluate_folder(args.model, args.images, args.masks, args.tile, _progress("evaluate"), args.tta)
    result = {k: _nan_to_none(v) for k, v in result.items()}
    if args.json:
        print(json.dumps(result, allow_nan=False))
        return 0
    table = card_table(args.model, len(result["per_class_iou"]))
    by_id = {c.id: c.name for c in table}
    names = [by_id.get(i, f"class {i}") for i in range(len(result["per_class_iou"]))]
    print(per_class_table(names, result["per_class_iou"], result["fg_miou"], result["pixel_accuracy"], edges=result))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from segstudio.services.prediction import export

    project = None
    if args.project:
        from segstudio.store.project import Project

        project = Project.open(args.project)
    try:
        dst = export(args.model, args.format, args.out, project)
    except FileExistsError as e:
        raise SegstudioError(str(e)) from None
    print(f"exported {args.format} to {dst}")
    return 0
