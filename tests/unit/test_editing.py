"""MaskModel: painting, fills, per-stroke undo/redo as diffs, dirty flag, change rectangles."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from segstudio.core.editing import (
    MaskModel,
    Rect,
    connected_region,
    rasterize_polygon,
)


def model(h=32, w=32, dtype=np.uint8):
    return MaskModel(np.zeros((h, w), dtype))


def test_dab_is_round_and_sized_in_pixels():
    m = model(41, 41)
    with m.stroke():
        m.paint_segment((20.5, 20.5), (20.5, 20.5), radius=5.0, value=7)
    painted = m.labels == 7
    # a disc of radius 5 around a pixel centre: pixel centres at integer offsets with d <= 5
    yy, xx = np.mgrid[-20:21, -20:21]
    assert np.array_equal(painted, (yy**2 + xx**2) <= 25)
    assert painted.sum() == 81


def test_tiny_brush_paints_the_pixel_under_the_pointer():
    m = model(8, 8)
    with m.stroke():
        m.paint_segment((3.0, 5.0), (3.0, 5.0), radius=0.1, value=2)  # on a pixel corner
    assert np.argwhere(m.labels == 2).tolist() == [[5, 3]]


def test_segment_leaves_no_gaps_between_far_apart_points():
    m = model(20, 200)
    with m.stroke():
        m.paint_segment((5.5, 10.5), (190.5, 10.5), radius=1.0, value=1)
    assert (m.labels[10, 5:191] == 1).all()
    assert (m.labels[10, 4:192] == 1).all()  # radius 1 reaches one pixel past each end
    assert m.labels[10, 3] == 0 and m.labels[10, 192] == 0 and m.labels[12, 50] == 0


def test_events_carry_the_changed_rectangle():
    m = model(64, 64)
    seen = []
    m.subscribe(seen.append)
    with m.stroke():
        rect = m.paint_segment((10.5, 20.5), (10.5, 20.5), radius=3.0, value=4)
    assert rect == Rect(17, 7, 24, 14)
    edits = [c for c in seen if c.reason == "edit"]
    assert len(edits) == 1 and edits[0].rect == rect and edits[0].dirty
    # every changed pixel lies inside the reported rectangle
    rows, cols = np.nonzero(m.labels)
    assert rows.min() >= rect.top and rows.max() < rect.bottom
    assert cols.min() >= rect.left and cols.max() < rect.right
    m.undo()
    assert seen[-1].reason == "undo" and seen[-1].rect == rect and not seen[-1].dirty


def test_one_undo_step_per_stroke_and_redo():
    m = model()
    with m.stroke():
        for x in range(5, 25, 3):
            m.paint_segment((x + 0.5, 10.5), (x + 3.5, 10.5), radius=2, value=3)
    with m.stroke():
        m.paint_segment((16.5, 16.5), (16.5, 16.5), radius=4, value=5)
    after_both = m.labels.copy()
    assert m.undo_depth == 2
    assert m.undo()
    assert not (m.labels == 5).any() and (m.labels == 3).any()
    assert m.undo()
    assert not m.labels.any() and not m.can_undo
    assert not m.undo()
    assert m.redo() and m.redo() and not m.redo()
    assert np.array_equal(m.labels, after_both)


def test_undo_restores_overpainted_labels_not_zero():
    m = model()
    with m.stroke():
        m.paint_segment((10.5, 10.5), (10.5, 10.5), radius=5, value=1)
    with m.stroke():  # paint 2 over 1, then 3 over part of it, within one stroke
        m.paint_segment((10.5, 10.5), (10.5, 10.5), radius=3, value=2)
        m.paint_segment((12.5, 10.5), (12.5, 10.5), radius=3, value=3)
    m.undo()
    expected = model()
    with expected.stroke():
        expected.paint_segment((10.5, 10.5), (10.5, 10.5), radius=5, value=1)
    assert np.array_equal(m.labels, expected.labels)


def test_records_are_diffs_not_mask_copies():
    m = MaskModel(np.zeros((2048, 2048), np.uint8))
    with m.stroke():
        m.paint_segment((100.5, 100.5), (300.5, 100.5), radius=4, value=9)
    changed = int((m.labels == 9).sum())
    # index (4 bytes) + before + after (1 byte each) per changed pixel
    assert m.history_bytes == changed * 6
    assert m.history_bytes < m.labels.nbytes / 100


def test_history_is_bounded_by_steps_and_bytes():
    m = MaskModel(np.zeros((64, 64), np.uint8), max_steps=5)
    for i in range(12):
        with m.stroke():
            m.paint_segment((i * 5 + 2.5, 5.5), (i * 5 + 2.5, 5.5), radius=1, value=i + 1)
    assert m.undo_depth == 5
    m2 = MaskModel(np.zeros((64, 64), np.uint8), max_bytes=300)
    for i in range(6):
        with m2.stroke():
            m2.paint_segment((32, 32), (32, 32), radius=5, value=i + 1)  # ~80 px * 6 B each
    assert m2.undo_depth == 1 and m2.history_bytes <= 600
    # undoing what is left does not claim the mask is back to its saved state
    m2.undo()
    assert m2.dirty


def test_dirty_follows_saved_state_through_undo_and_redo():
    m = model()
    assert not m.dirty
    with m.stroke():
        m.paint_segment((5.5, 5.5), (5.5, 5.5), radius=2, value=1)
    assert m.dirty
    m.mark_saved()
    assert not m.dirty
    with m.stroke():
        m.paint_segment((15.5, 5.5), (15.5, 5.5), radius=2, value=1)
    assert m.dirty
    m.undo()
    assert not m.dirty
    m.undo()
    assert m.dirty  # older than the save
    m.redo()
    assert not m.dirty


def test_a_stroke_that_changes_nothing_is_no_undo_step():
    m = model()
    with m.stroke():
        m.paint_segment((5.5, 5.5), (5.5, 5.5), radius=2, value=0)
    assert not m.can_undo and not m.dirty
    with m.stroke():  # paint and paint back
        m.paint_segment((5.5, 5.5), (5.5, 5.5), radius=2, value=4)
        m.paint_segment((5.5, 5.5), (5.5, 5.5), radius=2, value=0)
    assert not m.can_undo and not m.dirty


def test_new_edit_clears_redo():
    m = model()
    with m.stroke():
        m.paint_segment((5.5, 5.5), (5.5, 5.5), radius=2, value=1)
    m.undo()
    with m.stroke():
        m.paint_segment((9.5, 9.5), (9.5, 9.5), radius=2, value=2)
    assert not m.can_redo


def test_edits_outside_a_stroke_are_refused():
    m = model()
    with pytest.raises(RuntimeError):
        m.paint_segment((5, 5), (5, 5), 2, 1)
    with pytest.raises(RuntimeError):
        m.end_stroke()


def test_value_must_fit_dtype_and_uint16_works():
    m = model()
    with pytest.raises(ValueError):
        with m.stroke():
            m.paint_segment((5, 5), (5, 5), 2, 300)
    m16 = model(dtype=np.uint16)
    with m16.stroke():
        m16.paint_segment((5.5, 5.5), (5.5, 5.5), 2, 300)
    assert (m16.labels == 300).sum() > 0
    with pytest.raises(ValueError):
        MaskModel(np.zeros((4, 4, 3), np.uint8))


def test_painting_off_the_edge_is_clipped():
    m = model(10, 10)
    with m.stroke():
        m.paint_segment((-50, -50), (-40, -40), radius=3, value=1)
        m.paint_segment((9.5, 9.5), (9.5, 9.5), radius=3, value=2)
    assert not (m.labels == 1).any()
    assert m.labels[9, 9] == 2


def test_flood_fill_stays_inside_its_region():
    labels = np.zeros((20, 20), np.uint8)
    labels[5, :] = 1  # a wall splitting top from bottom
    m = MaskModel(labels)
    with m.stroke():
        m.flood_fill(3.2, 2.7, 6)
    assert (m.labels[:5] == 6).all()
    assert (m.labels[5] == 1).all() and (m.labels[6:] == 0).all()
    m.undo()
    assert (m.labels[:5] == 0).all()


def test_flood_fill_connectivity():
    labels = np.ones((5, 5), np.uint8)
    labels[np.eye(5, dtype=bool)] = 0  # a diagonal line of 0s
    assert connected_region(labels, 0, 0, connectivity=4).size == 1
    assert connected_region(labels, 0, 0, connectivity=8).size == 5


def test_flood_fill_matches_brute_force_on_random_masks():
    rng = np.random.default_rng(3)
    for _ in range(20):
        labels = (rng.random((23, 31)) < 0.45).astype(np.uint8)
        r, c = rng.integers(0, 23), rng.integers(0, 31)
        got = set(connected_region(labels, r, c).tolist())
        # brute-force BFS
        want, todo, v = set(), [(r, c)], labels[r, c]
        while todo:
            y, x = todo.pop()
            if (y, x) in want or not (0 <= y < 23 and 0 <= x < 31) or labels[y, x] != v:
                continue
            want.add((y, x))
            todo += [(y + 1, x), (y - 1, x), (y, x + 1), (y, x - 1)]
        assert got == {y * 31 + x for y, x in want}


def test_flood_fill_large_region_is_fast():
    import time

    labels = np.zeros((2048, 2048), np.uint8)
    labels[::7, :] = 1  # many separate rows -> many runs
    labels[:, 0] = 0
    m = MaskModel(labels)
    t = time.perf_counter()
    with m.stroke():
        m.flood_fill(0.5, 1.5, 5)
    assert time.perf_counter() - t < 3.0
    assert (m.labels[1:7, :] == 5).all()


def test_polygon_fill_square_and_triangle():
    m = model(20, 20)
    with m.stroke():
        m.fill_polygon([(2, 2), (8, 2), (8, 6), (2, 6)], 3)  # x 2..8, y 2..6
    assert np.argwhere(m.labels == 3).min(0).tolist() == [2, 2]
    assert np.argwhere(m.labels == 3).max(0).tolist() == [5, 7]
    assert (m.labels == 3).sum() == 24
    box, inside = rasterize_polygon([(0, 0), (10, 0), (0, 10)], (20, 20))
    assert box.top == 0 and box.left == 0
    # pixel centres (c+.5, r+.5) with x + y < 10
    yy, xx = np.mgrid[0 : box.height, 0 : box.width]
    assert np.array_equal(inside, (xx + 0.5) + (yy + 0.5) < 10)


def test_polygon_self_intersecting_uses_even_odd_and_degenerate_is_noop():
    m = model(20, 20)
    with m.stroke():
        assert m.fill_polygon([(1, 1), (5, 5)], 2).empty
        m.fill_polygon([(0, 0), (10, 10), (10, 0), (0, 10)], 2)  # bow tie
    assert m.labels[5, 1] == 2 and m.labels[5, 9] == 2 and m.labels[1, 5] == 0


def test_assign_region_is_one_undo_step():
    m = model(10, 10)
    pred = np.full((10, 10), 4, np.uint8)
    where = np.zeros((10, 10), bool)
    where[2:5, 2:5] = True
    with m.stroke("accept"):
        m.assign(where, pred)
    assert (m.labels == 4).sum() == 9
    m.undo()
    assert not m.labels.any()


def test_reset_clears_history_and_is_clean():
    m = model()
    with m.stroke():
        m.paint_segment((5, 5), (5, 5), 2, 1)
    m.reset(np.ones((4, 6), np.uint8))
    assert m.shape == (4, 6) and not m.dirty and not m.can_undo and not m.can_redo
    assert m.pick(5.9, 3.1) == 1 and m.pick(6, 0) is None


ops = st.lists(
    st.tuples(
        st.sampled_from(["dab", "line", "fill", "poly", "undo", "redo"]),
        st.integers(0, 23),
        st.integers(0, 23),
        st.integers(0, 23),
        st.integers(0, 23),
        st.integers(0, 5),
    ),
    max_size=25,
)


@settings(max_examples=120, deadline=None)
@given(ops)
def test_undo_redo_replays_exact_states(seq):
    """Any mix of edits/undo/redo: undo walks back through the exact earlier states."""
    m = MaskModel(np.zeros((24, 24), np.uint8))
    states = [m.labels.copy()]  # states[i] = labels after i live steps
    pos = 0
    for op, a, b, c, d, v in seq:
        if op == "undo":
            if m.undo():
                pos -= 1
        elif op == "redo":
            if m.redo():
                pos += 1
        else:
            with m.stroke():
                if op == "dab":
                    m.paint_segment((a, b), (a, b), radius=v / 2, value=v)
                elif op == "line":
                    m.paint_segment((a, b), (c, d), radius=v, value=v)
                elif op == "fill":
                    m.flood_fill(a, b, v)
                else:
                    m.fill_polygon([(a, b), (c, b), (c, d), (a, d + 1)], v)
            if m.undo_depth > pos:  # a real step was recorded
                del states[pos + 1 :]
                states.append(m.labels.copy())
                pos += 1
        assert np.array_equal(m.labels, states[pos])
    while m.undo():
        pos -= 1
        assert np.array_equal(m.labels, states[pos])
    assert pos == 0 and not m.labels.any() and not m.dirty


def _even_odd(px: float, py: float, pts) -> bool:
    inside = False
    n = len(pts)
    for i in range(n):
        (x0, y0), (x1, y1) = pts[i], pts[(i + 1) % n]
        if (y0 <= py) != (y1 <= py) and px < x0 + (py - y0) * (x1 - x0) / (y1 - y0):
            inside = not inside
    return inside


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(-3, 20), st.floats(-3, 20)), min_size=3, max_size=7))
def test_polygon_raster_matches_point_in_polygon_at_pixel_centres(pts):
    box, inside = rasterize_polygon(pts, (16, 16))
    want = np.zeros((16, 16), bool)
    for r in range(16):
        for c in range(16):
            want[r, c] = _even_odd(c + 0.5, r + 0.5, pts)
    got = np.zeros((16, 16), bool)
    if not box.empty:
        got[box.slices] = inside
    assert np.array_equal(got, want)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.sampled_from([4, 8]))
def test_connected_region_matches_bfs(seed, connectivity):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, (12, 15)).astype(np.uint8)
    r, c = int(rng.integers(0, 12)), int(rng.integers(0, 15))
    steps = [(1, 0), (-1, 0), (0, 1), (0, -1)]
    if connectivity == 8:
        steps += [(1, 1), (1, -1), (-1, 1), (-1, -1)]
    seen, todo = set(), [(r, c)]
    while todo:
        y, x = todo.pop()
        if (y, x) in seen or not (0 <= y < 12 and 0 <= x < 15) or labels[y, x] != labels[r, c]:
            continue
        seen.add((y, x))
        todo += [(y + dy, x + dx) for dy, dx in steps]
    got = connected_region(labels, r, c, connectivity=connectivity)
    assert sorted(got.tolist()) == sorted(y * 15 + x for y, x in seen)
