"""Project commands: demo, init, index, stats, weights."""

from __future__ import annotations

import argparse
import json
import sys

from segstudio.cli.arguments import beta, clip_ratio
from segstudio.core.demo import OBJECT_STYLES
from segstudio.core.errors import ProjectError
from segstudio.core.text import counted
from segstudio.core.weights import SCHEMES, loss_share
from segstudio.services.demo import make_demo
from segstudio.services.indexing import reindex
from segstudio.services.project_import import import_folder
from segstudio.services.statistics import project_stats, suggest_weights
from segstudio.store.project import Project


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="write a demo project (32 classes, ~99%% background)")
    p.add_argument("dir", help="folder for the demo project")
    p.add_argument("--n", type=int, default=200, help="number of images (default 200)")
    p.add_argument("--size", type=int, default=256, help="image size in pixels (default 256)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--objects", choices=OBJECT_STYLES, default="blobs",
                   help="blobs (8-18 px, default), large (40-120 px) or thin (1-3 px lines)")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("init", help="create a project from a folder of images (+ masks)")
    p.add_argument("project", help="project folder (holds segstudio.db)")
    p.add_argument("--images", required=True, help="folder of images")
    p.add_argument("--masks", help="folder of masks, paired with images by file stem")
    p.add_argument("--classes", help="class table: CVAT labelmap.txt, JSON or CSV")
    p.set_defaults(func=cmd_init)

    p = sub.add_parser("index", help="re-count class pixels of masks that changed")
    p.add_argument("project")
    p.add_argument("--force", action="store_true", help="re-count every mask")
    p.set_defaults(func=cmd_index)

    p = sub.add_parser("stats", help="per-class pixel statistics")
    p.add_argument("project")
    p.add_argument("--split", choices=["train", "val", "test"], help="only this split")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_stats)

    p = sub.add_parser("runs", help="training runs: status, epochs, best foreground mIoU, model")
    p.add_argument("project")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_runs)

    p = sub.add_parser("weights", help="suggested class weights from the project's statistics")
    p.add_argument("project")
    p.add_argument("--scheme", choices=list(SCHEMES), default="sqrt")
    p.add_argument("--clip", type=clip_ratio, metavar="R", help="cap weights at R x the smallest non-zero weight")
    p.add_argument("--beta", type=beta, default=0.999, help="beta of the 'effective' scheme")
    p.add_argument("--split", choices=["train", "val", "test"], help="only this split")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_weights)


def _progress_bar(label: str):
    def report(done: int, total: int) -> None:
        if not sys.stderr.isatty() or total <= 0:
            return
        width = 30
        filled = int(width * done / total)
        sys.stderr.write(f"\r{label} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
        if done >= total:
            sys.stderr.write("\n")
        sys.stderr.flush()

    return report


def cmd_demo(args: argparse.Namespace) -> int:
    project, report = make_demo(args.dir, n=args.n, seed=args.seed, size=args.size,
                                progress=_progress_bar("generating"), objects=args.objects)
    print(f"demo project with {counted(report.added, 'image')} in {project.root}")
    project.close()
    if _report_skipped(report):
        return 1
    print(f"next: segstudio stats {args.dir}   |   segstudio gui {args.dir}")
    return 0


def cmd_init(args: argparse.Namespace) -> int:
    project, report = import_folder(args.project, args.images, args.masks, args.classes,
                                    progress=_progress_bar("importing"))
    print(
        f"imported {counted(report.added, 'image')} ({report.labelled} with masks) into {project.root}; "
        f"{counted(len(project.class_table()), 'class', 'classes')}"
    )
    project.close()
    return 1 if _report_skipped(report) else 0


def _report_skipped(report) -> bool:
    """One 'file: problem' line per skipped file on stderr; True when anything was skipped."""
    if report.skipped:
        print(f"skipped {counted(len(report.skipped), 'file')}:", file=sys.stderr)
        for line in report.lines():
            print(f"  {line}", file=sys.stderr)
    return bool(report.skipped)


def cmd_index(args: argparse.Namespace) -> int:
    with Project.open(args.project) as project:
        rep = reindex(project, force=args.force, progress=_progress_bar("indexing"))
    print(f"checked {rep.checked} masks, counted {rep.counted} in {rep.seconds:.2f} s")
    for path, why in rep.failed:
        print(f"  {path}: {why}", file=sys.stderr)
    return 1 if rep.failed else 0


def cmd_stats(args: argparse.Namespace) -> int:
    with Project.open(args.project) as project:
        stats = project_stats(project, split=args.split)
        fingerprint = project.fingerprint(args.split).to_json()
    data = {**stats.to_json(), "fingerprint": fingerprint}
    if args.json:
        print(json.dumps(data, indent=1))
        return 0
    total = sum(c["pixels"] for c in data["classes"]) or 1
    print(f"{data['images']} images, {data['labelled_images']} labelled, "
          f"{data['ignored_pixels']} ignored pixels")
    print(f"{'id':>4}  {'name':<22} {'colour':<8} {'pixels':>12} {'share':>9} {'images':>7}")
    for c in data["classes"]:
        share = 100.0 * c["pixels"] / total
        print(f"{c['id']:>4}  {c['name'][:22]:<22} {c['color']:<8} {c['pixels']:>12} "
              f"{share:>8.4f}% {c['images']:>7}")
    return 0


def cmd_weights(args: argparse.Namespace) -> int:
    with Project.open(args.project) as project:
        table = project.class_table()
        w = suggest_weights(project, args.scheme, clip=args.clip, split=args.split, beta=args.beta)
        totals = project.class_totals(split=args.split)
    if args.json:
        print(json.dumps({"scheme": args.scheme, "weights": [float(x) for x in w]}))
        return 0
    share = loss_share(w, totals.pixels)
    print(f"scheme {args.scheme}: {SCHEMES[args.scheme]}")
    if args.clip:
        print(f"clipped at {args.clip:g} x the smallest non-zero weight")
    print(f"{'id':>4}  {'name':<22} {'weight':>10} {'loss share':>11}")
    for c in table:
        if c.ignore or c.id >= len(w):
            continue
        print(f"{c.id:>4}  {c.name[:22]:<22} {w[c.id]:>10.4g} {100 * share[c.id]:>10.2f}%")
    return 0


def run_rows(project: Project) -> list[dict]:
    """One dict per training run, oldest first (a run whose process died shows 'interrupted')."""
    return [
        {"id": r.id, "status": r.status, "epochs": len(project.epochs(r.id)),
         "epochs_planned": None if r.config.get("minutes") else r.config.get("epochs"),
         "minutes": r.config.get("minutes"), "best_fg_miou": r.best_fg_miou,
         "model_path": r.model_path, "parent_run_id": r.parent_run_id, "message": r.message,
         "created_at": r.created_at.isoformat() if r.created_at else None,
         "finished_at": r.finished_at.isoformat() if r.finished_at else None}
        for r in project.runs()
    ]


def cmd_runs(args: argparse.Namespace) -> int:
    with Project.open(args.project) as project:
        try:
            project.mark_interrupted_runs()  # a run whose process died is not 'running'
        except ProjectError:
            pass  # a read-only project still lists its runs, as stored
        rows = run_rows(project)
    if args.json:
        print(json.dumps(rows, indent=1))
        return 0
    if not rows:
        print("no training runs yet")
        return 0
    print(f"{'id':>4}  {'status':<11} {'epochs':>7}  {'best fg mIoU':>12}  model")
    for r in rows:
        epochs = (f"{r['epochs']}/{r['epochs_planned']}" if r["epochs_planned"]
                  else f"{r['epochs']} ({r['minutes']:g} min)" if r["minutes"] else str(r["epochs"]))
        best = "-" if r["best_fg_miou"] is None else f"{r['best_fg_miou']:.3f}"
        print(f"{r['id']:>4}  {r['status']:<11} {epochs:>7}  {best:>12}  {r['model_path'] or '-'}")
    return 0
