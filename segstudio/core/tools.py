"""Mouse tools as Qt-free generators over plain pointer events.

A tool is a generator: :class:`ToolDriver` creates it on a button press, sends it every
following :class:`PointerEvent`, and reads back a :class:`ToolFeedback` (a polygon
preview, a picked label). The generator returns when the gesture ends. Each gesture is
one undo step on the :class:`~segstudio.core.editing.MaskModel`.

Painting tools (brush, fill, wand, polygon) honour ``ToolSettings.paint_over`` (preserve
labels); the eraser erases anything. The accept tools copy the shown prediction (the driver's
``prediction``) into the mask under a brush stroke or inside a lasso/polygon.

The canvas converts Qt mouse events into ``PointerEvent`` in image coordinates (x to
the right, y down, pixel (r, c) covering [c, c+1) x [r, r+1)); tests send fake ones.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np

from segstudio.core.editing import MaskModel, Point, capsule_region, rasterize_polygon
from segstudio.core.regions import wand_region


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
    WAND = "wand"
    PICKER = "picker"
    ACCEPT_BRUSH = "accept-brush"
    ACCEPT_LASSO = "accept-lasso"

    @property
    def shortcut(self) -> str:
        return TOOL_SHORTCUTS[self]

    @property
    def title(self) -> str:
        return TOOL_TITLES[self]


TOOL_SHORTCUTS = {Tool.BRUSH: "B", Tool.ERASER: "E", Tool.FILL: "F", Tool.POLYGON: "P", Tool.WAND: "W",
                  Tool.PICKER: "I", Tool.ACCEPT_BRUSH: "A", Tool.ACCEPT_LASSO: "L"}
TOOL_TITLES = {
    Tool.BRUSH: "Brush",
    Tool.ERASER: "Eraser",
    Tool.FILL: "Flood fill",
    Tool.POLYGON: "Polygon / lasso fill",
    Tool.WAND: "Magic wand (fill similar intensities)",
    Tool.PICKER: "Class picker",
    Tool.ACCEPT_BRUSH: "Accept brush (paint the prediction in)",
    Tool.ACCEPT_LASSO: "Accept lasso (prediction inside a drawn region)",
}
#: tools that paint with the round brush (the canvas shows its outline)
BRUSH_TOOLS = frozenset({Tool.BRUSH, Tool.ERASER, Tool.ACCEPT_BRUSH})
#: tools that copy the shown prediction into the mask
ACCEPT_TOOLS = frozenset({Tool.ACCEPT_BRUSH, Tool.ACCEPT_LASSO})

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
    tolerance: float = 10.0  # magic wand: intensity distance still counted as similar
    paint_over: int | None = None  # preserve labels: paint only over this class (0: background); None: any

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


def brush_gesture(model: MaskModel, press: PointerEvent, value: int, radius: float,
                  only_over: int | None = None) -> ToolGen:
    """Paint a capsule between consecutive pointer positions until release."""
    return stroke_gesture(model, press, lambda a, b: model.paint_segment(a, b, radius, value),
                          "erase" if value == 0 else "paint", only_over)


def accept_brush_gesture(model: MaskModel, press: PointerEvent, prediction: np.ndarray, radius: float) -> ToolGen:
    """Copy the predicted classes under the brush into the mask, one undo step per stroke."""

    def accept(p0: Point, p1: Point) -> None:
        box, inside = capsule_region(p0, p1, radius, model.shape)
        model.assign_region(box, inside, prediction)

    return stroke_gesture(model, press, accept, "accept prediction")


def stroke_gesture(model: MaskModel, press: PointerEvent, segment, label: str,
                   only_over: int | None = None) -> ToolGen:
    """Call ``segment(p0, p1)`` between consecutive pointer positions until release."""
    with model.stroke(label, only_over):
        last = press.pos
        segment(last, last)
        while True:
            ev = yield ToolFeedback(active=True)
            if ev.kind == "move" and ev.button != "none":
                segment(last, ev.pos)
                last = ev.pos
            elif ev.kind == "release":
                if ev.pos != last:
                    segment(last, ev.pos)
                return


def fill_gesture(model: MaskModel, press: PointerEvent, value: int, connectivity: int,
                 only_over: int | None = None) -> ToolGen:
    with model.stroke("fill", only_over):
        model.flood_fill(press.x, press.y, value, connectivity=connectivity)
    yield ToolFeedback()


def wand_gesture(model: MaskModel, press: PointerEvent, image: np.ndarray, value: int, tolerance: float,
                 connectivity: int, only_over: int | None = None) -> ToolGen:
    """Fill the connected pixels whose image intensity is within ``tolerance`` of the clicked one."""
    r, c = int(np.floor(press.y)), int(np.floor(press.x))
    region = wand_region(image, r, c, tolerance, connectivity)
    if region.shape == model.shape and region.any():
        with model.stroke("wand", only_over):
            model.assign(region, value)
    yield ToolFeedback()


def _nothing() -> ToolGen:
    yield ToolFeedback()


def picker_gesture(model: MaskModel, press: PointerEvent) -> ToolGen:
    yield ToolFeedback(picked=model.pick(press.x, press.y))


CLOSE_DISTANCE = 4.0  # image pixels: a click this close to the first vertex closes the polygon
LASSO_MIN_STEP = 1.0  # image pixels between recorded lasso points


def polygon_gesture(model: MaskModel, press: PointerEvent, value: int, only_over: int | None = None) -> ToolGen:
    """Clicks add vertices; dragging records a freehand lasso.

    The shape closes (and fills) on a double click, Enter ('finish'), a click near the first
    vertex, or the release that ends a lasso drag. Closing the generator cancels.
    """

    def fill(points: list[Point]) -> None:
        with model.stroke("polygon", only_over):
            model.fill_polygon(points, value)

    return shape_gesture(press, fill)


def accept_lasso_gesture(model: MaskModel, press: PointerEvent, prediction: np.ndarray) -> ToolGen:
    """A polygon or freehand lasso, drawn as with the polygon tool; the predicted classes
    inside it are copied into the mask as one undo step."""

    def accept(points: list[Point]) -> None:
        box, inside = rasterize_polygon(points, model.shape)
        with model.stroke("accept prediction"):
            model.assign_region(box, inside, prediction)

    return shape_gesture(press, accept)


def shape_gesture(press: PointerEvent, close) -> ToolGen:
    """Collect a polygon (clicks) or lasso (drag); call ``close(points)`` when it closes."""
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
        close(points)
    yield ToolFeedback()


@dataclass
class ToolDriver:
    """Feeds pointer events to the current tool; the canvas owns one.

    ``on_pick`` receives the label the picker read (the view then selects that class).
    ``image`` is what the wand reads; ``prediction`` the class map the accept tools copy
    (None: they do nothing).
    """

    model: MaskModel
    settings: ToolSettings = field(default_factory=ToolSettings)
    on_pick: Callable[[int], None] | None = None
    image: np.ndarray | None = None
    prediction: np.ndarray | None = None
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
        m, over = self.model, s.paint_over
        if tool == Tool.BRUSH:
            return brush_gesture(m, press, s.label, s.radius, over)
        if tool == Tool.ERASER:
            return brush_gesture(m, press, s.eraser_label, s.radius)
        if tool == Tool.FILL:
            return fill_gesture(m, press, s.label, s.connectivity, over)
        if tool == Tool.POLYGON:
            return polygon_gesture(m, press, s.label, over)
        if tool == Tool.WAND and self.image is not None:
            return wand_gesture(m, press, self.image, s.label, s.tolerance, s.connectivity, over)
        if tool in ACCEPT_TOOLS:
            pred = self.prediction if self.prediction is not None and self.prediction.shape == m.shape else None
            if pred is None:
                return _nothing()
            if tool == Tool.ACCEPT_BRUSH:
                return accept_brush_gesture(m, press, pred, s.radius)
            return accept_lasso_gesture(m, press, pred)
        if tool == Tool.PICKER:
            return picker_gesture(m, press)
        return _nothing()

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
