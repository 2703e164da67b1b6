"""The training plan of a project: its fingerprint, this machine and a time budget -> core.plan.

No TensorFlow here: the GPU is found with ``nvidia-smi`` (what the CLI's ``plan`` and the
window's training panel need before any model exists).
"""

from __future__ import annotations

import os
import shutil
import subprocess

from segstudio.core.plan import Device, Plan, make_plan
from segstudio.store.project import Project

#: the run-config keys a plan chooses (every one can be overridden)
PLAN_KEYS = ("crop", "depth", "filters", "batch", "loss", "weights", "clip", "weight_strength",
             "rare_fraction", "lr", "minutes", "steps_per_epoch")


def detect_device() -> Device:
    """The first NVIDIA GPU (and its memory) when ``nvidia-smi`` lists one, else the CPU cores."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    smi = shutil.which("nvidia-smi")
    if smi and os.environ.get("CUDA_VISIBLE_DEVICES", None) not in ("", "-1"):
        try:
            out = subprocess.run([smi, "--query-gpu=memory.total", "--format=csv,noheader,nounits"],
                                 capture_output=True, text=True, timeout=10, check=True).stdout.split()
            if out:
                return Device("gpu", cores, float(out[0]) / 1024)
        except (OSError, subprocess.SubprocessError, ValueError):
            pass
    return Device("cpu", cores)


def validation_pixels(project: Project) -> int:
    return sum(r.width * r.height for r in project.images("val", labelled_only=True))


def plan_for_project(project: Project, minutes: float | None = None, overrides: dict | None = None,
                     device: Device | None = None) -> Plan:
    """The plan for training ``project`` now; ``overrides``: the user's values (None = unset)."""
    user = {k: v for k, v in (overrides or {}).items() if k in PLAN_KEYS and v is not None}
    return make_plan(project.fingerprint("train"), device or detect_device(), minutes, user,
                     validation_pixels(project))
