"""Regions picked from the image rather than the mask: the magic wand.

:func:`wand_region` floods from a pixel over the connected pixels whose *intensity* is within
a tolerance of it (ilastik/GIMP "fuzzy select"); the flood fill of
:meth:`~segstudio.core.editing.MaskModel.flood_fill` follows equal mask labels instead.
scipy.ndimage (a dependency, C code) labels the components, so a 1024x1024 image takes a few
milliseconds; it is imported on first use so ``segstudio.core`` stays light to import.

Example:
    >>> import numpy as np
    >>> img = np.array([[10, 12, 50], [11, 90, 52], [13, 14, 51]], np.uint8)
    >>> wand_region(img, 0, 0, tolerance=5).astype(int)
    array([[1, 1, 0],
           [1, 0, 0],
           [1, 1, 0]])
"""

from __future__ import annotations

import numpy as np


def intensity_distance(image: np.ndarray, row: int, col: int) -> np.ndarray:
    """(H, W) distance of every pixel's intensity to pixel (row, col)'s: the absolute
    difference for gray images, the largest channel difference for RGB(A) (alpha ignored)."""
    img = np.asarray(image)
    if img.ndim == 3:
        img = img[..., :3]
    seed = img[row, col].astype(np.float64)
    diff = np.abs(img.astype(np.float32) - seed.astype(np.float32))
    return diff.max(axis=2) if diff.ndim == 3 else diff


def wand_region(image: np.ndarray, row: int, col: int, tolerance: float, connectivity: int = 4) -> np.ndarray:
    """Boolean (H, W) map of the pixels connected to (row, col) whose intensity is within
    ``tolerance`` of its own (inclusive); ``connectivity`` 4 or 8."""
    from scipy import ndimage

    if connectivity not in (4, 8):
        raise ValueError("connectivity must be 4 or 8")
    h, w = np.shape(image)[:2]
    if not (0 <= row < h and 0 <= col < w):
        return np.zeros((h, w), bool)
    close = intensity_distance(image, row, col) <= float(tolerance)
    structure = ndimage.generate_binary_structure(2, 1 if connectivity == 4 else 2)
    components, _ = ndimage.label(close, structure=structure)
    return components == components[row, col]
