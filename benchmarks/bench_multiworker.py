"""Step time of one worker vs two workers (MultiWorkerMirroredStrategy over 127.0.0.1).

Same trainer, same tiny synthetic data, same global batch: one process alone, then two
processes with TF_CONFIG on free loopback ports (each takes half the batch; gradients are
all-reduced every step). Prints the median seconds per step after a warm-up. On one machine
two workers only share its cores, so they are expected to be slower: this checks the path
works and what it costs, not a speed-up.

    nice python benchmarks/bench_multiworker.py            # ~2 min on 2 CPU cores
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def worker(args) -> None:
    import numpy as np

    from segstudio.ml.trainer import TrainConfig, TrainData, Trainer
    from tests.ml.conftest import synthetic_pair

    rng = np.random.default_rng(0)
    train = [synthetic_pair(rng, 96) for _ in range(16)]
    counts = np.stack([np.bincount(lab[lab != 255], minlength=3)[:3] for _, lab in train])
    data = TrainData(load_train=train.__getitem__, train_counts=counts, num_classes=3,
                     class_weights=[0.5, 2.0, 2.0], ignore_index=255, mean=[70.0], variance=[1600.0])
    config = TrainConfig(filters=args.filters, depth=args.depth, batch=args.batch, crop=args.crop,
                         steps_per_epoch=args.steps, epochs=1, self_correct=False)
    times: list[float] = []

    class Clock:
        last = None

        def on_batch(self, epoch, step, steps, loss):
            now = time.perf_counter()
            if self.last is not None:
                times.append(now - self.last)
            self.last = now

        def on_epoch(self, report):
            pass

        def on_message(self, text):
            pass

    scratch = Path(args.out).with_suffix(".keras")
    result = Trainer(data, config, model_path=scratch, callbacks=Clock()).run()
    Path(args.out).write_text(json.dumps({"status": result.status, "times": times}))


def free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def run(n_workers: int, args, tmp: Path) -> list[float]:
    ports = free_ports(n_workers)
    procs, outs = [], []
    base = {k: v for k, v in os.environ.items() if k != "TF_CONFIG"}
    base.update(TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=str(ROOT))
    for i in range(n_workers):
        env = dict(base)
        if n_workers > 1:
            env["TF_CONFIG"] = json.dumps({"cluster": {"worker": [f"127.0.0.1:{p}" for p in ports]},
                                           "task": {"type": "worker", "index": i}})
        outs.append(tmp / f"w{n_workers}_{i}.json")
        cmd = [sys.executable, __file__, "--worker", "--out", str(outs[-1])] + [
            f"--{k}={getattr(args, k)}" for k in ("filters", "depth", "batch", "crop", "steps")]
        procs.append(subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    try:
        for p in procs:
            p.wait(timeout=600)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    results = [json.loads(o.read_text()) for o in outs]
    assert all(r["status"] == "finished" for r in results), results
    return results[0]["times"]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--out", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--filters", type=int, default=16)
    ap.add_argument("--depth", type=int, default=3)
    ap.add_argument("--batch", type=int, default=16, help="global batch (each of two workers takes half)")
    ap.add_argument("--crop", type=int, default=64)
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--warmup", type=int, default=5)
    args = ap.parse_args(argv)
    if args.worker:
        worker(args)
        return 0
    import tempfile

    import numpy as np

    print(f"U-Net filters {args.filters} depth {args.depth}, global batch {args.batch} x {args.crop}^2, "
          f"{args.steps} steps, median after {args.warmup}")
    with tempfile.TemporaryDirectory() as tmp:
        for n in (1, 2):
            times = run(n, args, Path(tmp))[args.warmup:]
            print(f"{n} worker{'s' if n > 1 else ' '}: {np.median(times) * 1000:7.1f} ms/step "
                  f"({args.batch / np.median(times):6.1f} crops/s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
