"""bench_quality --quick: every recipe trains for its budget and is scored on held-out images."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_quick_benchmark_runs_every_recipe_and_prints_the_table(tmp_path):
    out = tmp_path / "q.json"
    run = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_quality.py"), "--quick", "--sets", "demo",
         "--out", str(tmp_path / "bench"), "--json", str(out)],
        capture_output=True, text=True, timeout=900, cwd=tmp_path)
    assert run.returncode == 0, run.stderr[-3000:]
    results = json.loads(out.read_text())["results"]["demo"]
    assert set(results) == {"seed", "nnunet", "plan"}
    for runs in results.values():
        (r,) = runs
        assert 0 <= r["fg_miou"] <= 1 and 0 <= r["bg_iou"] <= 1 and len(r["per_class_iou"]) == 32
    assert results["nnunet"][0]["info"]["loss"] == "ce+dice" and results["plan"][0]["info"]["loss"]
    table = run.stdout.split("data set")[-1]
    assert all(f"demo        {name}" in table for name in ("seed", "nnunet", "plan"))
    md = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_quality.py"), "--markdown", str(out)],
                        capture_output=True, text=True, check=True).stdout
    assert md.startswith("| data set | recipe |") and "| demo | plan | 1 | **" in md
