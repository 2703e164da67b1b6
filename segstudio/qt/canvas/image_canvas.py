"""The image canvas: image + indexed class overlay in a pyqtgraph ViewBox, with the tools.

Mouse events become Qt-free :class:`~segstudio.core.tools.PointerEvent` for the
:class:`~segstudio.core.tools.ToolDriver`; the :class:`~segstudio.core.editing.MaskModel`
reports changed rectangles and only those are repainted. Left button paints with the
current tool; the middle button (or the right button outside the brush) pans; the wheel
zooms about the cursor.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from segstudio.core.classes import ClassTable
from segstudio.core.editing import ChangeReason, MaskChange, MaskModel
from segstudio.core.tools import (
    BRUSH_TOOLS,
    PointerEvent,
    Tool,
    ToolDriver,
    ToolFeedback,
    ToolSettings,
)
from segstudio.qt.canvas.overlay import ContourOverlay, LabelOverlay

_BUTTONS = {
    QtCore.Qt.MouseButton.LeftButton: "left",
    QtCore.Qt.MouseButton.RightButton: "right",
    QtCore.Qt.MouseButton.MiddleButton: "middle",
}


def default_levels(pixels: np.ndarray) -> tuple[float, float]:
    """Display range for a gray image: 0.5-99.5 percentiles of a subsample (16-bit friendly)."""
    sample = pixels[:: max(1, pixels.shape[0] // 256), :: max(1, pixels.shape[1] // 256)]
    lo, hi = np.percentile(sample, (0.5, 99.5))
    if hi <= lo:
        hi = lo + 1
    return float(lo), float(hi)


class _ToolViewBox(pg.ViewBox):
    """ViewBox that hands left-button drags to the canvas instead of panning."""

    def __init__(self, canvas: ImageCanvas):
        super().__init__(lockAspect=True, invertY=True, enableMenu=False)
        self._canvas = canvas

    def mouseDragEvent(self, ev, axis=None):  # Qt naming
        if self._canvas.wants_button(ev.button()):
            ev.accept()  # the canvas handles it through its own mouse events
            return
        super().mouseDragEvent(ev, axis)

    def mouseClickEvent(self, ev):
        if self._canvas.wants_button(ev.button()):
            ev.accept()
            return
        super().mouseClickEvent(ev)


class ImageCanvas(pg.GraphicsView):
    """Signals: ``cursorMoved(x, y)`` in image pixels (-1, -1 when off the image),
    ``classPicked(id)`` from the picker, ``edited()`` after each completed gesture."""

    cursorMoved = QtCore.Signal(int, int)
    classPicked = QtCore.Signal(int)
    edited = QtCore.Signal()

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent, background=pg.mkColor(32, 33, 36))
        self.setMouseTracking(True)
        self.viewbox = _ToolViewBox(self)
        self.setCentralItem(self.viewbox)
        self.image_item = pg.ImageItem(axisOrder="row-major")
        self.image_item.setZValue(0)
        self.viewbox.addItem(self.image_item)
        self.mask_overlay = LabelOverlay(z=10)  # the fill, at the user's opacity
        self.viewbox.addItem(self.mask_overlay)
        self.mask_contour = ContourOverlay(opacity=1.0, z=11)  # region borders, (nearly) opaque
        self.viewbox.addItem(self.mask_contour)
        self._opacity = self.mask_overlay.opacity()
        self._overlay_visible = True
        self.contour_only = False
        # room for more layers (predictions, confidence) with z between 10 and 100
        self.brush_outline = QtWidgets.QGraphicsEllipseItem()
        pen = QtGui.QPen(QtGui.QColor(255, 255, 255, 220))
        pen.setCosmetic(True)
        pen.setWidthF(1.2)
        self.brush_outline.setPen(pen)
        self.brush_outline.setZValue(100)
        self.brush_outline.setVisible(False)
        self.viewbox.addItem(self.brush_outline, ignoreBounds=True)
        # a ring in the paint class's colour inside the white outline: which class is painted
        self.brush_class_ring = QtWidgets.QGraphicsEllipseItem(self.brush_outline)
        self.brush_class_ring.setPen(self._ring_pen((255, 255, 255)))
        self.polygon_preview = pg.PlotCurveItem(pen=pg.mkPen((255, 255, 0), width=1.5))
        self.polygon_preview.setZValue(101)
        self.viewbox.addItem(self.polygon_preview, ignoreBounds=True)
        self.model: MaskModel | None = None
        self._table = ClassTable([])
        self.driver = ToolDriver(MaskModel(np.zeros((1, 1), np.uint8)), ToolSettings(), self._picked)
        self._unsubscribe = None
        self._pixels: np.ndarray | None = None
        self._last_xy: tuple[float, float] | None = None
        self._editing_enabled = True

    # -- content ----------------------------------------------------------------
    @property
    def settings(self) -> ToolSettings:
        return self.driver.settings

    @property
    def pixels(self) -> np.ndarray | None:
        return self._pixels

    def set_table(self, table: ClassTable) -> None:
        self._table = table
        self.mask_overlay.set_table(table)
        self.mask_contour.set_table(table)
        self.set_label(self.settings.label)

    def set_hidden_classes(self, class_ids) -> None:
        """Leave these classes out of the mask overlay."""
        self.mask_overlay.set_hidden(class_ids)
        self.mask_contour.set_hidden(class_ids)

    def set_image(self, pixels: np.ndarray | None, model: MaskModel | None, fit: bool = True) -> None:
        """Show an image and edit ``model`` (both None: show nothing)."""
        self.driver.cancel()
        self._clear_preview()
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self._pixels = pixels
        self.model = model
        self.driver.image = pixels
        if pixels is None:
            self.image_item.clear()
            self._set_mask_labels(None)
            return
        if pixels.ndim == 2:
            self.image_item.setImage(pixels, levels=default_levels(pixels), autoLevels=False)
        else:
            rgb8 = pixels.dtype == np.uint8
            self.image_item.setImage(pixels, autoLevels=not rgb8, levels=(0, 255) if rgb8 else None)
        if model is not None:
            self.driver.set_model(model)
            self._set_mask_labels(model.labels)
            self._unsubscribe = model.subscribe(self._on_mask_change)
        else:
            self._set_mask_labels(None)
        if fit:
            self.fit()

    def _set_mask_labels(self, labels: np.ndarray | None) -> None:
        self.mask_overlay.set_labels(labels)
        self.mask_contour.set_labels(labels)

    def _on_mask_change(self, change: MaskChange) -> None:
        if change.reason == ChangeReason.RESET:
            self._set_mask_labels(self.model.labels if self.model else None)
        elif not change.rect.empty:
            self.mask_overlay.refresh_rect(change.rect)
            self.mask_contour.refresh_rect(change.rect)

    def set_prediction_source(self, classes: np.ndarray | None) -> None:
        """The predicted class map the accept brush and lasso copy (None: no prediction shown)."""
        self.driver.prediction = classes

    def set_levels(self, lo: float, hi: float) -> None:
        if self._pixels is not None and self._pixels.ndim == 2:
            self.image_item.setLevels((lo, hi))

    def set_overlay_opacity(self, opacity: float) -> None:
        """The fill's opacity; borders are drawn twice as strong (opaque from 0.5 up)."""
        self._opacity = float(opacity)
        self._show_overlay()

    def set_overlay_visible(self, visible: bool) -> None:
        self._overlay_visible = bool(visible)
        self._show_overlay()

    def set_contour_only(self, on: bool) -> None:
        """Draw the mask as region borders only (the image shows through every region)."""
        self.contour_only = bool(on)
        self._show_overlay()

    def _show_overlay(self) -> None:
        self.mask_overlay.setOpacity(self._opacity)
        self.mask_contour.setOpacity(min(1.0, 2 * self._opacity))
        self.mask_overlay.setVisible(self._overlay_visible and not self.contour_only)
        self.mask_contour.setVisible(self._overlay_visible)

    def fit(self) -> None:
        if self._pixels is not None:
            h, w = self._pixels.shape[:2]
            self.viewbox.setRange(QtCore.QRectF(0, 0, w, h), padding=0.02)

    def zoom(self, factor: float) -> None:
        """Zoom about the last cursor position (or the centre)."""
        center = None
        if self._last_xy is not None:
            center = QtCore.QPointF(*self._last_xy)
        self.viewbox.scaleBy((1 / factor, 1 / factor), center=center)

    # -- tools -------------------------------------------------------------------
    def set_tool(self, tool: Tool) -> None:
        self.driver.cancel()
        self._clear_preview()
        self.driver.settings.tool = tool
        self._update_outline()
        self.viewport().setCursor(
            QtCore.Qt.CursorShape.BlankCursor if tool in BRUSH_TOOLS else QtCore.Qt.CursorShape.CrossCursor)

    def set_brush_size(self, size: int) -> None:
        self.driver.settings.size = size
        self._update_outline()

    def set_label(self, label: int) -> None:
        self.driver.settings.label = label
        info = self._table.get(label)
        self.brush_class_ring.setPen(self._ring_pen(info.color if info is not None else (255, 255, 255)))

    @staticmethod
    def _ring_pen(rgb) -> QtGui.QPen:
        pen = QtGui.QPen(QtGui.QColor(*rgb))
        pen.setCosmetic(True)
        pen.setWidthF(2.0)
        return pen

    def set_tolerance(self, tolerance: float) -> None:
        self.driver.settings.tolerance = float(tolerance)

    def set_connectivity(self, connectivity: int) -> None:
        self.driver.settings.connectivity = int(connectivity)

    def set_paint_over(self, class_id: int | None) -> None:
        """Preserve labels: brush, fill, polygon and wand change only this class (None: any)."""
        self.driver.settings.paint_over = class_id

    def set_editing_enabled(self, enabled: bool) -> None:
        self._editing_enabled = enabled

    def wants_button(self, button: QtCore.Qt.MouseButton) -> bool:
        if self.model is None or not self._editing_enabled:
            return False
        if button == QtCore.Qt.MouseButton.LeftButton:
            return True
        return button == QtCore.Qt.MouseButton.RightButton and self.settings.tool == Tool.BRUSH

    def finish_gesture(self) -> None:
        self._show_feedback(self.driver.finish())
        self.edited.emit()

    def cancel_gesture(self) -> None:
        self.driver.cancel()
        self._clear_preview()

    def _picked(self, label: int) -> None:
        self.classPicked.emit(label)

    def _image_xy(self, pos: QtCore.QPointF) -> tuple[float, float]:
        p = self.viewbox.mapSceneToView(self.mapToScene(pos.toPoint()))
        return p.x(), p.y()

    def _send(self, kind: str, event: QtGui.QMouseEvent, button: str) -> ToolFeedback:
        x, y = self._image_xy(event.position())
        fb = self.driver.handle(PointerEvent(kind, x, y, button))
        self._show_feedback(fb)
        return fb

    def mousePressEvent(self, ev: QtGui.QMouseEvent) -> None:
        if self.wants_button(ev.button()):
            self._send("press", ev, _BUTTONS[ev.button()])
            ev.accept()
            return
        super().mousePressEvent(ev)

    def mouseDoubleClickEvent(self, ev: QtGui.QMouseEvent) -> None:
        if self.driver.busy:
            self._send("double", ev, _BUTTONS.get(ev.button(), "left"))
            self.edited.emit()
            ev.accept()
            return
        super().mouseDoubleClickEvent(ev)

    def mouseMoveEvent(self, ev: QtGui.QMouseEvent) -> None:
        x, y = self._image_xy(ev.position())
        self._last_xy = (x, y)
        self._move_outline(x, y)
        h, w = self.model.shape if self.model is not None else (0, 0)
        ix, iy = int(np.floor(x)), int(np.floor(y))
        inside = 0 <= ix < w and 0 <= iy < h
        self.cursorMoved.emit(ix if inside else -1, iy if inside else -1)
        if self.driver.busy:
            buttons = ev.buttons()
            button = "left" if buttons & QtCore.Qt.MouseButton.LeftButton else (
                "right" if buttons & QtCore.Qt.MouseButton.RightButton else "none")
            self._send("move", ev, button)
            ev.accept()
            return
        super().mouseMoveEvent(ev)

    def mouseReleaseEvent(self, ev: QtGui.QMouseEvent) -> None:
        if self.driver.busy and ev.button() in _BUTTONS:
            self._send("release", ev, _BUTTONS[ev.button()])
            if not self.driver.busy:
                self.edited.emit()
            ev.accept()
            return
        super().mouseReleaseEvent(ev)

    def leaveEvent(self, ev: QtCore.QEvent) -> None:
        self.brush_outline.setVisible(False)
        self.cursorMoved.emit(-1, -1)
        super().leaveEvent(ev)

    # -- feedback ------------------------------------------------------------------
    def _show_feedback(self, fb: ToolFeedback) -> None:
        if fb.polygon:
            pts = np.asarray(fb.polygon + fb.polygon[:1], dtype=float)
            self.polygon_preview.setData(pts[:, 0], pts[:, 1])
        else:
            self._clear_preview()

    def _clear_preview(self) -> None:
        self.polygon_preview.setData([], [])

    def _update_outline(self) -> None:
        if self._last_xy is not None:
            self._move_outline(*self._last_xy)

    def _move_outline(self, x: float, y: float) -> None:
        brushy = self.settings.tool in BRUSH_TOOLS and self.model is not None
        self.brush_outline.setVisible(brushy)
        if brushy:
            r = self.settings.radius
            self.brush_outline.setRect(QtCore.QRectF(x - r, y - r, 2 * r, 2 * r))
            self.brush_class_ring.setVisible(self.settings.tool == Tool.BRUSH)
            inner = max(r - 0.35, 0.1)  # just inside, in image pixels
            self.brush_class_ring.setRect(QtCore.QRectF(x - inner, y - inner, 2 * inner, 2 * inner))
