"""Which image, and where in it, each training crop comes from. numpy only.

Two biases toward rare classes, both driven by the per-image class counts the
project database already stores (no offline "balanced" copy of the data):

* Images are drawn with repeat factors (Gupta et al. 2019, LVIS):
  r_c = max(1, sqrt(t / f_c)) with f_c the fraction of images containing class c,
  and an image's factor is the largest r_c of the classes it contains.
* A fraction of crops (default 1/3) is centred on a pixel of a foreground class
  drawn with probability proportional to f_c ** -power (rare classes more often),
  from an image that contains it.

Every sample is a pure function of (seed, sample index): the tf.data pipeline can
run it in parallel and stay deterministic.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from segstudio.ml.augment import intensity, resize_crop, zoom_window
from segstudio.ml.config import DEFAULT_AUGMENT, augment_parts

Loader = Callable[[int], tuple[np.ndarray, np.ndarray]]


def image_fractions(counts: np.ndarray) -> np.ndarray:
    """f_c: fraction of images whose mask contains class c."""
    counts = np.asarray(counts)
    if counts.shape[0] == 0:
        return np.zeros(counts.shape[1])
    return (counts > 0).mean(axis=0)


def repeat_factors(
    counts: np.ndarray, threshold: float = 0.3, exclude: Sequence[int] = ()
) -> np.ndarray:
    """Per-image repeat factor max_c∈image max(1, sqrt(t/f_c)); classes in ``exclude`` don't count."""
    counts = np.asarray(counts)
    f = image_fractions(counts)
    with np.errstate(divide="ignore"):
        r_c = np.where(f > 0, np.maximum(1.0, np.sqrt(threshold / np.where(f > 0, f, 1))), 1.0)
    for c in exclude:
        if 0 <= c < r_c.size:
            r_c[c] = 1.0
    present = counts > 0
    return np.where(present, r_c[None, :], 1.0).max(axis=1) if counts.size else np.ones(0)


class ClassPixels:
    """Per image, the flat positions of every non-background pixel grouped by class, so a
    centred crop picks its pixel without scanning the whole mask: that scan, once per centred
    crop, cost ~13% of a step on EM's 768x1024 slices with the plan's 16 crops of 64 px.

    Positions keep ``np.nonzero``'s row-major order within each class, so a draw picks the
    same pixel a scan would. An entry holds for the very labels array it was made from (the
    loader's cached one); a re-read mask is indexed again. 4 bytes per foreground pixel, least
    recently used first out past ``budget_bytes``.
    """

    def __init__(self, background: int = 0, budget_bytes: int = 256 << 20):
        self.background, self.budget = background, budget_bytes
        self.cache: OrderedDict[int, tuple[weakref.ref, np.ndarray, np.ndarray]] = OrderedDict()
        self.used = 0
        self.lock = threading.Lock()

    def _index(self, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        flat = labels.reshape(-1)
        fg = np.flatnonzero(flat != self.background)
        fg = fg.astype(np.int32) if flat.size < 2**31 else fg
        cls = flat[fg]
        order = np.argsort(cls, kind="stable")  # a radix sort for 8- and 16-bit labels: linear
        starts = np.concatenate([[0], np.cumsum(np.bincount(cls, minlength=int(cls.max(initial=0)) + 1))])
        return fg[order], starts

    def positions(self, key: int, labels: np.ndarray, c: int) -> np.ndarray:
        """Flat positions of class ``c``'s pixels in ``labels`` (image ``key``), row-major."""
        if c == self.background:
            return np.flatnonzero(labels.reshape(-1) == c)
        with self.lock:
            hit = self.cache.get(key)
            if hit is not None:
                self.cache.move_to_end(key)
        if hit is None or hit[0]() is not labels:
            pos, starts = self._index(labels)
            hit = (weakref.ref(labels), pos, starts)
            with self.lock:
                old = self.cache.pop(key, None)
                self.used -= old[1].nbytes if old else 0
                if pos.nbytes <= self.budget:
                    self.cache[key] = hit
                    self.used += pos.nbytes
                    while self.used > self.budget:
                        _, (_, p, _) = self.cache.popitem(last=False)
                        self.used -= p.nbytes
        _, pos, starts = hit
        return pos[starts[c] : starts[c + 1]] if 0 <= c < starts.size - 1 else pos[:0]


@dataclass
class CropSampler:
    """Draws (image index, class to centre on or -1) for each crop.

    Args:
        counts: (n_images, C) pixel counts per image and class (training split).
        rare_fraction: share of crops centred on a pixel of a drawn foreground class.
        repeat_threshold: t of the repeat-factor rule; 0 draws images uniformly.
        class_power: p(class) ∝ f_c ** -class_power (0 = class-uniform).
        background: the background class id (never a centring target).
        ignore_ids: classes never used as centring targets.
    """

    counts: np.ndarray
    rare_fraction: float = 1 / 3
    repeat_threshold: float = 0.3
    class_power: float = 0.5
    background: int = 0
    ignore_ids: Sequence[int] = ()
    pixels: ClassPixels = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.pixels = ClassPixels(self.background)
        self.counts = np.asarray(self.counts, dtype=np.int64)
        n, num_classes = self.counts.shape
        if n == 0:
            raise ValueError("no training images to sample from")
        exclude = [self.background, *self.ignore_ids]
        if self.repeat_threshold > 0:
            r = repeat_factors(self.counts, self.repeat_threshold, exclude)
        else:
            r = np.ones(n)
        self.image_p = r / r.sum()
        f = image_fractions(self.counts)
        cand = f > 0
        for c in exclude:
            if 0 <= c < num_classes:
                cand[c] = False
        self.classes = np.flatnonzero(cand)
        if self.classes.size:
            w = f[self.classes] ** -self.class_power
            self.class_p = w / w.sum()
        else:
            self.class_p = np.zeros(0)
        # images containing each candidate class, for the centred draws
        self._holders = {int(c): np.flatnonzero(self.counts[:, c] > 0) for c in self.classes}

    def draw(self, rng: np.random.Generator) -> tuple[int, int]:
        if self.classes.size and rng.random() < self.rare_fraction:
            c = int(rng.choice(self.classes, p=self.class_p))
            return int(rng.choice(self._holders[c])), c
        return int(rng.choice(self.image_p.size, p=self.image_p)), -1

    def class_draw_probabilities(self) -> np.ndarray:
        """Length-C probability that a crop is centred on each class (for reports and tests)."""
        out = np.zeros(self.counts.shape[1])
        out[self.classes] = self.class_p * self.rare_fraction
        return out


def sample_rng(seed: int, index: int) -> np.random.Generator:
    """The generator of sample ``index``: independent of order and of other samples."""
    return np.random.default_rng([int(seed) & 0xFFFFFFFF, int(index)])


def _pad_to(image: np.ndarray, labels: np.ndarray, size: int, ignore_index: int):
    h, w = labels.shape
    ph, pw = max(0, size - h), max(0, size - w)
    if ph or pw:
        pad = ((0, ph), (0, pw))
        image = np.pad(image, pad + ((0, 0),) * (image.ndim - 2), mode="reflect" if min(h, w) > 1 else "edge")
        labels = np.pad(labels, pad, constant_values=ignore_index)
    return image, labels


def crop_origin(
    labels: np.ndarray, size: int, rng: np.random.Generator, centre_class: int = -1,
    positions: np.ndarray | None = None, width: int | None = None,
) -> tuple[int, int]:
    """Top-left of a size x size crop: random, or centred on a random pixel of ``centre_class``.

    ``positions``: that class's flat pixel positions, row-major, in an array ``width`` wide
    (``ClassPixels``, on the mask before padding); found by scanning ``labels`` when not given.
    """
    h, w = labels.shape
    if centre_class >= 0:
        if positions is None:
            positions, width = np.flatnonzero(labels.reshape(-1) == centre_class), w
        if positions.size:
            k = int(rng.integers(positions.size))
            y, x = divmod(int(positions[k]), width or w)
            # jitter so the rare pixel is not always at the exact centre
            jy, jx = rng.integers(-size // 4, size // 4 + 1, size=2)
            y0 = y - size // 2 + int(jy)
            x0 = x - size // 2 + int(jx)
            return int(np.clip(y0, 0, h - size)), int(np.clip(x0, 0, w - size))
    return int(rng.integers(0, h - size + 1)), int(rng.integers(0, w - size + 1))


def augment(image: np.ndarray, labels: np.ndarray, rng: np.random.Generator):
    """Random horizontal/vertical flips and 90° rotations, the same on image and labels."""
    k = int(rng.integers(4))
    flip_h, flip_v = rng.random(2) < 0.5
    if k:
        image, labels = np.rot90(image, k, axes=(0, 1)), np.rot90(labels, k)
    if flip_h:
        image, labels = image[:, ::-1], labels[:, ::-1]
    if flip_v:
        image, labels = image[::-1], labels[::-1]
    return image, labels


def make_sample(
    load: Loader,
    sampler: CropSampler,
    index: int,
    seed: int,
    crop: int,
    ignore_index: int,
    augment_spec: str = DEFAULT_AUGMENT,
    extra_channels: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """One (image float32 (S,S,ch), labels (S,S)) training crop for sample ``index``.

    ``augment_spec``: ``config.AUGMENT_PARTS`` joined with '+', or "none". The last
    ``extra_channels`` channels (per-pixel loss weights) move with the image but keep their values.
    """
    parts = augment_parts(augment_spec)
    rng = sample_rng(seed, index)
    i, c = sampler.draw(rng)
    image, labels = load(i)
    # before padding: the loader's own array, so the index holds from one crop to the next
    positions = sampler.pixels.positions(i, labels, c) if c >= 0 else None
    width = labels.shape[1]
    if image.ndim == 2:
        image = image[..., None]
    side = crop
    if "scale" in parts:  # zoom out no further than the image (padding adds no context)
        side = zoom_window(crop, rng, max(crop, min(labels.shape)))
    image, labels = _pad_to(image, labels, side, ignore_index)
    y0, x0 = crop_origin(labels, side, rng, c, positions, width)
    image = image[y0 : y0 + side, x0 : x0 + side]
    labels = labels[y0 : y0 + side, x0 : x0 + side]
    image, labels = resize_crop(image, labels, crop)
    if "flips" in parts:
        image, labels = augment(image, labels, rng)
    if "intensity" in parts:
        pixels = image.shape[-1] - extra_channels
        image = np.concatenate([intensity(image[..., :pixels], rng), image[..., pixels:]], axis=-1)
    return np.ascontiguousarray(image, dtype=np.float32), np.ascontiguousarray(labels)
