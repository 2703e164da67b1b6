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

from segstudio.cli.project_commands import clip_ratio
from segstudio.core.errors import SegstudioError


def learning_rate(text: str) -> float:
    """--lr X: finite, > 0 and <= 1 (above 1 Adam only diverges; NaN trained nothing)."""
    try:
        lr = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not (math.isfinite(lr) and 0 < lr <= 1):
        raise argparse.ArgumentTypeError(f"must be a number > 0 and <= 1, got {text!r}")
    return lr


def register(sub) -> None:
    from segstudio.core.weights import SCHEMES

    t = sub.add_parser(
        "train", help="train a U-Net on a project (Ctrl-C stops cleanly at the next batch)",
        description="Train on the project's train split with an imbalance-aware loss, class weights "
        "and rare-class crops; per-class IoU on the val split every epoch.",
    )
    t.add_argument("project", help="project folder")
    t.add_argument("--loss", default=None, help="'+'-joined names of ce, wce, focal, dice, gdice, tversky "
                   "(default focal+dice)")
    t.add_argument("--weights", default=None, choices=sorted(SCHEMES), help="class-weight scheme (default sqrt)")
    t.add_argument("--clip", type=clip_ratio, default=None, metavar="R",
                   help="cap weights at R x the smallest (default 50)")
    t.add_argument("--filters", type=int, default=None, metavar="F", help="first-level filters (default 16)")
    t.add_argument("--depth", type=int, default=None, metavar="D", help="poolings (default 4)")
    t.add_argument("--batch", type=int, default=None, metavar="B", help="crops per step (default 64)")
    t.add_argument("--crop", type=int, default=None, metavar="S", help="training crop side in pixels (default 32; keep >= 2x your largest object)")
    t.add_argument("--epochs", type=int, default=None, metavar="E")
    t.add_argument("--steps-per-epoch", type=int, default=None, metavar="K")
    t.add_argument("--lr", type=learning_rate, default=None, metavar="X",
                   help="peak learning rate, cosine decay (default 0.01)")
    t.add_argument("--rare-fraction", type=float, default=None, metavar="P",
                   help="share of crops centred on a rare-class pixel (default 0.67)")
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
    p.set_defaults(func=cmd_predict)

    e = sub.add_parser("evaluate", help="per-class IoU, foreground mIoU and pixel accuracy on labelled images")
    e.add_argument("model", help=".keras model")
    e.add_argument("--images", required=True, metavar="DIR")
    e.add_argument("--masks", required=True, metavar="DIR", help="masks with the same file stems")
    e.add_argument("--json", action="store_true", help="print JSON (NaN as null)")
    e.add_argument("--tile", type=int, default=512)
    e.set_defaults(func=cmd_evaluate)

    x = sub.add_parser("export", help="export a model as .keras, TF SavedModel or ONNX, with a model card")
    x.add_argument("model", help=".keras model")
    x.add_argument("--format", required=True, choices=["keras", "savedmodel", "onnx"])
    x.add_argument("--out", required=True, metavar="PATH")
    x.add_argument("--project", default=None, help="record the export in this project")
    x.set_defaults(func=cmd_export)


# --------------------------------------------------------------------------- train
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
        self.stream.write(f"epoch {r.epoch}/{r.epochs}  loss {r.train_loss:.4f}  val loss {val}  "
                          f"fg mIoU {fg}  pixel acc {acc}  {r.seconds:.0f}s{star}\n")
        if r.alarm:
            self.stream.write(f"  ALARM: {r.alarm}\n")
        self.stream.flush()
        self.last = r

    def on_message(self, text):
        self.stream.write(text + "\n")
        self.stream.flush()


def per_class_table(names: list[str], iou: list, fg: float | None, acc: float | None) -> str:
    lines = [f"{'id':>3}  {'class':<24} {'IoU':>6}"]
    for c, v in enumerate(iou):
        name = names[c] if c < len(names) else f"class {c}"
        lines.append(f"{c:>3}  {name[:24]:<24} {'-' if v is None else f'{v:.3f}':>6}")
    fgs = "-" if fg is None else f"{fg:.3f}"
    accs = "-" if acc is None else f"{acc:.2%}"
    lines.append(f"foreground mIoU {fgs}   pixel accuracy {accs}")
    return "\n".join(lines)


def cmd_train(args: argparse.Namespace) -> int:
    from segstudio.services.training import train_project
    from segstudio.store.project import Project

    project = Project.open(args.project)
    keys = ["loss", "weights", "clip", "filters", "depth", "batch", "crop", "epochs", "steps_per_epoch",
            "lr", "rare_fraction", "seed", "resume", "init_from", "out"]
    config = {k: getattr(args, k) for k in keys if getattr(args, k) is not None}
    cancel = threading.Event()
    progress = ConsoleProgress()

    def on_sigint(signum, frame):
        if cancel.is_set():
            raise KeyboardInterrupt
        cancel.set()
        print("\nstopping at the next batch (Ctrl-C again to abort)", file=sys.stderr)

    old = signal.signal(signal.SIGINT, on_sigint) if threading.current_thread() is threading.main_thread() else None
    try:
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
        print(per_class_table(names, best.per_class_iou, best.fg_miou, best.pixel_accuracy))
    print(f"run {run_id}: {run.status}: {run.message or ''}")
    if run.model_path:
        print(f"model: {run.model_path}")
    if run.checkpoint_path and Path(run.checkpoint_path).exists():  # a NaN in epoch 1 writes none
        print(f"checkpoint: {run.checkpoint_path} (resume with --resume {run_id})")
    return {"finished": 0, "cancelled": 130}.get(run.status, 1)


# --------------------------------------------------------------------------- predict / evaluate / export
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

    written = predict_folder(args.model, args.images, args.out, args.confidence, args.tile, _progress("predict"))
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

    result = evaluate_folder(args.model, args.images, args.masks, args.tile, _progress("evaluate"))
    result = {k: _nan_to_none(result[k]) for k in ("per_class_iou", "fg_miou", "pixel_accuracy", "confusion")}
    if args.json:
        print(json.dumps(result, allow_nan=False))
        return 0
    table = card_table(args.model, len(result["per_class_iou"]))
    by_id = {c.id: c.name for c in table}
    names = [by_id.get(i, f"class {i}") for i in range(len(result["per_class_iou"]))]
    print(per_class_table(names, result["per_class_iou"], result["fg_miou"], result["pixel_accuracy"]))
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
