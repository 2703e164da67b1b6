"""A data set's fingerprint: what the training plan is derived from. numpy + stdlib only.

Per image, indexing measures (``services.fingerprint``) the number of objects
(connected components) of every class and a histogram of their extents (the longer
side of each object's bounding box, in the bins below), plus the image's intensity
percentiles. ``summarize`` merges those per-image records with the stored class
counts and image sizes into one ``Fingerprint`` (``segstudio stats --json`` prints
it as ``fingerprint``; ``core.plan`` reads it).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

#: upper edges (px) of the object-extent histogram bins; the last bin is open-ended
EXTENT_EDGES: tuple[int, ...] = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256,
                                 384, 512, 768, 1024, 1536, 2048, 4096)
#: intensity percentiles stored per image (of all channels together)
INTENSITY_PERCENTILES: tuple[float, ...] = (0.5, 50.0, 99.5)


def extent_bin(extent: np.ndarray) -> np.ndarray:
    """Bin index of each extent: the first edge >= extent (beyond the last edge: the last bin)."""
    return np.minimum(np.searchsorted(EXTENT_EDGES, np.asarray(extent), side="left"),
                      len(EXTENT_EDGES) - 1)


@dataclass
class ImageFingerprint:
    """What indexing measures on one image and its mask."""

    image_id: int
    objects: dict[int, tuple[int, list[int]]]  # class -> (objects, extent histogram over EXTENT_EDGES)
    intensity: list[float]  # INTENSITY_PERCENTILES of the image's pixel values

    def to_json(self) -> dict:
        return {"objects": {str(c): [n, h] for c, (n, h) in self.objects.items()},
                "intensity": [float(x) for x in self.intensity]}

    @classmethod
    def from_json(cls, image_id: int, data: dict) -> ImageFingerprint:
        objs = {int(c): (int(v[0]), [int(x) for x in v[1]]) for c, v in (data.get("objects") or {}).items()}
        return cls(image_id, objs, [float(x) for x in data.get("intensity") or []])


def histogram_quantile(hist: Sequence[int], q: float) -> int | None:
    """The upper bin edge below which a fraction ``q`` of the objects lie (conservative)."""
    h = np.asarray(hist, dtype=np.int64)
    total = int(h.sum())
    if total == 0:
        return None
    k = int(np.searchsorted(np.cumsum(h), q * total, side="left"))
    return EXTENT_EDGES[min(k, len(EXTENT_EDGES) - 1)]


@dataclass
class ClassFingerprint:
    id: int
    name: str
    pixels: int
    pixel_share: float  # of all counted pixels in the split
    images: int  # images containing the class
    objects: int
    extent_median: int | None  # px, bounding-box longer side
    extent_p95: int | None
    mean_object_pixels: float | None  # pixels / objects: small for thin or tiny objects


@dataclass
class Fingerprint:
    images: int
    channels: int
    width_min: int
    width_median: int
    height_min: int
    height_median: int
    pixels: int  # counted mask pixels
    intensity: list[float]  # median over images of each stored percentile
    classes: list[ClassFingerprint] = field(default_factory=list)
    background: int = 0
    measured_images: int = 0  # images with an object measurement (the rest are not indexed yet)

    @property
    def foreground(self) -> list[ClassFingerprint]:
        return [c for c in self.classes if c.id != self.background and c.pixels > 0]

    @property
    def background_class(self) -> ClassFingerprint | None:
        return next((c for c in self.classes if c.id == self.background), None)

    def to_json(self) -> dict:
        return asdict(self)


def summarize(
    sizes: Iterable[tuple[int, int, int]],
    pixels: np.ndarray,
    images_with: np.ndarray,
    records: Iterable[ImageFingerprint],
    names: dict[int, str],
    trainable: Sequence[int],
    background: int = 0,
) -> Fingerprint:
    """One Fingerprint from (width, height, channels) per image, per-class pixel and image
    counts (index = class id) and the per-image object records."""
    wh = np.array(list(sizes), dtype=np.int64).reshape(-1, 3)
    records = list(records)
    hist: dict[int, np.ndarray] = {}
    objects: dict[int, int] = {}
    for r in records:
        for c, (n, h) in r.objects.items():
            objects[c] = objects.get(c, 0) + n
            hv = np.asarray(h, dtype=np.int64)
            hist[c] = hist.get(c, np.zeros(len(EXTENT_EDGES), np.int64))
            hist[c][: hv.size] += hv[: len(EXTENT_EDGES)]
    intens = [r.intensity for r in records if len(r.intensity) == len(INTENSITY_PERCENTILES)]
    pixels = np.asarray(pixels, dtype=np.int64)
    total = int(sum(int(pixels[c]) for c in trainable if c < pixels.size))
    classes = []
    for c in trainable:
        n_px = int(pixels[c]) if c < pixels.size else 0
        n_obj = objects.get(c, 0)
        h = hist.get(c)
        classes.append(ClassFingerprint(
            id=int(c), name=names.get(c, f"class {c}"), pixels=n_px,
            pixel_share=n_px / total if total else 0.0,
            images=int(images_with[c]) if c < len(images_with) else 0, objects=n_obj,
            extent_median=None if h is None else histogram_quantile(h, 0.5),
            extent_p95=None if h is None else histogram_quantile(h, 0.95),
            mean_object_pixels=(n_px / n_obj) if n_obj else None,
        ))
    return Fingerprint(
        images=int(wh.shape[0]), channels=int(wh[:, 2].max()) if wh.size else 1,
        width_min=int(wh[:, 0].min()) if wh.size else 0, width_median=int(np.median(wh[:, 0])) if wh.size else 0,
        height_min=int(wh[:, 1].min()) if wh.size else 0, height_median=int(np.median(wh[:, 1])) if wh.size else 0,
        pixels=total, intensity=np.median(np.array(intens), axis=0).tolist() if intens else [],
        classes=classes, background=background, measured_images=len(records),
    )
