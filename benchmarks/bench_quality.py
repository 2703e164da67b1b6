"""Quality at a fixed step budget: the seed's recipe vs segstudio's defaults, on demo data.

(a) seed: softmax + categorical cross-entropy on one-hot masks, random crops,
    uniform image sampling, constant learning rate.
(b) segstudio: ``services.training.train_project`` with its default loss, class
    weights, rare-class crop sampling and schedule.
Same U-Net (filters/depth/batch norm), same batch, crop and number of steps.
Both are scored on held-out demo images (a different generator seed) with
per-class IoU, foreground mIoU and pixel accuracy from one confusion matrix.

    nice python benchmarks/bench_quality.py            # ~10-15 min on 2 CPU cores
    python benchmarks/bench_quality.py --steps 60      # quick look
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from segstudio.core.demo import demo_sample  # noqa: E402
from segstudio.core.metrics import confusion_matrix, foreground_miou, per_class_iou, pixel_accuracy  # noqa: E402


def held_out(n: int, seed: int, size: int):
    rng = np.random.default_rng(seed)
    return [demo_sample(rng, size) for _ in range(n)]


def score(model, test, num_classes):
    from segstudio.ml.predict import predict_image

    cm = np.zeros((num_classes, num_classes), np.int64)
    for image, mask in test:
        confusion_matrix(mask, predict_image(model, image).classes, num_classes, out=cm)
    return cm


def train_seed(project, args, num_classes):
    """The seed's recipe, on the same model and budget."""
    import keras

    from segstudio.ml.unet import build_unet, image_stats
    from segstudio.services.training import CachedLoader, label_lut

    keras.utils.set_random_seed(args.seed)
    table = project.class_table()
    recs = project.images("train", labelled_only=True)
    lut, _ = label_lut(table, num_classes)
    load = CachedLoader(recs, table, lut)
    data = [load(i) for i in range(len(recs))]
    mean, var = image_stats((im for im, _ in data[::4]), 1)
    model = build_unet(num_classes, 1, args.depth, args.filters, args.batch_norm, 0.0, mean, var)
    model.compile(keras.optimizers.Adam(args.seed_lr), keras.losses.CategoricalCrossentropy())
    rng = np.random.default_rng(args.seed)
    s = args.crop

    def gen():
        while True:
            xs, ys = [], []
            for _ in range(args.batch):
                im, lab = data[rng.integers(len(data))]
                y0, x0 = rng.integers(0, im.shape[0] - s + 1), rng.integers(0, im.shape[1] - s + 1)
                xs.append(im[y0:y0 + s, x0:x0 + s, None].astype(np.float32))
                ys.append(np.eye(num_classes, dtype=np.float32)[lab[y0:y0 + s, x0:x0 + s]])
            yield np.stack(xs), np.stack(ys)

    model.fit(gen(), steps_per_epoch=args.steps, epochs=1, verbose=0)
    return model


def train_segstudio(project, args, extra):
    from segstudio.ml.predict import load_model
    from segstudio.services.training import train_project

    epochs = max(1, args.steps // args.steps_per_epoch)
    config = {
        "filters": args.filters, "depth": args.depth, "batch_norm": args.batch_norm,
        "batch": args.batch, "crop": args.crop, "epochs": epochs,
        "steps_per_epoch": args.steps // epochs, "seed": args.seed, **extra,
    }

    class Print:
        def on_batch(self, *a):
            pass

        def on_epoch(self, r):
            print(f"  epoch {r.epoch}/{r.epochs} loss {r.train_loss:.3f} val fg mIoU "
                  f"{r.fg_miou or 0:.3f} acc {r.pixel_accuracy or 0:.4f} {r.alarm or ''}", flush=True)

        def on_message(self, t):
            pass

    run_id = train_project(project, config, Print())
    return load_model(project.run(run_id).model_path), config


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="bench_out/quality")
    ap.add_argument("--n", type=int, default=200, help="demo training+validation images")
    ap.add_argument("--test", type=int, default=50, help="held-out test images")
    ap.add_argument("--steps", type=int, default=500)
    ap.add_argument("--steps-per-epoch", type=int, default=100)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--crop", type=int, default=32)
    ap.add_argument("--filters", type=int, default=16)
    ap.add_argument("--depth", type=int, default=4)
    ap.add_argument("--no-batch-norm", dest="batch_norm", action="store_false")
    ap.add_argument("--lr", type=float, default=1e-2, help="segstudio's peak learning rate")
    ap.add_argument("--seed-lr", type=float, default=1e-3, help="the seed recipe's (Keras default Adam)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--only", choices=["seed", "segstudio"], default=None)
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="override a segstudio training option, e.g. --set loss=focal+dice")
    ap.add_argument("--json", default=None, help="also write results here")
    args = ap.parse_args(argv)

    from segstudio.services.demo import make_demo
    from segstudio.store.project import Project

    out = Path(args.out)
    proj_dir = out / f"demo_n{args.n}_s{args.seed}"
    project = Project.open(proj_dir) if (proj_dir / "images").exists() else make_demo(proj_dir, n=args.n, seed=args.seed)[0]
    num_classes = 32
    test = held_out(args.test, 10_000 + args.seed, 256)
    extra = {"lr": args.lr}
    for kv in args.set:
        k, v = kv.split("=", 1)
        try:
            extra[k] = json.loads(v)
        except json.JSONDecodeError:
            extra[k] = v
    results = {}
    if args.only in (None, "seed"):
        t0 = time.perf_counter()
        model = train_seed(project, args, num_classes)
        results["seed"] = (score(model, test, num_classes), time.perf_counter() - t0)
        print(f"seed recipe trained in {results['seed'][1]:.0f} s", flush=True)
    if args.only in (None, "segstudio"):
        t0 = time.perf_counter()
        model, config = train_segstudio(project, args, extra)
        results["segstudio"] = (score(model, test, num_classes), time.perf_counter() - t0)
        print(f"segstudio trained in {results['segstudio'][1]:.0f} s with {config}", flush=True)

    names = list(results)
    ious = {k: per_class_iou(cm) for k, (cm, _) in results.items()}
    share = sum(cm for cm, _ in results.values())[:, :].sum(1)
    share = share / share.sum()
    print(f"\nper-class IoU on {args.test} held-out images ({args.steps} steps, batch {args.batch}, "
          f"crop {args.crop}, {args.filters} filters, depth {args.depth})")
    print(f"{'class':>5} {'pixels':>8} " + " ".join(f"{n:>10}" for n in names))
    for c in range(num_classes):
        print(f"{c:>5} {share[c]:>8.4%} " + " ".join(
            f"{'-' if np.isnan(ious[n][c]) else f'{ious[n][c]:.3f}':>10}" for n in names))
    summary = {}
    for n in names:
        cm = results[n][0]
        summary[n] = {"fg_miou": foreground_miou(cm), "pixel_accuracy": pixel_accuracy(cm),
                      "seconds": results[n][1], "per_class_iou": [None if np.isnan(v) else v for v in ious[n]]}
        print(f"{n:>10}: foreground mIoU {summary[n]['fg_miou']:.3f}   pixel accuracy "
              f"{summary[n]['pixel_accuracy']:.4f}   ({results[n][1]:.0f} s)")
    if len(names) == 2:
        a, b = summary["seed"]["fg_miou"], summary["segstudio"]["fg_miou"]
        print(f"ratio segstudio/seed foreground mIoU: {b / a if a > 0 else float('inf'):.1f}x")
    if args.json:
        Path(args.json).write_text(json.dumps({"args": vars(args), "results": summary}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
