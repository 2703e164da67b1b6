"""Keep TensorFlow quiet and on the CPU-friendly path for the tiny ML tests."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")
os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "2")

import json

import numpy as np
import pytest


def synthetic_pair(rng: np.random.Generator, size: int = 64):
    """A gray image with bright squares of classes 1 and 2 and a strip of void (255)."""
    image = rng.normal(60, 4, (size, size))
    labels = np.zeros((size, size), np.uint8)
    for c, level in ((1, 140), (2, 220)):
        if rng.random() < 0.8:
            y, x = rng.integers(6, size - 6, 2)
            labels[y - 4 : y + 4, x - 4 : x + 4] = c
            image[y - 4 : y + 4, x - 4 : x + 4] = level
    labels[:, :2] = 255  # void pixels: ignored everywhere
    return np.clip(image, 0, 255).astype(np.uint8), labels


def make_tiny_project(tmp_path):
    """A real on-disk project: 10 PNG images + index masks, classes 0-2 and void 255."""
    from PIL import Image

    from segstudio.services.project_import import import_folder

    src = tmp_path / "data"
    (src / "images").mkdir(parents=True)
    (src / "masks").mkdir()
    rng = np.random.default_rng(0)
    for i in range(10):
        image, labels = synthetic_pair(rng)
        Image.fromarray(image).save(src / "images" / f"im{i:02d}.png")
        Image.fromarray(labels).save(src / "masks" / f"im{i:02d}.png")
    classes = [
        {"id": 0, "name": "background", "color": "#000000"},
        {"id": 1, "name": "grey", "color": "#ff0000"},
        {"id": 2, "name": "white", "color": "#00ff00"},
        {"id": 255, "name": "void", "color": "#e0e0c0", "ignore": True},
    ]
    (src / "classes.json").write_text(json.dumps({"classes": classes}))
    project, report = import_folder(tmp_path / "proj", src / "images", src / "masks", src / "classes.json")
    assert report.labelled == 10, report
    return project, src


@pytest.fixture
def tiny_project(tmp_path):
    return make_tiny_project(tmp_path)
