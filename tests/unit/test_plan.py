"""The training plan: each choice from the fingerprint, the device and the budget, with a reason."""

import json
import subprocess
import sys

import pytest

from segstudio.core.fingerprint import ClassFingerprint, Fingerprint
from segstudio.core.plan import MAX_CROP, Device, make_plan


def fingerprint(extent_p95=(24, 16), shares=(0.99, 0.006, 0.004), side=256):
    classes = [ClassFingerprint(0, "background", 990, shares[0], 10, 0, None, None, None)]
    for i, (e, s) in enumerate(zip(extent_p95, shares[1:], strict=True), start=1):
        classes.append(ClassFingerprint(i, f"c{i}", int(1000 * s), s, 5, 10, e // 2, e, 50.0))
    return Fingerprint(10, 1, side, side, side, side, 1000, [0, 60, 200], classes)


def test_crop_gives_the_widest_objects_context_on_the_pooling_grid():
    plan = make_plan(fingerprint((24, 16)), Device("cpu", 2), 5, val_pixels=10 * 256 * 256)
    crop, depth = plan.get("crop"), plan.get("depth")
    assert crop >= 48 and crop % 2**depth == 0 and crop // 2**depth >= 4
    assert "c1" in next(c for c in plan.choices if c.key == "crop").reason
    big = make_plan(fingerprint((190, 16)), Device("cpu", 2), 5)
    assert big.get("crop") == MAX_CROP["cpu"] and big.get("depth") > depth
    assert f"capped at {MAX_CROP['cpu']} px on a CPU, where" in next(c for c in big.choices if c.key == "crop").reason
    # a GPU's cap is higher: the same objects get their context there
    assert make_plan(fingerprint((190, 16)), Device("gpu", 1, 80.0), 5).get("crop") > big.get("crop")
    small_images = make_plan(fingerprint((190, 16), side=96), Device("cpu", 2), 5)
    assert small_images.get("crop") <= 96


def test_batch_keeps_the_pixels_per_step_and_the_rare_crop_share_follows_the_rare_classes():
    small = make_plan(fingerprint((8, 8)), Device("cpu", 2), 5)
    large = make_plan(fingerprint((120, 8)), Device("cpu", 2), 5)
    assert small.get("batch") > large.get("batch") >= 2
    assert small.get("rare_fraction") == 0.5  # every foreground class rare
    common = make_plan(fingerprint((8, 8), shares=(0.6, 0.25, 0.15)), Device("cpu", 2), 5)
    assert common.get("rare_fraction") == pytest.approx(1 / 3, abs=1e-3)
    # nearly all background, but no foreground class under 1%: the third, for that reason
    no_rare = make_plan(fingerprint((8, 8), shares=(0.96, 0.02, 0.02)), Device("cpu", 2), 5)
    assert no_rare.get("rare_fraction") == pytest.approx(1 / 3, abs=1e-3)
    assert "no class under 1%" in next(c for c in no_rare.choices if c.key == "rare_fraction").reason
    # 4 of 6 foreground classes under 1% at 97% background: two thirds of the way to a half
    crowded = make_plan(fingerprint((64,) * 6, shares=(0.97, 0.012, 0.01, 0.002, 0.002, 0.002, 0.002)),
                        Device("cpu", 2), 5)
    assert crowded.get("rare_fraction") == pytest.approx(1 / 3 + (0.5 - 1 / 3) * 4 / 6, abs=1e-3)
    assert "4 of 6" in next(c for c in crowded.choices if c.key == "rare_fraction").reason
    # EM-like, the same 2 rare classes at 65% background: uniform crops show the foreground
    em = make_plan(fingerprint((64,) * 6, shares=(0.65, 0.22, 0.05, 0.03, 0.044, 0.0045, 0.002)),
                   Device("cpu", 2), 5)
    assert em.get("rare_fraction") == pytest.approx(1 / 3, abs=1e-3)
    assert "background is 65%" in next(c for c in em.choices if c.key == "rare_fraction").reason


def test_a_user_value_overrides_one_choice_and_later_rules_follow_it():
    plan = make_plan(fingerprint((24, 16)), Device("cpu", 2), 5, overrides={"crop": 128, "lr": 0.02})
    crop = next(c for c in plan.choices if c.key == "crop")
    assert crop.value == 128 and crop.source == "user" and "the plan:" in crop.reason
    assert plan.get("lr") == 0.02 and plan.get("depth") == 5 and plan.get("batch") == 4


def test_validation_cadence_grows_with_the_validation_set():
    few = make_plan(fingerprint(), Device("cpu", 2), 5, val_pixels=2 * 256 * 256)
    many = make_plan(fingerprint(), Device("cpu", 2), 5, val_pixels=200 * 256 * 256)
    assert few.get("steps_per_epoch") < many.get("steps_per_epoch")


def test_the_budget_defaults_by_device_and_a_gpu_gets_larger_crops_and_batches():
    cpu = make_plan(fingerprint((190, 16), side=1024), Device("cpu", 2))
    gpu = make_plan(fingerprint((190, 16), side=1024), Device("gpu", 8, 80.0))
    assert cpu.get("minutes") == 10 and gpu.get("minutes") > cpu.get("minutes")
    assert gpu.get("crop") > cpu.get("crop") and gpu.get("filters") > cpu.get("filters")


def test_plan_command_prints_each_choice_with_its_reason(tiny_project):
    out = subprocess.run([sys.executable, "-m", "segstudio", "plan", str(tiny_project.root), "--json",
                          "--minutes", "3", "--lr", "0.001"], capture_output=True, text=True, check=True)
    data = json.loads(out.stdout)
    rows = {c["key"]: c for c in data["choices"]}
    assert {"crop", "depth", "batch", "loss", "weights", "clip", "rare_fraction", "lr", "minutes",
            "steps_per_epoch"} <= set(rows)
    assert rows["lr"]["source"] == "user" and rows["lr"]["value"] == 0.001
    assert rows["minutes"]["value"] == 3.0 and all(c["reason"] for c in data["choices"])
    bad = subprocess.run([sys.executable, "-m", "segstudio", "plan", str(tiny_project.root), "--lr", "inf"],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "must be a number > 0" in bad.stderr and "Traceback" not in bad.stderr


def test_plan_command_takes_a_weight_strength(tiny_project, capsys):
    from segstudio.cli import main

    assert main(["plan", str(tiny_project.root), "--json", "--weight-strength", "0.5"]) == 0
    rows = {c["key"]: c for c in json.loads(capsys.readouterr().out)["choices"]}
    assert rows["weight_strength"]["value"] == 0.5 and rows["weight_strength"]["source"] == "user"
    with pytest.raises(SystemExit) as bad:
        main(["plan", str(tiny_project.root), "--weight-strength", "3"])
    assert bad.value.code == 2 and "between 0 and 2" in capsys.readouterr().err


def test_the_plan_trains_unweighted_at_every_imbalance_and_says_how_imbalanced():
    def strength(shares):
        choice = next(c for c in make_plan(fingerprint((8, 8), shares=shares), Device("cpu", 2), 5).choices
                      if c.key == "weight_strength")
        return choice.value, choice.reason

    for shares, ratio in (((0.65, 0.30, 0.05), "2x"), ((0.99, 0.004, 0.006), "165x"), ((0.998, 0.001, 0.001), "998x")):
        value, reason = strength(shares)
        assert value == 0 and f"background is {ratio} the median" in reason and "unweighted" in reason
    fp = fingerprint((8, 8), shares=(0.99, 0.004, 0.006))
    assert make_plan(fp, Device("cpu", 2), 5, {"weight_strength": 0.5}).get("weight_strength") == 0.5
    # a scheme the user picks is meant to weigh: at full strength unless they set one too
    picked = make_plan(fp, Device("cpu", 2), 5, {"weights": "balanced"})
    assert picked.get("weight_strength") == 1.0
    assert "your 'balanced' weights at full strength" in next(c.reason for c in picked.choices
                                                             if c.key == "weight_strength")
    assert make_plan(fp, Device("cpu", 2), 5, {"weights": "none"}).get("weight_strength") == 0
