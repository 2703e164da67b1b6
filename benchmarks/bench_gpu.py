"""GPU training throughput: the plan's GPU model with and without mixed precision and XLA.

For each of (float32 | mixed_float16) x (XLA off | on), steps/s and images/s of
  memory    one fixed batch of synthetic tensors held on the device (the ceiling: no input)
  pipeline  segstudio's tf.data pipeline (rare-class crop sampling, flips) over in-memory
            images, through model.fit (TensorFlow only)
and the peak GPU memory. The model is the plan's on a GPU (core.plan: FILTERS["gpu"]
filters, depth down to a BOTTLENECK-pixel bottom, batch from PIXELS_PER_STEP["gpu"]) for
``--crop``, trained with the plan's loss. Model and losses are ``keras.ops`` only, so with
``KERAS_BACKEND=jax`` (a machine with JAX and no TensorFlow) the memory feed runs on JAX and
the TensorFlow-only parts are skipped with a message; nothing here imports TensorFlow
unless the backend is TensorFlow.

    python benchmarks/bench_gpu.py                       # on the GPU machine (TF or JAX)
    KERAS_BACKEND=jax python benchmarks/bench_gpu.py     # JAX only
    nice python benchmarks/bench_gpu.py --smoke          # tiny, on a CPU: proves it runs
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

from segstudio.core import plan as P

BACKEND = os.environ["KERAS_BACKEND"]
NUM_CLASSES = 32


def plan_model(crop: int) -> dict:
    """The plan's GPU choices for a crop side (the rules of core.plan, without a data set)."""
    depth = min(P.MAX_DEPTH, max(1, int(math.log2(crop / P.BOTTLENECK))))
    batch = int(min(P.MAX_BATCH, max(P.MIN_BATCH, P.PIXELS_PER_STEP["gpu"] // (crop * crop))))
    return {"filters": P.FILTERS["gpu"], "depth": depth, "batch": batch, "crop": crop, "loss": P.LOSS}


def synthetic(n: int, crop: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Gray images with a few bright squares of rare classes on background 0."""
    rng = np.random.default_rng(seed)
    x = rng.normal(60, 4, (n, crop, crop, 1)).astype(np.float32)
    y = np.zeros((n, crop, crop), np.uint8)
    for i in range(n):
        for _ in range(3):
            c = int(rng.integers(1, NUM_CLASSES))
            s = max(2, crop // 16)
            r, q = rng.integers(0, crop - s, 2)
            y[i, r:r + s, q:q + s] = c
            x[i, r:r + s, q:q + s, 0] = 60 + 6 * c
    return x, y


def device_kind() -> str:
    if BACKEND == "jax":
        import jax

        return jax.devices()[0].platform  # "gpu" | "cpu" | "tpu"
    import tensorflow as tf

    return "gpu" if tf.config.list_physical_devices("GPU") else "cpu"


def reset_peak_memory() -> None:
    if BACKEND == "tensorflow" and device_kind() == "gpu":
        import tensorflow as tf

        tf.config.experimental.reset_memory_stats("GPU:0")


def peak_memory_mb() -> float | None:
    """Peak device memory of the process (TF: since the last reset; JAX: since start)."""
    if device_kind() != "gpu":
        return None
    if BACKEND == "jax":
        import jax

        stats = jax.devices()[0].memory_stats() or {}
        peak = stats.get("peak_bytes_in_use")
        return None if peak is None else peak / 2**20
    import tensorflow as tf

    return tf.config.experimental.get_memory_info("GPU:0")["peak"] / 2**20


def build(cfg: dict, mixed: bool, xla: bool):
    import keras

    from segstudio.ml import losses
    from segstudio.ml.unet import build_unet

    keras.mixed_precision.set_global_policy("mixed_float16" if mixed else "float32")
    keras.utils.set_random_seed(0)
    model = build_unet(NUM_CLASSES, 1, cfg["depth"], cfg["filters"], True, 0.0, [60.0], [100.0])
    weights = [0.2] + [1.0] * (NUM_CLASSES - 1)
    model.compile(optimizer=keras.optimizers.Adam(1e-3, clipnorm=1.0),
                  loss=losses.get(cfg["loss"], weights, 255), jit_compile=xla)
    return model


def time_memory(cfg: dict, mixed: bool, xla: bool, steps: int, warmup: int) -> dict:
    x, y = synthetic(cfg["batch"], cfg["crop"])
    model = build(cfg, mixed, xla)
    reset_peak_memory()
    for _ in range(warmup):  # compiles, and XLA's autotuning
        model.train_on_batch(x, y)
    t0 = time.perf_counter()
    for _ in range(steps):
        loss = model.train_on_batch(x, y)  # returns a host float: the step has finished
    dt = (time.perf_counter() - t0) / steps
    return {"s_per_step": dt, "loss": float(np.asarray(loss).ravel()[0]), "peak_mb": peak_memory_mb()}


def time_pipeline(cfg: dict, mixed: bool, xla: bool, steps: int, warmup: int) -> dict:
    import keras

    from segstudio.ml.data import training_dataset
    from segstudio.ml.sampling import CropSampler

    images, labels = synthetic(64, max(256, cfg["crop"]), seed=1)
    counts = np.stack([np.bincount(lab.ravel(), minlength=NUM_CLASSES) for lab in labels])
    sampler = CropSampler(counts, 0.5, 0.3, 0.5)
    ds = training_dataset(lambda i: (images[i, ..., 0], labels[i]), sampler, crop=cfg["crop"],
                          batch=cfg["batch"], channels=1, num_classes=NUM_CLASSES, ignore_index=255)
    model = build(cfg, mixed, xla)
    stamps: list[float] = []

    class Stamp(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            stamps.append(time.perf_counter())

    reset_peak_memory()
    model.fit(ds, epochs=1, steps_per_epoch=warmup + steps + 1, callbacks=[Stamp()], verbose=0, shuffle=False)
    dt = (stamps[-1] - stamps[warmup]) / (len(stamps) - 1 - warmup)
    return {"s_per_step": dt, "peak_mb": peak_memory_mb()}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--crop", type=int, default=128, help="crop side; the rest follows the plan's GPU rules")
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--smoke", action="store_true", help="tiny model and batch, a few steps: runs on a CPU")
    ap.add_argument("--json", default=None, metavar="FILE", help="also write the results here")
    args = ap.parse_args(argv)
    cfg = plan_model(args.crop)
    if args.smoke:
        cfg = {**cfg, "filters": 4, "depth": 2, "batch": 4, "crop": 32}
        args.steps, args.warmup = 3, 1
    kind = device_kind()
    print(f"backend {BACKEND}, device {kind}; model: filters {cfg['filters']}, depth {cfg['depth']}, "
          f"batch {cfg['batch']} x {cfg['crop']}^2, {NUM_CLASSES} classes, loss {cfg['loss']}")
    if kind != "gpu" and not args.smoke:
        print("no GPU: these are CPU numbers (use --smoke to only check that it runs)")
    if BACKEND != "tensorflow":
        print("pipeline feed skipped: segstudio's input pipeline is tf.data (TensorFlow); "
              "only the in-memory feed runs on this backend")
    rows = []
    print(f"{'feed':<9} {'precision':<14} {'XLA':<4} {'steps/s':>8} {'images/s':>9} {'peak MB':>8}")
    for mixed in (False, True):
        for xla in (False, True):
            feeds = [("memory", time_memory)] + ([("pipeline", time_pipeline)] if BACKEND == "tensorflow" else [])
            for feed, fn in feeds:
                try:
                    r = fn(cfg, mixed, xla, args.steps, args.warmup)
                except Exception as e:  # one variant failing (e.g. XLA unsupported) must not hide the rest
                    print(f"{feed:<9} {'mixed_float16' if mixed else 'float32':<14} {'on' if xla else 'off':<4} "
                          f"failed: {type(e).__name__}: {str(e).splitlines()[0][:120] if str(e) else ''}")
                    continue
                row = {"feed": feed, "mixed_precision": mixed, "xla": xla, **r,
                       "steps_per_s": 1 / r["s_per_step"], "images_per_s": cfg["batch"] / r["s_per_step"]}
                rows.append(row)
                mem = "-" if r["peak_mb"] is None else f"{r['peak_mb']:.0f}"
                print(f"{feed:<9} {'mixed_float16' if mixed else 'float32':<14} {'on' if xla else 'off':<4} "
                      f"{row['steps_per_s']:8.2f} {row['images_per_s']:9.1f} {mem:>8}")
    if args.json:
        Path(args.json).write_text(json.dumps({"backend": BACKEND, "device": kind, "model": cfg, "rows": rows},
                                              indent=1))
    return 0 if rows else 1


if __name__ == "__main__":
    sys.exit(main())
