"""Training step time: segstudio's tf.data pipeline vs in-memory tensors vs the seed's generator.

Same U-Net, same batch of whole 256x256 demo images:
  memory     one fixed batch held in memory (the floor: no input pipeline at all)
  segstudio  tf.data from disk through the io readers, uint8 sparse labels, flips/rot90,
             rare-class crop sampling, segstudio's default loss
  seed       Python generator yielding one-hot float32 masks reshaped to (65536, 32),
             categorical cross-entropy on a reshaped softmax (the seed project's recipe)
Prints median seconds per step, the ratios, and label bytes per batch.
With ``--plan`` the crop, batch, depth and filters are the demo project's training plan
(many small crops per step: the case where a per-sample Python pipeline costs most).

    nice python benchmarks/bench_train_step.py            # ~8 min on 2 CPU cores (3 interleaved rounds)
    nice python benchmarks/bench_train_step.py --plan     # the plan's crops
    nice python benchmarks/bench_train_step.py --plan --project em-project   # another project's plan
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


class StepTimer:
    def __init__(self):
        import keras

        class CB(keras.callbacks.Callback):
            def __init__(cb):
                super().__init__()
                cb.times = []
                cb.t = None

            def on_train_batch_begin(cb, batch, logs=None):
                cb.t = time.perf_counter()

            def on_train_batch_end(cb, batch, logs=None):
                cb.times.append(time.perf_counter() - cb.t)

        self.cb = CB()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--project", default="bench_out/step/demo",
                    help="a project (a demo one is created where none is)")
    ap.add_argument("--n", type=int, default=60)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--steps", type=int, default=15)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=3, help="rounds of every variant, interleaved")
    ap.add_argument("--filters", type=int, default=16)
    ap.add_argument("--depth", type=int, default=4)
    ap.add_argument("--plan", action="store_true", help="crop, batch, depth, filters from the training plan")
    args = ap.parse_args(argv)

    import keras
    import tensorflow as tf

    from segstudio.ml import losses
    from segstudio.ml.data import training_dataset
    from segstudio.ml.sampling import CropSampler
    from segstudio.ml.unet import build_unet
    from segstudio.services.demo import make_demo
    from segstudio.services.training import CachedLoader, label_lut
    from segstudio.store.project import Project

    root = Path(args.project)
    # any existing project (the EM slices, say); a demo one is made where there is none
    project = Project.open(root) if Project.exists(root) else make_demo(root, n=args.n, seed=0)[0]
    table = project.class_table()
    C = 32
    size = 256
    if args.plan:
        from segstudio.services.planning import plan_for_project

        plan = plan_for_project(project)
        size, args.batch = plan.get("crop"), plan.get("batch")
        args.depth, args.filters = plan.get("depth"), plan.get("filters")
    lut, ignore = label_lut(table, C)
    recs = project.images("train", labelled_only=True)
    _, counts = project.counts_matrix("train", num_classes=C)
    load = CachedLoader(recs, table, lut)
    B, steps = args.batch, args.steps + args.warmup
    weights = list(np.ones(C))

    def model():
        keras.utils.set_random_seed(0)
        return build_unet(C, 1, args.depth, args.filters, True, 0.0, [70.0], [400.0])

    # in memory: one batch of tensors, no pipeline
    xs = np.stack([load(i % len(recs))[0][:size, :size, None].astype(np.float32) for i in range(B)])
    ys = np.stack([load(i % len(recs))[1][:size, :size] for i in range(B)])
    memory_model = model()
    memory_model.compile(keras.optimizers.Adam(1e-3), losses.get("wce+dice", weights, ignore))

    # segstudio pipeline, from disk (decoded arrays cached after first read, as in training)
    pipeline_model = model()
    pipeline_model.compile(keras.optimizers.Adam(1e-3), losses.get("wce+dice", weights, ignore))
    ds = training_dataset(load, CropSampler(counts, rare_fraction=0.5), crop=size, batch=B, channels=1, num_classes=C,
                          seed=0, ignore_index=ignore)
    label_bytes = next(iter(ds.take(1)))[1].numpy().nbytes

    # seed: python generator, one-hot float masks reshaped to (H*W, C)
    base = model()
    seed_model = keras.Model(base.inputs, keras.layers.Reshape((size * size, C))(base.outputs[0]))
    seed_model.compile(keras.optimizers.Adam(1e-3), keras.losses.CategoricalCrossentropy())
    rng = np.random.default_rng(0)
    eye = np.eye(C, dtype=np.float32)

    def gen():
        while True:
            idx = rng.integers(0, len(recs), B)
            x = np.stack([load(i)[0][:size, :size, None].astype(np.float32) for i in idx])
            y = np.stack([eye[load(i)[1][:size, :size].clip(0, C - 1)].reshape(size * size, C) for i in idx])
            yield x, y

    y_bytes = next(gen())[1].nbytes
    variants = {
        "memory": (memory_model, lambda: tf.data.Dataset.from_tensors((xs, ys)).repeat(), ys.nbytes),
        "segstudio": (pipeline_model, lambda: ds, label_bytes),
        "seed": (seed_model, gen, y_bytes),
    }
    # rounds of (memory, segstudio, seed): load that comes and goes on a shared machine
    # hits every variant alike; each fit() starts a fresh iterator, so no batch is prefetched
    # while another variant runs
    times: dict[str, list[float]] = {k: [] for k in variants}
    for _ in range(args.rounds):
        for name, (m, data, _) in variants.items():
            t = StepTimer()
            m.fit(data(), steps_per_epoch=steps, epochs=1, verbose=0, callbacks=[t.cb], shuffle=False)
            times[name] += t.cb.times[args.warmup:]
    results = {k: (float(np.median(times[k])), variants[k][2]) for k in variants}

    print(f"U-Net {args.filters} filters depth {args.depth}, batch {B} x {size}x{size}, "
          f"median of {args.rounds} rounds x {args.steps} steps, each after {args.warmup} warm-up")
    for k, (s, nbytes) in results.items():
        print(f"{k:>10}: {s * 1000:8.1f} ms/step   labels {nbytes / 2**20:8.2f} MiB/batch")
    mem = results["memory"][0]
    print(f"segstudio pipeline overhead vs in-memory: {results['segstudio'][0] / mem - 1:+.1%}")
    print(f"seed pipeline vs segstudio: {results['seed'][0] / results['segstudio'][0]:.2f}x step time, "
          f"{results['seed'][1] / results['segstudio'][1]:.0f}x label bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
