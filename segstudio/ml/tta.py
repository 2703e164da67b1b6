"""Test-time augmentation views: numpy only, so the command line can list them without Keras.

Each view is (quarter turns, mirrored); predictions of the views are undone and averaged.
Training augments with every flip and rotation, so all eight are views the model knows.
"""

from __future__ import annotations

import numpy as np

TTA_VIEWS: dict[int, tuple[tuple[int, bool], ...]] = {
    1: ((0, False),),
    4: ((0, False), (0, True), (2, False), (2, True)),  # identity, both mirrors, half turn
    8: tuple((k, m) for k in range(4) for m in (False, True)),
}
#: how each choice is named on screen (the prediction panel)
TTA_LABELS = {1: "Off", 4: "4 views (mirrors, half turn)", 8: "8 views (mirrors and turns)"}


def view(a: np.ndarray, turns: int, mirror: bool) -> np.ndarray:
    if mirror:
        a = a[:, ::-1]
    return np.ascontiguousarray(np.rot90(a, turns, axes=(0, 1)))


def unview(a: np.ndarray, turns: int, mirror: bool) -> np.ndarray:
    a = np.rot90(a, -turns, axes=(0, 1))
    return a[:, ::-1] if mirror else a
