"""Tiled vs whole-image inference on a large image: time and peak memory (each in its own process).

    nice python benchmarks/bench_predict.py                 # 4096x4096, tile 512
    python benchmarks/bench_predict.py --size 2048 --model bench_out/model.keras
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(mode: str, size: int, tile: int, model_path: str | None, filters: int, depth: int) -> dict:
    import numpy as np

    from segstudio.ml.predict import load_model, predict_tiled, predict_whole
    from segstudio.ml.unet import build_unet

    model = load_model(model_path) if model_path else build_unet(32, 1, depth, filters, True, 0.0, [70.0], [400.0])
    image = np.random.default_rng(0).integers(0, 255, (size, size)).astype(np.uint8)
    predict_tiled(model, image[:tile, :tile], tile=tile)  # warm up graph building
    base = rss_mib()
    t0 = time.perf_counter()
    if mode == "tiled":
        out = predict_tiled(model, image, tile=tile)
        classes = out.classes
    else:
        probs = predict_whole(model, image)
        classes = probs.argmax(-1).astype(np.uint8)
    seconds = time.perf_counter() - t0
    return {"mode": mode, "seconds": seconds, "peak_rss_mib": rss_mib(), "rss_before_mib": base,
            "checksum": int(classes.astype(np.int64).sum())}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, default=4096)
    ap.add_argument("--tile", type=int, default=512)
    ap.add_argument("--model", default=None, help=".keras model (default: an untrained 16-filter U-Net)")
    ap.add_argument("--filters", type=int, default=16)
    ap.add_argument("--depth", type=int, default=4)
    ap.add_argument("--modes", default="tiled,whole")
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.size, args.tile, args.model, args.filters, args.depth)))
        return 0
    rows = []
    for mode in args.modes.split(","):
        cmd = [sys.executable, __file__, "--child", mode, "--size", str(args.size), "--tile", str(args.tile),
               "--filters", str(args.filters), "--depth", str(args.depth)]
        if args.model:
            cmd += ["--model", args.model]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            print(f"{mode}: failed (exit {proc.returncode}; out of memory?) {proc.stderr.strip()[-300:]}")
            continue
        rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    print(f"{args.size}x{args.size} image, tile {args.tile}")
    for r in rows:
        print(f"{r['mode']:>6}: {r['seconds']:7.1f} s   peak RSS {r['peak_rss_mib']:8.0f} MiB "
              f"(model loaded: {r['rss_before_mib']:.0f} MiB)")
    if len(rows) == 2:
        a, b = rows
        print(f"tiled/whole: time {a['seconds'] / b['seconds']:.2f}x, peak memory "
              f"{a['peak_rss_mib'] / b['peak_rss_mib']:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
