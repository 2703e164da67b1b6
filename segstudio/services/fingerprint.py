"""Measure one image's fingerprint (objects per class, intensity percentiles) while indexing.

Connected components come from scipy.ndimage (C code, 8-connected), each class labelled
inside its own bounding box so a rare class in a large image costs little.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from segstudio.core.fingerprint import (
    EXTENT_EDGES,
    INTENSITY_PERCENTILES,
    ImageFingerprint,
    extent_bin,
)

_EIGHT = np.ones((3, 3), dtype=bool)
_MAX_INTENSITY_SAMPLES = 1 << 16


def measure_objects(labels: np.ndarray, classes, background: int = 0) -> dict[int, tuple[int, list[int]]]:
    """class -> (number of objects, extent histogram) for each class id in ``classes``."""
    out: dict[int, tuple[int, list[int]]] = {}
    for c in classes:
        c = int(c)
        if c == background:
            continue
        where = labels == c
        rows, cols = np.flatnonzero(where.any(axis=1)), np.flatnonzero(where.any(axis=0))
        if rows.size == 0:
            continue
        box = where[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
        lab, n = ndimage.label(box, structure=_EIGHT)
        extents = [max(s[0].stop - s[0].start, s[1].stop - s[1].start) for s in ndimage.find_objects(lab)]
        hist = np.bincount(extent_bin(np.array(extents, dtype=np.int64)), minlength=len(EXTENT_EDGES))
        out[c] = (int(n), hist.astype(int).tolist())
    return out


def intensity_percentiles(image: np.ndarray) -> list[float]:
    """INTENSITY_PERCENTILES of the pixel values (a strided sample of large images)."""
    flat = np.asarray(image).reshape(-1)
    step = max(1, flat.size // _MAX_INTENSITY_SAMPLES)
    return np.percentile(flat[::step].astype(np.float64), INTENSITY_PERCENTILES).tolist()


def measure(image_id: int, image: np.ndarray | None, labels: np.ndarray, classes,
            background: int = 0) -> ImageFingerprint:
    return ImageFingerprint(image_id, measure_objects(labels, classes, background),
                            [] if image is None else intensity_percentiles(image))
