"""bench_quality --quick: every recipe trains for its budget and is scored on held-out images."""

import importlib.util
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
        assert r["bg_iou"] <= r["bg_iou_edge_tolerant"] <= 1  # forgiving outline errors never lowers it
    assert results["nnunet"][0]["info"]["loss"] == "ce+dice" and results["plan"][0]["info"]["loss"]
    table = run.stdout.split("data set")[-1]
    assert all(f"demo        {name}" in table for name in ("seed", "nnunet", "plan"))
    md = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_quality.py"), "--markdown", str(out)],
                        capture_output=True, text=True, check=True).stdout
    assert md.startswith("| data set | recipe |") and "| demo | plan | 1 | " in md


def test_the_table_bolds_each_columns_best_mean_not_the_plans_row():
    spec = importlib.util.spec_from_file_location("bench_quality", ROOT / "benchmarks" / "bench_quality.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)

    def run(fg, bg):
        return {"fg_miou": fg, "rare_miou": fg / 2, "bg_iou": bg, "pixel_accuracy": 0.9}

    md = bench.markdown_table({"em": {"nnunet": [run(0.56, 0.86), run(0.54, 0.86)],
                                      "plan": [run(0.55, 0.85), run(0.53, 0.87)]}})
    nnunet, plan = (line for line in md.splitlines() if line.startswith("| em |"))
    assert nnunet == "| em | nnunet | 2 | **0.550 ± 0.014** | **0.275 ± 0.007** | **0.860 ± 0.000** | **0.900 ± 0.000** |"
    assert plan == "| em | plan | 2 | 0.540 ± 0.014 | 0.270 ± 0.007 | **0.860 ± 0.014** | **0.900 ± 0.000** |"


def test_a_seed_range_that_runs_nothing_is_an_error_not_an_empty_table(tmp_path):
    # --seeds is one past the last seed: "--first-seed 1 --seeds 1" once ran nothing and printed an empty table
    run = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_quality.py"), "--sets", "demo", "--first-seed", "1",
         "--seeds", "1", "--out", str(tmp_path / "bench")],
        capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert run.returncode == 2
    assert "runs no seed" in run.stderr and "--first-seed 1 --seeds 2" in run.stderr
    assert not (tmp_path / "bench").exists()
