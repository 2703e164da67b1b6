"""Train/validation split stratified by class presence, stable across machines. stdlib + numpy.

A plain hash split of a long-tailed data set leaves rare classes out of validation
(or puts all of their images there): their IoU curve then jumps 0 -> 0.8 -> 0 or does
not exist. Here images are ordered by a CRC of their relative path (the same order on
every machine), then, rarest class first, enough images of each class go to validation
for it to hold about ``percent`` % of that class's images -- at least one, and never
its last training image -- and the rest of the quota is filled in hash order.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Sequence

import numpy as np

VAL_PERCENT = 15
MAX_COVERAGE_PERCENT = 25  # validation may grow to this to hold every class


def path_hash(key: str) -> int:
    return zlib.crc32(key.encode())


def stratified_split(keys: Sequence[str], presence: np.ndarray, percent: int = VAL_PERCENT,
                     exclude: Sequence[int] = (0,)) -> np.ndarray:
    """Boolean "goes to validation" per image.

    Args:
        keys: a stable name per image (its path relative to the project).
        presence: (n_images, C) bool, class c present in image i (unlabelled rows all False).
        percent: the validation share of images (at least one once there are two images).
        exclude: classes that do not drive the stratification (background, ignore classes).
    """
    n = len(keys)
    val = np.zeros(n, dtype=bool)
    if n < 2 or percent <= 0:
        return val
    presence = np.asarray(presence, dtype=bool).reshape(n, -1)
    order = sorted(range(n), key=lambda i: (path_hash(keys[i]), keys[i]))
    quota = max(1, round(n * percent / 100))
    cap = max(quota, round(n * MAX_COVERAGE_PERCENT / 100))  # room to cover every class
    classes = [c for c in range(presence.shape[1]) if c not in set(exclude) and presence[:, c].any()]
    rarest_first = sorted(classes, key=lambda c: (presence[:, c].sum(), c))

    def can_take(i: int) -> bool:  # never the last training image of a class
        return not val[i] and all((presence[:, k] & ~val).sum() > 1
                                  for k in np.flatnonzero(presence[i]) if k in classes)

    # pass 1: one validation image for every class with two or more (up to ``cap`` images);
    # pass 2: each class toward ``percent`` % of its images, within the quota; then fill up
    for limit, share in ((cap, None), (quota, percent)):
        for c in rarest_first:
            holders = [i for i in order if presence[i, c]]
            if len(holders) < 2:
                continue
            want = 1 if share is None else min(max(1, math.floor(len(holders) * share / 100 + 0.5)),
                                                 len(holders) - 1)
            have = int(val[holders].sum())
            for i in holders:
                if have >= want or val.sum() >= limit:
                    break
                if can_take(i):
                    val[i] = True
                    have += 1
    for i in order:
        if val.sum() >= quota:
            break
        if can_take(i):
            val[i] = True
    if not val.any():
        val[order[0]] = True
    return val
