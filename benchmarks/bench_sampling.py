"""Crop sampling cost per training batch: the class-pixel index vs a scan of the whole mask.

A third or more of the plan's crops are centred on a pixel of a drawn foreground class.
scan:  np.flatnonzero(labels == c) over the whole mask for every centred crop (the code
       before the index; its cost grows with the image)
index: sampling.ClassPixels, each mask's foreground positions grouped by class once
Both draw the same crops (tests/ml/test_sampling.py). Printed side by side in one run,
interleaved, for the EM slices (768x1024) when given, and for generated masks of several
sides with 1% foreground in blobs.

    python benchmarks/bench_sampling.py [--project em-project] [--sides 256,1024,4096]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

from segstudio.ml.sampling import ClassPixels, CropSampler, make_sample


class Scan(ClassPixels):
    """The old path: no index, a scan per centred crop."""

    def positions(self, key, labels, c):
        return np.flatnonzero(labels.reshape(-1) == c)


def generated(side: int, n: int, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        labels = np.zeros((side, side), np.uint8)
        r = max(2, side // 64)
        for _ in range(max(1, int(0.01 * side * side / (4 * r * r)))):  # ~1% foreground
            y, x = rng.integers(0, side - 2 * r, 2)
            labels[y : y + 2 * r, x : x + 2 * r] = rng.integers(1, 8)
        out.append((rng.integers(0, 255, (side, side), dtype=np.uint8), labels))
    return out


def per_batch_ms(load, counts, crop: int, batch: int, rounds: int, batches: int) -> dict[str, float]:
    """Steady-state ms per batch of each way, and the index's one-off build per image."""
    times: dict[str, list[float]] = {"scan": [], "index": [], "build": []}
    for _ in range(rounds):
        for name, pixels in (("scan", Scan(0)), ("index", ClassPixels(0))):
            sampler = CropSampler(counts, rare_fraction=1 / 3)
            sampler.pixels = pixels
            t = time.perf_counter()
            for i in range(len(counts)):  # the index is built once per image, then reused
                pixels.positions(i, load(i)[1], 1)
            if name == "index":
                times["build"].append((time.perf_counter() - t) / len(counts) * 1e3)
            t = time.perf_counter()
            for k in range(batch * batches):
                make_sample(load, sampler, k, 0, crop, 255)
            times[name].append((time.perf_counter() - t) / batches * 1e3)
    return {k: float(np.median(v)) for k, v in times.items()}


def report(name: str, ms: dict[str, float]) -> None:
    print(f"{name:<34} scan {ms['scan']:7.2f} ms/batch   index {ms['index']:6.2f} ms/batch   "
          f"{ms['scan'] / ms['index']:5.1f}x   (index built once: {ms['build']:.1f} ms per image)", flush=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--project", help="a project whose training masks to sample from (its plan's crop and batch)")
    ap.add_argument("--sides", default="256,1024,4096", help="generated mask sides")
    ap.add_argument("--images", type=int, default=8, help="generated masks per side")
    ap.add_argument("--crop", type=int, default=64)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--batches", type=int, default=40)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args(argv)

    print(f"median of {args.rounds} interleaved rounds; a third of the crops centred on a foreground class")
    if args.project:
        from segstudio.services.planning import plan_for_project
        from segstudio.services.training import CachedLoader, label_lut
        from segstudio.store.project import Project

        project = Project.open(args.project)
        plan = plan_for_project(project)
        table = project.class_table()
        num_classes = max(c.id for c in table) + 1
        lut, _ = label_lut(table, num_classes)
        recs = project.images("train", labelled_only=True)
        _, counts = project.counts_matrix("train", num_classes=num_classes)
        load = CachedLoader(recs, table, lut)
        for i in range(len(recs)):
            load(i)  # decoded once, as the trainer's cache holds them
        crop, batch = plan.get("crop"), plan.get("batch")
        report(f"{Path(args.project).name} ({crop} px x {batch})",
               per_batch_ms(load, counts, crop, batch, args.rounds, args.batches))
    for side in (int(s) for s in args.sides.split(",") if s):
        data = generated(side, args.images)
        counts = np.stack([np.bincount(lab.ravel(), minlength=8) for _, lab in data])
        report(f"generated {side}x{side} ({args.crop} px x {args.batch})",
               per_batch_ms(data.__getitem__, counts, args.crop, args.batch, args.rounds, args.batches))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
