"""Write the demo project: generated images, index masks and a class table, then import it."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np

from segstudio.core.atomic import write_text_atomic
from segstudio.core.classes import default_color
from segstudio.core.demo import NUM_CLASSES, demo_class_names, demo_sample
from segstudio.core.errors import ProjectError
from segstudio.io.masks import MaskFormat, write_mask
from segstudio.services.project_import import ImportReport, import_folder
from segstudio.store.project import Project


def write_demo_files(folder: str | Path, n: int = 200, seed: int = 0, size: int = 256,
                     progress: Callable[[int, int], None] | None = None, objects: str = "blobs") -> Path:
    """images/, masks/ and classes.json under ``folder``; returns the classes file."""
    from PIL import Image

    root = Path(folder)
    (root / "images").mkdir(parents=True, exist_ok=True)
    (root / "masks").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for i in range(n):
        image, mask = demo_sample(rng, size, objects)
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


#: Project setting marking a demo project (its generation parameters).
DEMO_KEY = "demo"
_DEMO_FILE = re.compile(r"demo_\d{4}\.png")


def _only_demo_files(root: Path) -> bool:
    """images/ and masks/ hold demo files only (a demo from before the mark, or one whose
    generation was stopped before its database was written)."""
    return all((root / d).is_dir() and all(_DEMO_FILE.fullmatch(p.name) for p in (root / d).iterdir())
               for d in ("images", "masks"))


def _is_earlier_demo(root: Path) -> bool:
    if not Project.exists(root):
        return {p.name for p in root.iterdir()} <= {"images", "masks", "classes.json"} and _only_demo_files(root)
    with Project.open(root) as project:  # a newer-schema project is refused here, untouched
        if project.get_setting(DEMO_KEY) is not None:
            return True
    return _only_demo_files(root)


def check_demo_folder(folder: str | Path) -> None:
    """Refuse a folder holding anything but an earlier demo: the demo overwrites its files."""
    root = Path(folder)
    if not root.exists() or (root.is_dir() and not any(root.iterdir())):
        return
    if not root.is_dir():
        raise ProjectError(f"{root}: exists and is not a folder")
    if not _is_earlier_demo(root):
        raise ProjectError(f"{root}: not empty and not an earlier demo project; "
                           "the demo would overwrite its files -- choose a new or empty folder")


def make_demo(folder: str | Path, n: int = 200, seed: int = 0, size: int = 256,
              progress: Callable[[int, int], None] | None = None,
              objects: str = "blobs") -> tuple[Project, ImportReport]:
    """Generate the demo data set in ``folder`` and make ``folder`` a project over it.

    Raises ProjectError, before writing anything, for a folder that holds other files."""
    root = Path(folder)
    check_demo_folder(root)
    classes_file = write_demo_files(root, n=n, seed=seed, size=size, progress=progress, objects=objects)
    project, report = import_folder(root, root / "images", root / "masks", classes_file)
    project.set_setting(DEMO_KEY, {"n": n, "seed": seed, "size": size, "objects": objects})
    return project, report
