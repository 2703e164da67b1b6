"""Shared fixtures: tiny projects written as real files into tmp_path.

Every fixture writes plain files (PNG images, index masks, a class table) so tests
exercise the same readers users hit. Keep them small (32x32) so the suite stays fast.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

TINY = 32  # width = height of the tiny images


@dataclass
class TinyDataset:
    """A folder pair written by :func:`tiny_dataset`.

    ``masks`` maps the file stem to the exact label array written for it; the stems in
    ``unlabelled`` have an image but no mask.
    """

    root: Path
    images_dir: Path
    masks_dir: Path
    classes_file: Path
    class_names: list[str]
    masks: dict[str, np.ndarray] = field(default_factory=dict)
    unlabelled: list[str] = field(default_factory=list)

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def counts(self) -> np.ndarray:
        """np.bincount over all masks written (length num_classes)."""
        total = np.zeros(self.num_classes, dtype=np.int64)
        for m in self.masks.values():
            total += np.bincount(m.reshape(-1), minlength=self.num_classes)
        return total

    def images_per_class(self) -> np.ndarray:
        has = np.zeros(self.num_classes, dtype=np.int64)
        for m in self.masks.values():
            has += np.bincount(m.reshape(-1), minlength=self.num_classes) > 0
        return has


TINY_COLORS = ["#000000", "#ff0000", "#00ff00", "#0000ff"]
TINY_NAMES = ["background", "red", "green", "blue"]


def tiny_mask(seed: int, size: int = TINY, num_classes: int = 4) -> np.ndarray:
    """A mostly-background uint8 mask with a rectangle of each of a few classes."""
    rng = np.random.default_rng(seed)
    m = np.zeros((size, size), dtype=np.uint8)
    for c in range(1, num_classes):
        if rng.random() < 0.7 or c == 1 + seed % (num_classes - 1):
            y, x = rng.integers(0, size - 6, 2)
            h, w = rng.integers(2, 6, 2)
            m[y : y + h, x : x + w] = c
    return m


def tiny_image(seed: int, size: int = TINY) -> np.ndarray:
    rng = np.random.default_rng(1000 + seed)
    return rng.integers(0, 256, (size, size), dtype=np.uint8)


def write_tiny_dataset(root: Path, n: int = 4, n_unlabelled: int = 1) -> TinyDataset:
    images = root / "images"
    masks = root / "masks"
    images.mkdir(parents=True, exist_ok=True)
    masks.mkdir(parents=True, exist_ok=True)
    classes_file = root / "classes.json"
    classes_file.write_text(
        json.dumps(
            {"classes": [{"id": i, "name": n_, "color": c}
                         for i, (n_, c) in enumerate(zip(TINY_NAMES, TINY_COLORS, strict=True))]}
        )
    )
    ds = TinyDataset(root, images, masks, classes_file, list(TINY_NAMES))
    for i in range(n):
        stem = f"img{i:02d}"
        Image.fromarray(tiny_image(i)).save(images / f"{stem}.png")
        m = tiny_mask(i)
        Image.fromarray(m).save(masks / f"{stem}.png")
        ds.masks[stem] = m
    for j in range(n_unlabelled):
        stem = f"unlab{j:02d}"
        Image.fromarray(tiny_image(100 + j)).save(images / f"{stem}.png")
        ds.unlabelled.append(stem)
    return ds


@pytest.fixture
def tiny_dataset(tmp_path) -> TinyDataset:
    """4 labelled 32x32 gray PNGs + index8 PNG masks (classes 0..3), 1 unlabelled image,
    and ``classes.json``, under ``tmp_path / "data"``."""
    return write_tiny_dataset(tmp_path / "data")


@pytest.fixture
def tiny_project(tiny_dataset, tmp_path):
    """The tiny dataset imported (with its class table) into ``tmp_path / "proj"``."""
    from segstudio.services.project_import import import_folder

    project, report = import_folder(
        tmp_path / "proj", tiny_dataset.images_dir, tiny_dataset.masks_dir,
        tiny_dataset.classes_file,
    )
    assert not report.skipped, report.lines()
    yield project
    project.close()


@pytest.fixture
def empty_project(tmp_path):
    """A freshly created, empty project at ``tmp_path / "empty"``."""
    from segstudio.store.project import Project

    project = Project.create(tmp_path / "empty")
    yield project
    project.close()


class TinyFactory:
    """Helpers for tests that build their own variants of the tiny dataset."""

    SIZE = TINY
    NAMES = TINY_NAMES
    COLORS = TINY_COLORS

    @staticmethod
    def dataset(root: Path, n: int = 4, n_unlabelled: int = 1) -> TinyDataset:
        return write_tiny_dataset(root, n=n, n_unlabelled=n_unlabelled)

    mask = staticmethod(tiny_mask)
    image = staticmethod(tiny_image)


@pytest.fixture
def tiny() -> type[TinyFactory]:
    """``tiny.dataset(root, n, n_unlabelled)``, ``tiny.mask(seed)``, ``tiny.image(seed)``, ``tiny.SIZE``."""
    return TinyFactory
