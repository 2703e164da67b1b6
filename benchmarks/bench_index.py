"""Index 2,000 generated 256x256 masks: segstudio's indexer vs the naive loop, in one run.

naive: for each file, PIL open + np.unique(return_counts=True) (what most scripts do).
ours:  segstudio.services.indexing.reindex(force=True): threaded decode + np.bincount,
       validated against the class table and stored in SQLite.
Then an unchanged re-index (stat only). Targets: ratio >= 3x, unchanged < 0.5 s.

    python benchmarks/bench_index.py [--n 2000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from segstudio.services.demo import make_demo
from segstudio.services.indexing import reindex


def naive_index(mask_paths: list[Path]) -> dict[Path, dict[int, int]]:
    out = {}
    for p in mask_paths:
        values, counts = np.unique(np.array(Image.open(p)), return_counts=True)
        out[p] = dict(zip(values.tolist(), counts.tolist(), strict=True))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--keep", help="write the data set here and keep it")
    args = ap.parse_args()
    root = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench_index_"))
    try:
        t0 = time.perf_counter()
        project, _ = make_demo(root, n=args.n, seed=0)
        print(f"generated {args.n} images+masks in {time.perf_counter() - t0:.1f} s")
        masks = sorted((root / "masks").iterdir())

        naive_index(masks[:50])  # warm the page cache for both contenders
        t0 = time.perf_counter()
        naive = naive_index(masks)
        t_naive = time.perf_counter() - t0

        t0 = time.perf_counter()
        rep = reindex(project, force=True)
        t_ours = time.perf_counter() - t0
        assert rep.counted == args.n and not rep.failed

        # same numbers as the naive loop
        ids, mat = project.counts_matrix()
        recs = {r.id: r for r in project.images()}
        for k in (0, args.n // 2, args.n - 1):
            rec = recs[ids[k]]
            want = naive[rec.abs_mask_path]
            got = {c: int(v) for c, v in enumerate(mat[k]) if v}
            assert got == want, (rec.abs_mask_path, got, want)

        t0 = time.perf_counter()
        rep2 = reindex(project)
        t_unchanged = time.perf_counter() - t0
        assert rep2.counted == 0

        print(f"naive loop (PIL + np.unique):  {args.n / t_naive:8.0f} masks/s  ({t_naive:.2f} s)")
        print(f"segstudio reindex (stored):    {args.n / t_ours:8.0f} masks/s  ({t_ours:.2f} s)")
        print(f"ratio ours/naive:              {t_naive / t_ours:8.2f} x   (target >= 3x)")
        print(f"unchanged re-index of {args.n}:   {t_unchanged:8.3f} s    (target < 0.5 s)")
        project.close()
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
