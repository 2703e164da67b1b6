"""Quality at the same wall-clock budget, on several data sets, over several seeds.

Recipes, each given the same minutes of training on this machine (validation included):
  seed    the seed project's recipe: softmax + categorical cross-entropy on one-hot masks,
          uniform random 128-px crops, constant Adam 1e-3; the plan's U-Net.
  nnunet  nnU-Net's plain recipe: CE + Dice, no class weights, a third of the crops forced
          onto foreground, large (128-px) crops; segstudio's trainer and schedule otherwise.
  plan    segstudio's plan for the data set (``segstudio plan``), nothing overridden.

Data sets: demo (the demo generator, objects 8-18 px), demo-large (40-120 px),
demo-thin (1-3 px lines), each 200 images for training + validation and 50 held-out
test images from another generator seed; em: the real EPFL EM slices in
../shared/data/epfl-em (27 train/val, 5 test, 7 classes). Every score is on the test
images, from one confusion matrix per run: foreground mIoU, the mIoU of the rarer half
of the foreground classes (by training pixels), background IoU and pixel accuracy;
reported as mean ± standard deviation over the seeds.

    nice python benchmarks/bench_quality.py                      # ~1 hour on 2 CPU cores
    python benchmarks/bench_quality.py --sets demo --minutes 1   # one data set
    python benchmarks/bench_quality.py --quick                   # smoke run on tiny data (tests)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

from segstudio.core.metrics import (
    confusion_matrix,
    edge_confusion,
    edge_tolerant_iou,
    per_class_iou,
    pixel_accuracy,
)
from segstudio.ml.tta import TTA_VIEWS

ROOT = Path(__file__).resolve().parents[1]
EM = ROOT.parent / "shared" / "data" / "epfl-em"
DEMO_SETS = {"demo": "blobs", "demo-large": "large", "demo-thin": "thin"}
RECIPES = ("seed", "nnunet", "plan")
LARGE_CROP = 128


# --------------------------------------------------------------------------- data
def demo_set(out: Path, name: str, n: int, n_test: int, size: int):
    """(project, test pairs) for a demo style; the test images come from another seed."""
    from segstudio.core.demo import demo_sample
    from segstudio.services.demo import make_demo
    from segstudio.store.project import Project

    folder = out / f"{name}_n{n}_s{size}"
    project = Project.open(folder) if (folder / "segstudio.db").exists() else \
        make_demo(folder, n=n, seed=0, size=size, objects=DEMO_SETS[name])[0]
    rng = np.random.default_rng(10_000)
    return project, [demo_sample(rng, size, DEMO_SETS[name]) for _ in range(n_test)]


def em_set(out: Path):
    from segstudio.io.images import read_image
    from segstudio.io.masks import read_mask
    from segstudio.services.project_import import import_folder
    from segstudio.store.project import Project

    folder = out / "em"
    if (folder / "segstudio.db").exists():
        project = Project.open(folder)
    else:
        project = import_folder(folder, EM / "train" / "images", EM / "train" / "masks",
                                EM / "classes.csv")[0]
    table = project.class_table()
    test = []
    for p in sorted((EM / "test" / "images").glob("*.png")):
        image = read_image(p)
        test.append((image, read_mask(EM / "test" / "masks" / p.name, table,
                                      (image.shape[1], image.shape[0])).labels))
    return project, test


# --------------------------------------------------------------------------- recipes
def train_seed_recipe(project, minutes: float, seed: int, filters: int, depth: int):
    """The seed's recipe for ``minutes``: one-hot CCE, uniform crops, constant lr."""
    import keras

    from segstudio.ml.unet import build_unet, image_stats
    from segstudio.services.training import CachedLoader, label_lut, model_classes

    keras.utils.set_random_seed(seed)
    table = project.class_table()
    num_classes = model_classes(table)
    recs = project.images("train", labelled_only=True)
    lut, _ = label_lut(table, num_classes)
    load = CachedLoader(recs, table, lut)
    data = [load(i) for i in range(len(recs))]
    mean, var = image_stats((im for im, _ in data[:: max(1, len(data) // 20)]), 1)
    model = build_unet(num_classes, 1, depth, filters, True, 0.0, mean, var)
    model.compile(keras.optimizers.Adam(1e-3), keras.losses.CategoricalCrossentropy())
    rng = np.random.default_rng(seed)
    side = min(min(im.shape[:2]) for im, _ in data)
    s = min(LARGE_CROP, side // 2**depth * 2**depth)
    batch = max(2, (1 << 16) // (s * s))
    eye = np.eye(num_classes, dtype=np.float32)

    def gen():
        while True:
            xs, ys = [], []
            for _ in range(batch):
                im, lab = data[rng.integers(len(data))]
                y0, x0 = rng.integers(0, im.shape[0] - s + 1), rng.integers(0, im.shape[1] - s + 1)
                xs.append(im[y0:y0 + s, x0:x0 + s, None].astype(np.float32))
                ys.append(eye[np.minimum(lab[y0:y0 + s, x0:x0 + s], num_classes - 1)])
            yield np.stack(xs), np.stack(ys)

    deadline = time.perf_counter() + 60 * minutes

    class Budget(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if time.perf_counter() >= deadline:
                self.model.stop_training = True

    model.fit(gen(), steps_per_epoch=1_000_000, epochs=1, verbose=0, callbacks=[Budget()])
    return model, {"crop": s, "batch": batch, "filters": filters, "depth": depth}


def train_with_segstudio(project, overrides: dict):
    from segstudio.ml.predict import load_model
    from segstudio.services.training import train_project

    class Quiet:
        def on_batch(self, *a):
            pass

        def on_epoch(self, r):
            pass

        def on_message(self, t):
            pass

    run_id = train_project(project, overrides, Quiet())
    run = project.run(run_id)
    epochs = project.epochs(run_id)
    final_alarm = epochs[-1].alarm if epochs else None
    adjustments = [e.epoch for e in epochs if e.adjustment]
    return load_model(run.model_path), {**{k: run.config.get(k) for k in
                                           ("crop", "batch", "filters", "depth", "loss", "weights", "clip",
                                            "rare_fraction", "lr", "steps_per_epoch")},
                                        "epochs_done": len(epochs), "final_alarm": final_alarm,
                                        "model": str(run.model_path),
                                        "adjusted_at": adjustments}


def warm_up(project) -> None:
    """A few untimed steps before the first timed run. A process's first run paid for the
    lazy TensorFlow imports, cold disk caches and first traces inside its budget (measured on
    demo-thin: 12 epochs in the first 10-minute run, 16 in the next, same recipe), so
    whichever recipe came first in a sitting was handicapped."""
    train_with_segstudio(project, {"epochs": 1, "steps_per_epoch": 3, "seed": 0})


def run_recipe(recipe: str, project, minutes: float, seed: int, plan_arch: dict, plan_set: dict | None = None):
    if recipe == "seed":
        return train_seed_recipe(project, minutes, seed, plan_arch["filters"], plan_arch["depth"])
    if recipe == "nnunet":
        side = min(min(r.width, r.height) for r in project.images("train", labelled_only=True))
        crop = min(LARGE_CROP, side // 16 * 16)
        return train_with_segstudio(project, {
            "minutes": minutes, "seed": seed, "loss": "ce+dice", "weights": "none", "clip": None,
            "rare_fraction": 1 / 3, "crop": crop, "filters": plan_arch["filters"],
            "self_correct": False})
    return train_with_segstudio(project, {"minutes": minutes, "seed": seed, **(plan_set or {})})


# --------------------------------------------------------------------------- scoring
def score(model, test, num_classes: int, rare_half: list[int], tta: int = 1) -> dict:
    from segstudio.ml.predict import predict_image

    cm = np.zeros((num_classes, num_classes), np.int64)
    edge = np.zeros_like(cm)
    for image, mask in test:
        classes = predict_image(model, image, tta=tta).classes
        confusion_matrix(mask, classes, num_classes, out=cm)
        edge_confusion(mask, classes, num_classes, out=edge)
    iou = per_class_iou(cm)
    tolerant = edge_tolerant_iou(cm, edge)
    fg = iou[1:]
    present = cm.sum(1) > 0
    return {
        "fg_miou": float(np.nanmean(np.where(present[1:], fg, np.nan))),
        "rare_miou": float(np.nanmean([iou[c] for c in rare_half if present[c]])) if rare_half else float("nan"),
        "bg_iou": float(iou[0]), "pixel_accuracy": float(pixel_accuracy(cm)),
        "per_class_iou": [None if np.isnan(v) else float(v) for v in iou],
        # outlines a pixel off forgiven: how much of the gap to a target is edge placement
        "bg_iou_edge_tolerant": float(tolerant[0]),
        "per_class_edge_tolerant_iou": [None if np.isnan(v) else float(v) for v in tolerant],
    }


def rarer_half(project, num_classes: int) -> list[int]:
    px = project.class_totals("train").pixels[:num_classes]
    fg = [c for c in range(1, num_classes) if px[c] > 0]
    fg.sort(key=lambda c: px[c])
    return fg[: max(1, len(fg) // 2)]


def mean_sd(xs: list[float]) -> str:
    a = np.array([x for x in xs if x == x], dtype=float)
    if a.size == 0:
        return "-"
    return f"{a.mean():.3f} ± {a.std(ddof=1):.3f}" if a.size > 1 else f"{a.mean():.3f}"


def markdown_table(results: dict) -> str:
    """data set x recipe: mean ± sd over seeds of each score; in bold, the best mean of each
    data set's column (every recipe level with it at three decimals), whichever recipe it is."""
    keys = ("fg_miou", "rare_miou", "bg_iou", "pixel_accuracy")
    rows = ["| data set | recipe | seeds | foreground mIoU | rare-half mIoU | background IoU | pixel accuracy |",
            "|---|---|---|---|---|---|---|"]
    for name, by_recipe in results.items():
        means = {recipe: [round(float(np.nanmean([r[k] for r in runs])), 3) for k in keys]
                 for recipe, runs in by_recipe.items()}
        best = [max(m[i] for m in means.values()) for i in range(len(keys))]
        for recipe, runs in by_recipe.items():
            cells = [mean_sd([r[k] for r in runs]) for k in keys]
            cells = [f"**{c}**" if means[recipe][i] == best[i] else c for i, c in enumerate(cells)]
            rows.append(f"| {name} | {recipe} | {len(runs)} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="bench_out/quality")
    ap.add_argument("--sets", default="demo,demo-large,demo-thin,em")
    ap.add_argument("--recipes", default=",".join(RECIPES))
    ap.add_argument("--minutes", type=float, default=1.5, help="training budget per run, demo sets")
    ap.add_argument("--em-minutes", type=float, default=2.5, help="training budget per run, EM set")
    ap.add_argument("--seeds", type=int, default=3, help="seeds for nnunet and plan: seeds FIRST_SEED .. SEEDS-1")
    ap.add_argument("--seed-recipe-seeds", type=int, default=1, help="seeds for the seed recipe")
    ap.add_argument("--first-seed", type=int, default=0,
                    help="start at this seed (to run the seeds of one table in several sittings): "
                         "--first-seed 2 --seeds 3 runs seed 2 only")
    ap.add_argument("--n", type=int, default=200, help="demo training+validation images")
    ap.add_argument("--test", type=int, default=50, help="demo held-out test images")
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--tta", type=int, default=1, choices=sorted(TTA_VIEWS),
                    help="score every recipe's predictions averaged over this many flipped/rotated views")
    ap.add_argument("--quick", action="store_true", help="tiny data, seconds per run (the test suite)")
    ap.add_argument("--json", default=None, help="also write every result here")
    ap.add_argument("--markdown", default=None, metavar="JSON",
                    help="print the table of an earlier --json result as Markdown, and stop")
    ap.add_argument("--plan-set", action="append", default=[], metavar="KEY=VALUE",
                    help="override one plan choice (to compare a variant), e.g. --plan-set lr=0.01")
    args = ap.parse_args(argv)
    if args.markdown:
        print(markdown_table(json.loads(Path(args.markdown).read_text())["results"]))
        return 0
    if args.quick:
        args.n, args.test, args.size, args.minutes, args.em_minutes = 16, 4, 64, 0.05, 0.05
        args.seeds, args.seed_recipe_seeds = 1, 1
        args.sets = ",".join(s for s in args.sets.split(",") if s != "em")
    if args.first_seed >= max(args.seeds, args.seed_recipe_seeds):
        ap.error(f"--first-seed {args.first_seed} with --seeds {args.seeds} runs no seed: "
                 f"--seeds is one past the last seed (--first-seed {args.first_seed} --seeds {args.first_seed + 1} runs one)")

    from segstudio.services.planning import plan_for_project
    from segstudio.services.training import model_classes

    plan_set = {}
    for kv in args.plan_set:
        k, v = kv.split("=", 1)
        try:
            plan_set[k] = json.loads(v)
        except json.JSONDecodeError:
            plan_set[k] = v
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results: dict = {}
    warmed = False
    for name in args.sets.split(","):
        if name == "em":
            if not EM.exists():
                print(f"skipping em: {EM} not found")
                continue
            project, test = em_set(out)
            minutes = args.em_minutes
        else:
            project, test = demo_set(out, name, args.n, args.test, args.size)
            minutes = args.minutes
        num_classes = model_classes(project.class_table())
        rare = rarer_half(project, num_classes)
        plan = plan_for_project(project, minutes)
        arch = {"filters": plan.get("filters"), "depth": plan.get("depth")}
        print(f"\n== {name}: {project.image_count()} images, {num_classes} classes, {minutes:g} min per run; "
              f"plan: " + ", ".join(f"{c.key}={c.value}" for c in plan.choices), flush=True)
        # seed-major: whatever else loads the machine meanwhile hits every recipe alike
        todo = [(seed, recipe) for seed in range(args.first_seed, max(args.seeds, args.seed_recipe_seeds))
                for recipe in args.recipes.split(",")
                if seed < (args.seed_recipe_seeds if recipe == "seed" else args.seeds)]
        if todo and not warmed:
            warm_up(project)
            warmed = True
        for seed, recipe in todo:
            t0 = time.perf_counter()
            model, info = run_recipe(recipe, project, minutes, seed, arch, plan_set)
            s = score(model, test, num_classes, rare, args.tta)
            s.update(info=info, seconds=time.perf_counter() - t0)
            results.setdefault(name, {}).setdefault(recipe, []).append(s)
            print(f"  {recipe:<7} seed {seed}: fg mIoU {s['fg_miou']:.3f}  rare-half {s['rare_miou']:.3f}  "
                  f"bg IoU {s['bg_iou']:.3f} (±1 px {s['bg_iou_edge_tolerant']:.3f})  acc {s['pixel_accuracy']:.4f}  ({s['seconds']:.0f} s) {info}",
                  flush=True)
            if args.json:
                Path(args.json).write_text(json.dumps({"args": vars(args), "results": results}, indent=1))
        project.close()

    print(f"\n{'data set':<11} {'recipe':<7} {'seeds':>5} {'fg mIoU':>15} {'rare-half mIoU':>15} "
          f"{'background IoU':>15} {'pixel acc':>15}")
    for name, by_recipe in results.items():
        for recipe, runs in by_recipe.items():
            print(f"{name:<11} {recipe:<7} {len(runs):>5} " + " ".join(
                f"{mean_sd([r[k] for r in runs]):>15}" for k in ("fg_miou", "rare_miou", "bg_iou", "pixel_accuracy")))
        if "plan" in by_recipe:
            plan_fg = np.mean([r["fg_miou"] for r in by_recipe["plan"]])
            for base in ("seed", "nnunet"):
                if base in by_recipe:
                    b = np.mean([r["fg_miou"] for r in by_recipe[base]])
                    print(f"{'':<11} plan / {base}: {plan_fg / b if b > 0 else float('inf'):.1f}x foreground mIoU")
            alarms = [r["info"].get("final_alarm") for r in by_recipe["plan"] if r["info"].get("final_alarm")]
            print(f"{'':<11} plan runs ending with an alarm raised: {len(alarms)}")
    if args.quick:
        shutil.rmtree(out, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
