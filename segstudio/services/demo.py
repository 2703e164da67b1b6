"""Write the demo project: generated images, index masks and a class table, then import it."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np

from segstudio.core.atomic import write_text_atomic
from segstudio.core.classes import default_color
from segstudio.core.demo import NUM_CLASSES, demo_class_names, demo_sample
from segstudio.io.masks import MaskFormat, write_mask
from segstudio.services.project_import import ImportReport, import_folder
from segstudio.store.project import Project


def write_demo_files(folder: str | Path, n: int = 200, seed: int = 0, size: int = 256,
                     progress: Callable[[int, int], None] | None = None) -> Path:
    """images/, masks/ and classes.json under ``folder``; returns the classes file."""
    from PIL import Image

    root = Path(folder)
    (root / "images").mkdir(parents=True, exist_ok=True)
    (root / "masks").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for i in range(n):
        image, mask = demo_sample(rng, size)
        name = f"demo_{i:04d}.png"
        Image.fromarray(image).save(root / "images" / name)
        write_mask(root / "masks" / name, mask, MaskFormat.INDEX8)
        if progress:
            progress(i + 1, n)
    classes = [
        {"id": c, "name": name, "color": "#{:02x}{:02x}{:02x}".format(*default_color(c))}
        for c, name in zip(range(NUM_CLASSES), demo_class_names(), strict=True)
    ]
    classes_file = root / "classes.json"
    write_text_atomic(classes_file, json.dumps({"classes": classes}, indent=1))
    return classes_file


def make_demo(folder: str | Path, n: int = 200, seed: int = 0, size: int = 256,
              progress: Callable[[int, int], None] | None = None) -> tuple[Project, ImportReport]:
    """Generate the demo data set in ``folder`` and make ``folder`` a project over it."""
    root = Path(folder)
    classes_file = write_demo_files(root, n=n, seed=seed, size=size, progress=progress)
    return import_folder(root, root / "images", root / "masks", classes_file)
