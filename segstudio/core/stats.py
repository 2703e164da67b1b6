"""Per-class pixel counting for one decoded mask."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class MaskCounts:
    """Pixels per class id (index = id) and pixels marked ignore/void."""

    pixels: np.ndarray  # int64, length num_classes
    ignored: int

    def present(self) -> np.ndarray:
        return np.flatnonzero(self.pixels)


def count_classes(mask: np.ndarray, num_classes: int, ignore_ids: tuple[int, ...] = ()) -> MaskCounts:
    """np.bincount over the mask; ``ignore_ids`` pixels go to ``ignored`` only.

    Values >= num_classes must have been rejected before (the reader checks the class table).
    """
    flat = mask.reshape(-1)
    length = max(num_classes, int(flat.max()) + 1 if flat.size else 0)
    counts = np.bincount(flat, minlength=length).astype(np.int64)
    ignored = 0
    for i in ignore_ids:
        if 0 <= i < counts.size:
            ignored += int(counts[i])
            counts[i] = 0
    return MaskCounts(counts[:num_classes].copy(), ignored)
