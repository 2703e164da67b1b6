"""Cold vs warm prediction of one demo image, as the window predicts it: a fresh child
process per prediction (services.subprocess_jobs, TF import + model load + trace) against
the kept process of services.warm_predict (model loaded and traced once).

    nice python benchmarks/bench_predict_warm.py                   # 256x256, 3 repeats
    python benchmarks/bench_predict_warm.py --size 512 --filters 16 --depth 4

Setup (not timed): a demo project and a model trained for a couple of steps in a child.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--filters", type=int, default=16)
    ap.add_argument("--depth", type=int, default=4)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)

    from segstudio.services import child_tasks
    from segstudio.services.demo import make_demo
    from segstudio.services.warm_predict import WarmPredictor

    tmp = tempfile.TemporaryDirectory(prefix="segstudio-bench-warm-")
    root = Path(tmp.name) / "demo"
    project, _ = make_demo(root, n=4, size=args.size, seed=1)
    ids = [r.id for r in project.images()]
    project.close()
    gen = child_tasks.train(root, dict(filters=args.filters, depth=args.depth, crop=min(128, args.size),
                                       batch=2, steps_per_epoch=2, epochs=1))
    while True:
        try:
            next(gen)
        except StopIteration as stop:
            result = stop.value
            break
    model_path, run_id = result["model_path"], result["run_id"]

    def run(gen) -> float:
        t0 = time.perf_counter()
        for _ in gen:
            pass
        return time.perf_counter() - t0

    cold = [run(child_tasks.predict(root, [ids[0]], model_path, run_id)) for _ in range(args.repeats)]
    warm_proc = WarmPredictor(root, model_path, run_id)
    warm_proc.start()
    t0 = time.perf_counter()
    run(warm_proc.predict([ids[1]]))  # waits for the warm-up (what the window does in the background)
    warm_up = time.perf_counter() - t0
    warm = [run(warm_proc.predict([ids[0]])) for _ in range(args.repeats)]
    assert warm_proc.starts == 1, "the warm process restarted"
    warm_proc.stop()

    c, w = statistics.median(cold), statistics.median(warm)
    print(f"one {args.size}x{args.size} demo image, U-Net filters {args.filters} depth {args.depth}, "
          f"median of {args.repeats}")
    print(f"  cold (fresh process): {c:7.2f} s   ({', '.join(f'{x:.2f}' for x in cold)})")
    print(f"  warm (kept process) : {w:7.2f} s   ({', '.join(f'{x:.2f}' for x in warm)}; "
          f"its start-up, in the background: {warm_up:.1f} s)")
    print(f"  cold / warm: {c / w:.0f}x")
    tmp.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
