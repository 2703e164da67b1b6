"""The mask being edited: a label array, painting operations and per-stroke undo.

Qt-free (numpy + stdlib). Views subscribe with :meth:`MaskModel.subscribe` and
receive a :class:`MaskChange` naming the rectangle that changed, so they redraw
only that part (napari's ``labels_update(data, offset)`` idea).

Undo keeps small diff records -- the flat indices of the pixels a step changed,
with their values before and after -- grouped per stroke, in a deque bounded by
step count and by bytes. No whole-mask copies.

Example:
    >>> import numpy as np
    >>> m = MaskModel(np.zeros((8, 8), np.uint8))
    >>> with m.stroke():  # points are (x, y); pixel centres sit at .5
    ...     m.paint_segment((2.5, 2.5), (5.5, 2.5), radius=0.5, value=3)
    Rect(top=2, left=2, bottom=3, right=6)
    >>> int((m.labels == 3).sum()), m.dirty
    (4, True)
    >>> m.undo(), int((m.labels == 3).sum()), m.dirty
    (True, 0, False)
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

Point = tuple[float, float]  # (x, y) in image pixel coordinates; pixel (r, c) covers [c, c+1) x [r, r+1)


@dataclass(frozen=True)
class Rect:
    """Half-open pixel rectangle: rows ``top:bottom``, columns ``left:right``."""

    top: int
    left: int
    bottom: int
    right: int

    @property
    def empty(self) -> bool:
        return self.bottom <= self.top or self.right <= self.left

    @property
    def slices(self) -> tuple[slice, slice]:
        return slice(self.top, self.bottom), slice(self.left, self.right)

    @property
    def height(self) -> int:
        return max(0, self.bottom - self.top)

    @property
    def width(self) -> int:
        return max(0, self.right - self.left)

    def union(self, other: Rect) -> Rect:
        if self.empty:
            return other
        if other.empty:
            return self
        return Rect(
            min(self.top, other.top),
            min(self.left, other.left),
            max(self.bottom, other.bottom),
            max(self.right, other.right),
        )

    def clip(self, shape: tuple[int, ...]) -> Rect:
        h, w = shape[:2]
        return Rect(max(0, self.top), max(0, self.left), min(h, self.bottom), min(w, self.right))

    @classmethod
    def full(cls, shape: tuple[int, ...]) -> Rect:
        return cls(0, 0, int(shape[0]), int(shape[1]))

    @classmethod
    def of_flat_indices(cls, flat: np.ndarray, width: int) -> Rect:
        if flat.size == 0:
            return cls(0, 0, 0, 0)
        rows, cols = np.divmod(flat, width)
        return cls(int(rows.min()), int(cols.min()), int(rows.max()) + 1, int(cols.max()) + 1)


EMPTY = Rect(0, 0, 0, 0)


class ChangeReason(StrEnum):
    """Why a MaskModel tells its listeners about a change."""

    EDIT = "edit"  # pixels changed inside a stroke
    STROKE_END = "stroke-end"  # a stroke closed: one undo step more
    UNDO = "undo"
    REDO = "redo"
    RESET = "reset"  # new labels wholesale
    SAVED = "saved"  # nothing changed; the saved state moved


#: reasons after which undo/redo availability may differ
HISTORY_REASONS = frozenset({ChangeReason.STROKE_END, ChangeReason.UNDO, ChangeReason.REDO,
                             ChangeReason.SAVED, ChangeReason.RESET})


@dataclass(frozen=True)
class MaskChange:
    """What listeners receive: the changed region, why, and whether unsaved edits remain."""

    rect: Rect
    reason: ChangeReason
    dirty: bool


@dataclass(frozen=True)
class EditRecord:
    """One undo step: pixels (flat indices) and their values before and after."""

    indices: np.ndarray
    before: np.ndarray
    after: np.ndarray
    rect: Rect
    label: str
    serial: int

    @property
    def nbytes(self) -> int:
        return self.indices.nbytes + self.before.nbytes + self.after.nbytes


class MaskModel:
    """A label array with painting tools, undo/redo and change events.

    Args:
        labels: (H, W) integer array (uint8 or uint16); the model owns it from now on.
        max_steps: undo steps kept (oldest dropped first).
        max_bytes: memory budget for undo records (oldest dropped first; the newest
            step is always kept).
    """

    def __init__(self, labels: np.ndarray, *, max_steps: int = 200, max_bytes: int = 256 << 20):
        self._listeners: list[Callable[[MaskChange], None]] = []
        self.max_steps = max_steps
        self.max_bytes = max_bytes
        self._undo: deque[EditRecord] = deque()
        self._redo: list[EditRecord] = []
        self._serial = 0
        self._base_serial = 0  # state when the undo deque is empty (older steps were dropped)
        self._saved_serial = 0
        self._pending: list[tuple[np.ndarray, np.ndarray, Rect]] | None = None  # (indices, old, rect)
        self._pending_label = ""
        self._only_over: int | None = None  # preserve labels: the stroke changes only this class
        self._stroke_depth = 0
        self._labels = self._check(labels)

    # -- state ------------------------------------------------------------
    @staticmethod
    def _check(labels: np.ndarray) -> np.ndarray:
        a = np.asarray(labels)
        if a.ndim != 2 or a.dtype.kind not in "ui":
            raise ValueError(f"labels must be a 2-D integer array, got {a.dtype} {a.shape}")
        a = np.ascontiguousarray(a)
        return a if a.flags.writeable else a.copy()

    @property
    def labels(self) -> np.ndarray:
        """The label array. Treat as read-only; change it through the model."""
        return self._labels

    @property
    def shape(self) -> tuple[int, int]:
        return self._labels.shape  # type: ignore[return-value]

    @property
    def dirty(self) -> bool:
        """True when the labels differ from the last :meth:`mark_saved` (undo back = clean)."""
        return self._current_serial() != self._saved_serial or self._pending_has_changes()

    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        return bool(self._redo)

    @property
    def history_bytes(self) -> int:
        return sum(r.nbytes for r in self._undo) + sum(r.nbytes for r in self._redo)

    @property
    def undo_depth(self) -> int:
        return len(self._undo)

    def _current_serial(self) -> int:
        return self._undo[-1].serial if self._undo else self._base_serial

    def _pending_has_changes(self) -> bool:
        return bool(self._pending) and any(p[0].size for p in self._pending)

    def pick(self, x: float, y: float) -> int | None:
        """Label under image point (x, y), or None outside the mask."""
        r, c = int(np.floor(y)), int(np.floor(x))
        h, w = self.shape
        if 0 <= r < h and 0 <= c < w:
            return int(self._labels[r, c])
        return None

    # -- events -----------------------------------------------------------
    def subscribe(self, callback: Callable[[MaskChange], None]) -> Callable[[], None]:
        """Call ``callback(MaskChange)`` after every change; returns an unsubscribe function."""
        self._listeners.append(callback)
        return lambda: self._listeners.remove(callback) if callback in self._listeners else None

    def _emit(self, rect: Rect, reason: ChangeReason) -> None:
        change = MaskChange(rect, reason, self.dirty)
        for cb in list(self._listeners):
            cb(change)

    # -- whole-mask operations -------------------------------------------------
    def reset(self, labels: np.ndarray) -> None:
        """Replace the labels (a newly loaded mask): clears history, marks clean."""
        if self._stroke_depth:
            raise RuntimeError("reset() inside a stroke")
        self._labels = self._check(labels)
        self._undo.clear()
        self._redo.clear()
        self._serial += 1
        self._base_serial = self._saved_serial = self._serial
        self._emit(Rect.full(self.shape), ChangeReason.RESET)

    def mark_saved(self) -> None:
        self._saved_serial = self._current_serial()
        self._emit(EMPTY, ChangeReason.SAVED)

    # -- strokes ----------------------------------------------------------------
    @contextmanager
    def stroke(self, label: str = "edit", only_over: int | None = None) -> Iterator[None]:
        """Group every change inside the block into one undo step.

        ``only_over``: preserve labels (napari's ``preserve_labels``) -- the step changes only
        pixels of that class (0: only background); None changes any pixel.
        """
        self.begin_stroke(label, only_over)
        try:
            yield
        finally:
            self.end_stroke()

    def begin_stroke(self, label: str = "edit", only_over: int | None = None) -> None:
        if self._stroke_depth == 0:
            self._pending = []
            self._pending_label = label
            self._only_over = only_over
        self._stroke_depth += 1

    def end_stroke(self) -> EditRecord | None:
        """Close the step; returns its record (None if nothing changed)."""
        if self._stroke_depth == 0:
            raise RuntimeError("end_stroke() without begin_stroke()")
        self._stroke_depth -= 1
        if self._stroke_depth:
            return None
        pending, self._pending = self._pending or [], None
        self._only_over = None
        if not pending:
            return None
        rect = EMPTY
        for p in pending:
            rect = rect.union(p[2])
        if len(pending) == 1:  # one write: its indices are unique and every one changed
            uniq, before = pending[0][0], pending[0][1]
            after = self._labels.reshape(-1)[uniq]
        else:
            idx = np.concatenate([p[0] for p in pending])
            old = np.concatenate([p[1] for p in pending])
            uniq, first = np.unique(idx, return_index=True)  # a pixel's first change holds its original value
            before = old[first]
            after = self._labels.reshape(-1)[uniq]
            keep = before != after  # painted over and back: not a change
            uniq, before, after = uniq[keep], before[keep], after[keep]
            if uniq.size == 0:
                return None
            if uniq.size < _EXACT_RECT_LIMIT:
                rect = Rect.of_flat_indices(uniq, self.shape[1])
        self._serial += 1
        rec = EditRecord(
            _compact_indices(uniq, self._labels.size),
            before,
            after,
            rect,
            self._pending_label,
            self._serial,
        )
        self._undo.append(rec)
        self._redo.clear()
        self._trim()
        self._emit(EMPTY, ChangeReason.STROKE_END)
        return rec

    def _trim(self) -> None:
        total = sum(r.nbytes for r in self._undo)
        while len(self._undo) > 1 and (len(self._undo) > self.max_steps or total > self.max_bytes):
            dropped = self._undo.popleft()
            total -= dropped.nbytes
            self._base_serial = dropped.serial

    def _write(self, flat_idx: np.ndarray, values: np.ndarray | int, bound: Rect | None = None) -> Rect:
        """Set labels at flat indices (inside an open stroke); returns the changed rectangle.

        ``bound``, a rectangle known to contain every index, spares computing the exact one
        for large writes (a flood fill of a 4096x4096 background).
        """
        if self._pending is None:
            raise RuntimeError("edits must happen inside begin_stroke()/end_stroke() or stroke()")
        flat = self._labels.reshape(-1)
        scalar = np.ndim(values) == 0
        vals = np.asarray(values, dtype=self._labels.dtype)
        old = flat[flat_idx]
        changed = old != vals
        if self._only_over is not None:
            changed &= old == self._only_over
        if not changed.all():  # (a fill changes every pixel it selects: no compress needed)
            if not changed.any():
                return EMPTY
            flat_idx, old = flat_idx[changed], old[changed]
            if not scalar:
                vals = vals[changed]
        flat[flat_idx] = vals
        if bound is None or flat_idx.size < _EXACT_RECT_LIMIT:
            rect = Rect.of_flat_indices(flat_idx, self.shape[1])
        else:
            rect = bound
        self._pending.append((flat_idx, old, rect))
        self._emit(rect, ChangeReason.EDIT)
        return rect

    def _write_region(self, rect: Rect, inside: np.ndarray, value: int | np.ndarray) -> Rect:
        """Set ``value`` (a scalar, or a mask-shaped array to copy from) where boolean
        ``inside`` (shape of ``rect``) is True."""
        if rect.empty or not inside.any():
            return EMPTY
        rr, cc = np.nonzero(inside)
        flat = (rr + rect.top) * self.shape[1] + (cc + rect.left)
        if np.ndim(value):
            value = np.asarray(value)[rect.slices][inside].astype(self._labels.dtype, copy=False)
        return self._write(flat.astype(np.int64), value, rect)

    def assign_region(self, rect: Rect, inside: np.ndarray, values: int | np.ndarray) -> Rect:
        """Like :meth:`assign` for a region given as a rectangle and its boolean ``inside``
        (what :func:`capsule_region` and :func:`rasterize_polygon` return): the cheap path
        for brush-sized regions of large masks."""
        if np.ndim(values) and np.shape(values) != self.shape:
            raise ValueError(f"values shape {np.shape(values)} != mask shape {self.shape}")
        return self._write_region(rect.clip(self.shape), inside, values)

    # -- painting -----------------------------------------------------------------
    def _check_value(self, value: int) -> int:
        info = np.iinfo(self._labels.dtype)
        if not info.min <= value <= info.max:
            raise ValueError(f"label {value} does not fit a {self._labels.dtype} mask")
        return int(value)

    def paint_segment(self, p0: Point, p1: Point, radius: float, value: int) -> Rect:
        """Paint a round brush of ``radius`` swept from p0 to p1 (a capsule; p0 == p1 is one dab).

        Pixels whose centre lies within ``radius`` of the segment are painted; the pixel
        under each end point always is, so a radius below 0.5 still paints one pixel.
        """
        value = self._check_value(value)
        box, inside = capsule_region(p0, p1, radius, self.shape)
        if box.empty:
            return EMPTY
        return self._write_region(box, inside, value)

    def flood_fill(self, x: float, y: float, value: int, *, connectivity: int = 4) -> Rect:
        """Fill the connected region of equal labels under (x, y) with ``value``."""
        value = self._check_value(value)
        r, c = int(np.floor(y)), int(np.floor(x))
        h, w = self.shape
        if not (0 <= r < h and 0 <= c < w):
            return EMPTY
        runs = _connected_runs(self._labels, r, c, connectivity)
        bound = Rect(min(rr for rr, _, _ in runs), min(c0 for _, c0, _ in runs),
                     max(rr for rr, _, _ in runs) + 1, max(c1 for _, _, c1 in runs))
        return self._write(_runs_to_indices(runs, w), value, bound)

    def fill_polygon(self, points: Sequence[Point], value: int) -> Rect:
        """Fill a closed polygon (even-odd rule; pixel centres inside are filled)."""
        value = self._check_value(value)
        if len(points) < 3:
            return EMPTY
        box, inside = rasterize_polygon(points, self.shape)
        return self._write_region(box, inside, value)

    def assign(self, where: np.ndarray, values: np.ndarray | int) -> Rect:
        """Set labels where boolean ``where`` (mask-shaped) is True: to ``values[where]`` or a scalar.

        The hook for bulk edits such as accepting a prediction inside a region.
        """
        if where.shape != self.shape:
            raise ValueError(f"region shape {where.shape} != mask shape {self.shape}")
        flat = np.flatnonzero(where)
        vals = values if np.isscalar(values) else np.asarray(values).reshape(-1)[flat]
        return self._write(flat, vals)

    # -- undo / redo ----------------------------------------------------------------
    def undo(self) -> bool:
        if self._stroke_depth or not self._undo:
            return False
        rec = self._undo.pop()
        self._labels.reshape(-1)[rec.indices] = rec.before
        self._redo.append(rec)
        self._emit(rec.rect, ChangeReason.UNDO)
        return True

    def redo(self) -> bool:
        if self._stroke_depth or not self._redo:
            return False
        rec = self._redo.pop()
        self._labels.reshape(-1)[rec.indices] = rec.after
        self._undo.append(rec)
        self._emit(rec.rect, ChangeReason.REDO)
        return True


#: below this many pixels, rectangles are computed exactly from the indices (cheap enough)
_EXACT_RECT_LIMIT = 1 << 18


def _compact_indices(flat: np.ndarray, size: int) -> np.ndarray:
    return flat.astype(np.uint32 if size <= np.iinfo(np.uint32).max else np.int64)


# -- Qt-free raster helpers ---------------------------------------------------------


def connected_region(labels: np.ndarray, row: int, col: int, *, connectivity: int = 4) -> np.ndarray:
    """Flat indices of the connected component of equal value containing (row, col).

    Scanline fill: each horizontal run is found with numpy, so the Python loop runs once
    per run, not per pixel (a 4096x4096 background takes well under a second).
    """
    return _runs_to_indices(_connected_runs(labels, row, col, connectivity), labels.shape[1])


def _runs_to_indices(runs: list[tuple[int, int, int]], width: int) -> np.ndarray:
    height = max(r for r, _, _ in runs) + 1
    mask = np.zeros(height * width, dtype=bool)
    for r, c0, c1 in runs:
        mask[r * width + c0 : r * width + c1] = True
    return np.flatnonzero(mask)


def _connected_runs(labels: np.ndarray, row: int, col: int, connectivity: int) -> list[tuple[int, int, int]]:
    """The component as horizontal runs (row, first column, end column exclusive)."""
    if connectivity not in (4, 8):
        raise ValueError("connectivity must be 4 or 8")
    h, w = labels.shape
    same = labels == labels[row, col]
    seen = np.zeros_like(same)
    runs: list[tuple[int, int, int]] = []
    stack = [(row, col)]
    extra = 1 if connectivity == 8 else 0
    while stack:
        r, c = stack.pop()
        if seen[r, c] or not same[r, c]:
            continue
        line = same[r]
        # extend left and right to the ends of the run
        left_block = np.flatnonzero(~line[:c][::-1])
        c0 = c - (left_block[0] if left_block.size else c)
        right_block = np.flatnonzero(~line[c:])
        c1 = c + (right_block[0] if right_block.size else w - c)  # exclusive
        seen[r, c0:c1] = True
        runs.append((r, int(c0), int(c1)))
        lo, hi = max(0, c0 - extra), min(w, c1 + extra)
        for nr in (r - 1, r + 1):
            if 0 <= nr < h:
                cand = same[nr, lo:hi] & ~seen[nr, lo:hi]
                if cand.any():
                    # one seed per run of candidates
                    starts = np.flatnonzero(cand & ~np.concatenate(([False], cand[:-1])))
                    stack.extend((nr, lo + int(s)) for s in starts)
    return runs


def capsule_region(p0: Point, p1: Point, radius: float, shape: tuple[int, int]) -> tuple[Rect, np.ndarray]:
    """Bounding rectangle (clipped to ``shape``) and boolean mask of the pixels a round brush
    of ``radius`` swept from p0 to p1 covers (see :meth:`MaskModel.paint_segment`)."""
    (x0, y0), (x1, y1) = p0, p1
    r = max(float(radius), 0.0)
    h, w = shape
    box = Rect(
        int(np.floor(min(y0, y1) - r)),
        int(np.floor(min(x0, x1) - r)),
        int(np.floor(max(y0, y1) + r)) + 1,
        int(np.floor(max(x0, x1) + r)) + 1,
    ).clip((h, w))
    if box.empty:
        return box, np.zeros((0, 0), bool)
    ys = np.arange(box.top, box.bottom, dtype=np.float64)[:, None] + 0.5
    xs = np.arange(box.left, box.right, dtype=np.float64)[None, :] + 0.5
    dx, dy = x1 - x0, y1 - y0
    seg2 = dx * dx + dy * dy
    if seg2 > 0:
        t = np.clip(((xs - x0) * dx + (ys - y0) * dy) / seg2, 0.0, 1.0)
        d2 = (xs - (x0 + t * dx)) ** 2 + (ys - (y0 + t * dy)) ** 2
    else:
        d2 = (xs - x0) ** 2 + (ys - y0) ** 2
    inside = d2 <= r * r
    for px, py in ((x0, y0), (x1, y1)):
        rr, cc = int(np.floor(py)) - box.top, int(np.floor(px)) - box.left
        if 0 <= rr < box.height and 0 <= cc < box.width:
            inside[rr, cc] = True
    return box, inside


def rasterize_polygon(points: Sequence[Point], shape: tuple[int, int]) -> tuple[Rect, np.ndarray]:
    """Bounding rectangle (clipped to ``shape``) and boolean mask of pixel centres inside the polygon."""
    pts = np.asarray(points, dtype=np.float64)
    h, w = shape
    box = Rect(
        int(np.floor(pts[:, 1].min())),
        int(np.floor(pts[:, 0].min())),
        int(np.ceil(pts[:, 1].max())) + 1,
        int(np.ceil(pts[:, 0].max())) + 1,
    ).clip(shape)
    if box.empty:
        return box, np.zeros((0, 0), bool)
    x0, y0 = pts[:, 0], pts[:, 1]
    x1, y1 = np.roll(x0, -1), np.roll(y0, -1)
    yc = np.arange(box.top, box.bottom, dtype=np.float64)[:, None] + 0.5  # row centres
    crosses = (y0[None, :] <= yc) != (y1[None, :] <= yc)  # edge spans the row centre
    # horizontal edges (and huge slopes) give inf/nan here; `crosses` masks them out below
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        xi = x0 + (yc - y0) * (x1 - x0) / (y1 - y0)  # (rows, edges)
    # pixel column c is inside when its centre c+0.5 lies right of an odd number of crossings:
    # a crossing at xi toggles every column c >= ceil(xi - 0.5)
    start = np.ceil(xi - 0.5) - box.left
    start = np.clip(np.where(crosses, start, box.width), 0, box.width).astype(np.int64)
    toggles = np.zeros((box.height, box.width + 1), dtype=np.int32)
    rows = np.broadcast_to(np.arange(box.height)[:, None], start.shape)
    np.add.at(toggles, (rows[crosses], start[crosses]), 1)
    inside = (np.cumsum(toggles, axis=1)[:, : box.width] % 2).astype(bool)
    return box, inside
