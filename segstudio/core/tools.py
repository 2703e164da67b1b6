"""Mouse tools as Qt-free generators over plain pointer events.

A tool is a generator: :class:`ToolDriver` creates it on a button press, sends it every
following :class:`PointerEvent`, and reads back a :class:`ToolFeedback` (a polygon
preview, a picked label). The generator returns when the gesture ends. Each gesture is
one undo step on the :class:`~segstudio.core.editing.MaskModel`.

The canvas converts Qt mouse events into ``PointerEvent`` in image coordinates (x to
the right, y down, pixel (r, c) covering [c, c+1) x [r, r+1)); tests send fake ones.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from enum import StrEnum

from segstudio.core.editing import MaskModel, Point


@dataclass(frozen=True)
class PointerEvent:
    """``kind``: 'press', 'move', 'release', 'double' (double click) or 'finish' (Enter)."""

    kind: str
    x: float
    y: float
    button: str = "left"  # 'left', 'right', 'middle' or 'none' (hover)

    @property
    def pos(self) -> Point:
        return (self.x, self.y)


class Tool(StrEnum):
    BRUSH = "brush"
    ERASER = "eraser"
    FILL = "fill"
    POLYGON = "polygon"
    PICKER = "picker"

    @property
    def shortcut(self) -> str:
        return TOOL_SHORTCUTS[self]

    @property
    def title(self) -> str:
        return TOOL_TITLES[self]


TOOL_SHORTCUTS = {Tool.BRUSH: "B", Tool.ERASER: "E", Tool.FILL: "F", Tool.POLYGON: "P", Tool.PICKER: "I"}
TOOL_TITLES = {
    Tool.BRUSH: "Brush",
    Tool.ERASER: "Eraser",
    Tool.FILL: "Flood fill",
    Tool.POLYGON: "Polygon / lasso fill",
    Tool.PICKER: "Class picker",
}

MIN_BRUSH, MAX_BRUSH = 1, 512


def next_brush_size(size: int, step: int) -> int:
    """'[' / ']' step: +-1 below 10 px, then about +-15% so large brushes change quickly."""
    if step > 0:
        new = size + 1 if size < 10 else math.ceil(size * 1.15)
    else:
        new = size - 1 if size <= 10 else math.floor(size / 1.15)
    return max(MIN_BRUSH, min(MAX_BRUSH, new))


@dataclass
class ToolSettings:
    """What the tools paint with. ``size`` is the brush diameter in image pixels."""

    tool: Tool = Tool.BRUSH
    label: int = 1
    size: int = 9
    eraser_label: int = 0
    connectivity: int = 4

    @property
    def radius(self) -> float:
        return self.size / 2.0


@dataclass(frozen=True)
class ToolFeedback:
    """What the view draws after an event: polygon in progress, a picked label."""

    polygon: tuple[Point, ...] = ()
    picked: int | None = None
    active: bool = False  # a gesture is still in progress


ToolGen = Generator[ToolFeedback, PointerEvent, None]


def brush_gesture(model: MaskModel, press: PointerEvent, value: int, radius: float) -> ToolGen:
    """Paint a capsule between consecutive pointer positions until release."""
    with model.stroke("erase" if value == 0 else "paint"):
        last = press.pos
        model.paint_segment(last, last, radius, value)
        while True:
            ev = yield ToolFeedback(active=True)
            if ev.kind == "move" and ev.button != "none":
                model.paint_segment(last, ev.pos, radius, value)
                last = ev.pos
            elif ev.kind == "release":
                if ev.pos != last:
                    model.paint_segment(last, ev.pos, radius, value)
                return


def fill_gesture(model: MaskModel, press: PointerEvent, value: int, connectivity: int) -> ToolGen:
    with model.stroke("fill"):
        model.flood_fill(press.x, press.y, value, connectivity=connectivity)
    yield ToolFeedback()


def picker_gesture(model: MaskModel, press: PointerEvent) -> ToolGen:
    yield ToolFeedback(picked=model.pick(press.x, press.y))


CLOSE_DISTANCE = 4.0  # image pixels: a click this close to the first vertex closes the polygon
LASSO_MIN_STEP = 1.0  # image pixels between recorded lasso points


def polygon_gesture(model: MaskModel, press: PointerEvent, value: int) -> ToolGen:
    """Clicks add vertices; dragging records a freehand lasso.

    The shape closes (and fills) on a double click, Enter ('finish'), a click near the first
    vertex, or the release that ends a lasso drag. Closing the generator cancels.
    """
    points: list[Point] = [press.pos]
    dragging = True
    dragged = False
    hover: Point | None = None
    while True:
        preview = tuple(points) + ((hover,) if hover is not None and not dragging else ())
        ev = yield ToolFeedback(polygon=preview, active=True)
        if ev.kind == "move":
            if dragging:
                if math.dist(points[-1], ev.pos) >= LASSO_MIN_STEP:
                    points.append(ev.pos)
                    dragged = True
            else:
                hover = ev.pos
        elif ev.kind == "release":
            dragging = False
            if dragged and len(points) >= 3:
                break
        elif ev.kind == "press":
            if len(points) >= 3 and math.dist(points[0], ev.pos) <= CLOSE_DISTANCE:
                break
            points.append(ev.pos)
            dragging, dragged = True, False
        elif ev.kind in ("double", "finish"):
            break
    if len(points) >= 3:
        with model.stroke("polygon"):
            model.fill_polygon(points, value)
    yield ToolFeedback()


@dataclass
class ToolDriver:
    """Feeds pointer events to the current tool; the canvas owns one.

    ``on_pick`` receives the label the picker read (the view then selects that class).
    """

    model: MaskModel
    settings: ToolSettings = field(default_factory=ToolSettings)
    on_pick: Callable[[int], None] | None = None
    _gesture: ToolGen | None = None

    @property
    def busy(self) -> bool:
        return self._gesture is not None

    def set_model(self, model: MaskModel) -> None:
        self.cancel()
        self.model = model

    def handle(self, ev: PointerEvent) -> ToolFeedback:
        if self._gesture is None:
            if ev.kind != "press" or ev.button not in ("left", "right"):
                return ToolFeedback()
            self._gesture = self._start(ev)
            return self._advance(None)
        return self._advance(ev)

    def _start(self, press: PointerEvent) -> ToolGen:
        s = self.settings
        tool = s.tool
        if press.button == "right" and tool == Tool.BRUSH:
            tool = Tool.ERASER  # right-drag with the brush erases
        if tool == Tool.BRUSH:
            return brush_gesture(self.model, press, s.label, s.radius)
        if tool == Tool.ERASER:
            return brush_gesture(self.model, press, s.eraser_label, s.radius)
        if tool == Tool.FILL:
            return fill_gesture(self.model, press, s.label, s.connectivity)
        if tool == Tool.POLYGON:
            return polygon_gesture(self.model, press, s.label)
        return picker_gesture(self.model, press)

    def _advance(self, ev: PointerEvent | None) -> ToolFeedback:
        gen = self._gesture
        assert gen is not None
        try:
            fb = next(gen) if ev is None else gen.send(ev)
        except StopIteration:
            self._gesture = None
            return ToolFeedback()
        except Exception:
            self._gesture = None
            raise
        if not fb.active:
            self._gesture = None
            gen.close()
        if fb.picked is not None:
            self.settings.label = fb.picked
            if self.on_pick is not None:
                self.on_pick(fb.picked)
        return fb

    def finish(self) -> ToolFeedback:
        """Enter: close a polygon in progress."""
        if self._gesture is None:
            return ToolFeedback()
        return self._advance(PointerEvent("finish", 0.0, 0.0, "none"))

    def cancel(self) -> None:
        """Escape: abandon the gesture (a brush stroke painted so far stays, as one undo step)."""
        if self._gesture is not None:
            gen, self._gesture = self._gesture, None
            gen.close()
