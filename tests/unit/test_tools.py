"""Mouse tools driven by fake pointer events, no Qt."""

from __future__ import annotations

import numpy as np

from segstudio.core.editing import MaskModel
from segstudio.core.tools import (
    PointerEvent,
    Tool,
    ToolDriver,
    ToolSettings,
    next_brush_size,
)


def drive(driver, *events):
    out = None
    for kind, x, y, *button in events:
        out = driver.handle(PointerEvent(kind, x, y, button[0] if button else "left"))
    return out


def make(tool, label=3, size=3, shape=(40, 40)):
    m = MaskModel(np.zeros(shape, np.uint8))
    return m, ToolDriver(m, ToolSettings(tool=tool, label=label, size=size))


def test_brush_drag_is_one_undo_step():
    m, d = make(Tool.BRUSH)
    drive(d, ("press", 5.5, 5.5), ("move", 15.5, 5.5), ("move", 25.5, 5.5), ("release", 30.5, 5.5))
    assert not d.busy
    assert (m.labels[5, 5:31] == 3).all()
    assert m.undo_depth == 1
    m.undo()
    assert not m.labels.any()


def test_hover_moves_do_not_paint():
    m, d = make(Tool.BRUSH)
    drive(d, ("move", 5.5, 5.5, "none"), ("move", 9.5, 5.5, "none"))
    assert not m.labels.any() and not d.busy


def test_eraser_and_right_button_erase():
    m, d = make(Tool.BRUSH, size=5)
    drive(d, ("press", 10.5, 10.5), ("release", 10.5, 10.5))
    assert m.labels[10, 10] == 3
    drive(d, ("press", 10.5, 10.5, "right"), ("release", 10.5, 10.5, "right"))
    assert not m.labels.any()
    drive(d, ("press", 10.5, 10.5), ("release", 10.5, 10.5))
    d.settings.tool = Tool.ERASER
    drive(d, ("press", 10.5, 10.5), ("release", 10.5, 10.5))
    assert not m.labels.any() and m.undo_depth == 4


def test_brush_size_is_the_diameter_in_pixels():
    m, d = make(Tool.BRUSH, size=11)
    drive(d, ("press", 20.5, 20.5), ("release", 20.5, 20.5))
    rows = np.flatnonzero(m.labels[:, 20])
    assert rows.size == 11 and rows[0] == 15


def test_fill_and_picker():
    m, d = make(Tool.FILL, label=7)
    drive(d, ("press", 3, 3), ("release", 3, 3))
    assert (m.labels == 7).all() and m.undo_depth == 1
    picked = []
    d.on_pick = picked.append
    d.settings.tool = Tool.PICKER
    d.settings.label = 1
    fb = drive(d, ("press", 3, 3))
    assert fb.picked == 7 and picked == [7] and d.settings.label == 7
    drive(d, ("release", 3, 3))
    assert m.undo_depth == 1  # picking is not an edit


def test_polygon_by_clicks_closes_near_first_vertex():
    m, d = make(Tool.POLYGON, label=2)
    drive(d, ("press", 5, 5), ("release", 5, 5), ("press", 25, 5), ("release", 25, 5))
    fb = drive(d, ("move", 25, 25, "none"))
    assert fb.active and fb.polygon[-1] == (25, 25)  # rubber band to the pointer
    drive(d, ("press", 25, 25), ("release", 25, 25), ("press", 5, 25), ("release", 5, 25))
    assert not m.labels.any() and d.busy
    drive(d, ("press", 6, 6))  # near the first vertex: close
    assert not d.busy
    assert (m.labels == 2).sum() == 400 and m.undo_depth == 1


def test_polygon_closes_on_double_click_or_enter_and_escape_cancels():
    m, d = make(Tool.POLYGON, label=2)
    drive(d, ("press", 5, 5), ("release", 5, 5), ("press", 15, 5), ("release", 15, 5))
    drive(d, ("press", 15, 15), ("release", 15, 15))
    d.finish()
    assert (m.labels == 2).sum() > 0 and not d.busy
    m.undo()
    drive(d, ("press", 5, 5), ("release", 5, 5), ("press", 15, 5), ("release", 15, 5))
    drive(d, ("press", 15, 15), ("release", 15, 15), ("double", 15, 15))
    assert (m.labels == 2).sum() > 0
    m.undo()
    drive(d, ("press", 5, 5), ("release", 5, 5), ("press", 15, 5), ("release", 15, 5))
    d.cancel()
    assert not d.busy and not m.labels.any()


def test_lasso_drag_fills_on_release():
    m, d = make(Tool.POLYGON, label=4)
    drive(d, ("press", 10, 10), ("move", 30, 10), ("move", 30, 30), ("move", 10, 30), ("release", 10, 30))
    assert not d.busy and (m.labels == 4).sum() == 400


def test_middle_button_and_stray_events_are_ignored():
    m, d = make(Tool.BRUSH)
    drive(d, ("press", 5, 5, "middle"), ("release", 5, 5, "middle"), ("release", 5, 5))
    assert not m.labels.any() and not d.busy


def test_bracket_steps():
    assert next_brush_size(1, -1) == 1
    assert next_brush_size(5, +1) == 6
    assert next_brush_size(100, +1) == 115
    assert next_brush_size(100, -1) == 86
    assert next_brush_size(512, +1) == 512
    assert [t.shortcut for t in Tool] == ["B", "E", "F", "P", "W", "I", "A", "L"]
