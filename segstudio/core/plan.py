"""The training plan: every recipe choice derived from the data set's fingerprint, the device
and a time budget by fixed rules, each with a one-line reason (nnU-Net's idea, for 2-D,
extreme imbalance and a desktop budget). numpy + stdlib only.

The rules were chosen with benchmarks/bench_quality.py on four data sets (the demo set,
demo variants with large and with thin objects, and a real EM set), at the same
wall-clock budget and over three seeds; docs/ml.md has the table. A value the user sets
overrides the rule and is marked as theirs.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from segstudio.core.fingerprint import Fingerprint
from segstudio.core.text import counted

MIN_CROP = 32
MAX_CROP = {"cpu": 64, "gpu": 512}
#: why the cap, where it was measured (docs/ml.md: demo-large, demo-thin, EM, 3 seeds each)
CAP_REASON = {"cpu": "where more, smaller crops at the same pixels a step scored higher"}
CONTEXT = 2.0  # crop side / 95th-percentile object extent: the object plus as much around it
BOTTLENECK = 4  # smallest side at the bottom of the U (px)
MAX_DEPTH = 5
FILTERS = {"cpu": 16, "gpu": 32}
PIXELS_PER_STEP = {"cpu": 1 << 16, "gpu": 1 << 20}  # crop pixels per optimizer step
MIN_BATCH, MAX_BATCH = 2, 64
RARE_SHARE = 0.01  # a foreground class under 1% of the pixels is "rare"
BASE_FRACTION, FULL_FRACTION = 1 / 3, 0.5  # crops centred on a foreground pixel (nnU-Net: 1/3)
CROWDED_BACKGROUND = 0.95  # above a third only where background fills nearly every uniform crop
WEIGHT_CLIP = 10.0  # max/min class weight: with rare-class crops, stronger weights flood
MIN_STRENGTH = 0.25  # the gentlest weighting self-correction brings in (ml.correction)
MAX_STRENGTH = 2.0  # class weights ** strength: at most squared (the panel, the CLI, self-correction)
#: the strength a class-weight scheme gets when the user picks one without a strength (plan and panel)
CHOSEN_SCHEME_STRENGTH = 1.0
VAL_SHARE = 0.15  # validation at most ~15% of the training time
TRAIN_COST = 3.0  # a training pixel costs ~3x an inference pixel (forward + backward)
MIN_STEPS, MAX_STEPS = 20, 1000
DEFAULT_MINUTES = {"cpu": 10.0, "gpu": 30.0}
LR = 3e-3
LOSS = "wce+dice"
WEIGHT_SCHEME = "sqrt"


@dataclass(frozen=True)
class Device:
    kind: str = "cpu"  # "cpu" | "gpu"
    cores: int = 1
    gpu_memory_gb: float | None = None

    def describe(self) -> str:
        if self.kind == "gpu":
            mem = f", {self.gpu_memory_gb:.0f} GB" if self.gpu_memory_gb else ""
            return f"GPU{mem}"
        return f"CPU, {counted(self.cores, 'core')}"


@dataclass
class Choice:
    key: str  # a TrainConfig field or "weights" / "clip"
    value: Any
    reason: str
    source: str = "plan"  # "plan" | "user"


@dataclass
class Plan:
    choices: list[Choice] = field(default_factory=list)

    def config(self) -> dict:
        return {c.key: c.value for c in self.choices}

    def get(self, key: str) -> Any:
        return self.config()[key]

    def to_json(self) -> list[dict]:
        return [asdict(c) for c in self.choices]

    @classmethod
    def from_json(cls, rows: list[dict]) -> Plan:
        return cls([Choice(**r) for r in rows])

    def lines(self) -> list[str]:
        width = max((len(c.key) for c in self.choices), default=0)
        return [f"{c.key:<{width}}  {_fmt(c.value):<10} {c.reason}" for c in self.choices]


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


def _round_up(x: float, grid: int) -> int:
    return int(math.ceil(x / grid) * grid)


def weight_strength(fp: Fingerprint) -> tuple[float, str]:
    """How far to apply the class weights (w ** s; 0: unweighted CE). The plan trains
    unweighted at every imbalance: with soft Dice and the rare-class crops, weights scored
    lower or level at the same budget on the demo set (1 : 4,500), large objects and EM
    (1 : 15); they led only on large objects at a 2-minute budget, not at 10 (docs/ml.md).
    They remain a choice, and what self-correction brings in."""
    bg = fp.background_class
    shares = sorted(c.pixel_share for c in fp.foreground)
    median = shares[len(shares) // 2] if shares else 0.0
    imbalance = ""
    if bg is not None and median > 0:
        imbalance = f"background is {bg.pixel_share / median:,.0f}x the median foreground class; "
    return 0.0, (f"{imbalance}unweighted CE: Dice and the rare-class crops already reach every class, "
                 "and weights scored lower in the benchmark")


def rare_fraction(fp: Fingerprint) -> tuple[float, str]:
    """Share of crops centred on a foreground pixel: nnU-Net's third, growing to a half as the
    share of rare foreground classes grows, where background fills nearly every uniform crop.
    Where the foreground is a larger share of the pixels, uniform crops already show it, and
    more centring only repeats the few rare objects: the common classes pay (docs/ml.md)."""
    bg = fp.background_class
    if bg is not None and bg.pixel_share < CROWDED_BACKGROUND:
        return round(BASE_FRACTION, 3), (f"background is {bg.pixel_share:.0%} of the pixels, under {CROWDED_BACKGROUND:.0%}: "
                                         "uniform crops already show the foreground; nnU-Net's third")
    present = [c for c in fp.foreground if c.pixel_share > 0]
    rare = sorted((c for c in present if c.pixel_share < RARE_SHARE), key=lambda c: c.pixel_share)
    if not rare:
        return round(BASE_FRACTION, 3), f"no class under {RARE_SHARE:.0%} of the pixels: nnU-Net's third"
    fraction = round(BASE_FRACTION + (FULL_FRACTION - BASE_FRACTION) * len(rare) / len(present), 3)
    names = ", ".join(c.name for c in rare[:3]) + (", ..." if len(rare) > 3 else "")
    return fraction, (f"{len(rare)} of {len(present)} foreground classes under {RARE_SHARE:.0%} of the pixels "
                      f"({names}): from a third (none rare) to a half (all rare)")


def make_plan(fp: Fingerprint, device: Device | None = None, minutes: float | None = None,
              overrides: dict | None = None, val_pixels: int | None = None) -> Plan:
    """The plan for training on ``fp`` (the training split) on ``device`` within ``minutes``.

    ``overrides`` (key -> value, None = not set) replace single choices; later rules use
    the overridden values (a user's crop sets the depth and the batch).
    ``val_pixels``: pixels of the validation images, for the validation cadence.
    """
    device = device or Device()
    kind = device.kind if device.kind in MAX_CROP else "cpu"
    user = {k: v for k, v in (overrides or {}).items() if v is not None}
    plan = Plan()

    def choose(key: str, value: Any, reason: str) -> Any:
        if key in user:
            plan.choices.append(Choice(key, user[key], f"set by you (the plan: {_fmt(value)}, {reason})", "user"))
            return user[key]
        plan.choices.append(Choice(key, value, reason))
        return value

    side = max(min(fp.width_min or 0, fp.height_min or 0), BOTTLENECK * 4)
    fg = [c for c in fp.foreground if c.extent_p95]
    # crop: context for the objects of the class with the largest 95th-percentile extent
    widest = max(fg, key=lambda c: c.extent_p95, default=None)
    cap = min(side, MAX_CROP[kind])
    if widest is None:
        raw, why = min(64, cap), "no objects measured yet (run 'segstudio index'): 64 px"
    else:
        raw = min(max(CONTEXT * widest.extent_p95, MIN_CROP), cap)
        why = (f"95% of class {widest.id} ({widest.name})'s objects are <= {widest.extent_p95} px; "
               f"{CONTEXT:g}x that for context")
        if CONTEXT * widest.extent_p95 > cap:
            if cap == side:
                why += ", capped at the smallest image side"
            else:
                why += f", capped at {cap} px on a {kind.upper()}" + (f", {CAP_REASON[kind]}" if kind in CAP_REASON else "")
        elif CONTEXT * widest.extent_p95 < MIN_CROP:
            why += f", at least {MIN_CROP} px"
    user_crop = user.get("crop")
    depth_basis = user_crop or raw
    depth = max(2, min(MAX_DEPTH, int(math.floor(math.log2(max(depth_basis, 16) / BOTTLENECK)))))
    grid = 2 ** depth
    crop = min(_round_up(raw, grid), max(grid, side // grid * grid))
    crop = choose("crop", crop, why + f" (on the {grid}-px pooling grid)")
    depth = choose("depth", depth, f"{crop}-px crops pool down to >= {BOTTLENECK} px")
    if crop % (2 ** depth):
        raise ValueError(f"crop {crop} is not a multiple of 2**depth = {2 ** depth}")
    choose("filters", FILTERS[kind], f"{device.describe()}: {FILTERS[kind]} filters keep steps fast")
    batch = max(MIN_BATCH, min(MAX_BATCH, round(PIXELS_PER_STEP[kind] / crop**2)))
    batch = choose("batch", batch, f"~{PIXELS_PER_STEP[kind] // 1024}k crop pixels per step on a {kind.upper()}")
    choose("loss", LOSS, "CE for every pixel (class-weighted at a strength above 0) + soft Dice, "
                         "which does not depend on pixel counts")
    choose("weights", WEIGHT_SCHEME, "inverse square-root frequency, applied at the strength below: "
                                     "moderate, never 0 for a present class")
    choose("clip", WEIGHT_CLIP, "the rare-class crops already oversample; stronger weights flood the background")
    strength, why = weight_strength(fp)
    if user.get("weights", "none") != "none" and "weight_strength" not in user:
        strength, why = CHOSEN_SCHEME_STRENGTH, f"your '{user['weights']}' weights at full strength (the plan: 0, {why})"
    choose("weight_strength", strength, why)
    fraction, why = rare_fraction(fp)
    choose("rare_fraction", fraction, why)
    choose("lr", LR, "Adam with warm-up and cosine decay over the budget")
    budget = minutes if minutes is not None else user.get("minutes")
    if budget is None:
        budget = DEFAULT_MINUTES[kind]
        why = f"the default budget on a {kind.upper()}; the best validation checkpoint is kept"
    else:
        why = "your budget; the best validation checkpoint is kept"
    user.pop("minutes", None)
    plan.choices.append(Choice("minutes", float(budget), why, "user" if minutes is not None else "plan"))
    step_px = batch * crop * crop
    if val_pixels:
        steps = math.ceil(val_pixels / (VAL_SHARE * TRAIN_COST * step_px))
        steps = max(MIN_STEPS, min(MAX_STEPS, _round_up(steps, 10)))
        why = f"validating {val_pixels / 1e6:.1f} M pixels takes <= ~{VAL_SHARE:.0%} of the time"
    else:
        steps, why = 100, "no validation images: a checkpoint every 100 steps"
    choose("steps_per_epoch", steps, why)
    return plan
