"""Indexed class-map overlay: a uint8 class map + RGBA lookup table on its own ImageItem.

pyqtgraph turns a uint8 array with a <=256-row LUT into a ``QImage.Format_Indexed8`` that
*shares memory* with the array and carries the LUT as its colour table. So:

* a recolour is a new colour table (no pixel work);
* an edit changes the array in place, and :meth:`LabelOverlay.refresh_rect` only asks Qt
  to repaint that rectangle -- nothing else is re-rendered;
* :meth:`LabelOverlay.refresh_all` (image switch) re-wraps the whole array.

uint16 masks are shown through a uint8 copy (ids above 254 show as 255's colour) that is
updated rectangle by rectangle in the same way.

Hidden classes are rows of the LUT made transparent (no pixel work either).
:class:`ContourOverlay` draws only the region borders of a label array, opaque: the mask is
a fill at the user's opacity plus this contour, so each class keeps one recognisable colour
on its border whatever the image beneath (alpha blending alone turns a red fill pink over
bright pixels and crimson over dark ones); napari and labelme draw labels the same way.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore

from segstudio.core.classes import ClassTable
from segstudio.core.editing import Rect
from segstudio.core.review import outline


class LabelOverlay(pg.ImageItem):
    """Shows a label array through a class-table LUT (class 0 and ignore classes transparent)."""

    def __init__(self, opacity: float = 0.55, z: float = 10):
        super().__init__(axisOrder="row-major")
        self.setZValue(z)
        self.setOpacity(opacity)
        self._labels: np.ndarray | None = None
        self._display: np.ndarray | None = None  # what the QImage wraps
        self._table_lut = np.zeros((256, 4), np.uint8)  # the class table's colours
        self._lut = self._table_lut  # what is drawn: hidden classes transparent
        self._hidden: frozenset[int] = frozenset()

    @property
    def labels(self) -> np.ndarray | None:
        return self._labels

    @property
    def colours(self) -> np.ndarray:
        """The (256, 4) RGBA table drawn (hidden classes with alpha 0)."""
        return self._lut

    def set_table(self, table: ClassTable, alpha: int = 255) -> None:
        self._table_lut = table.lut_rgba(256, alpha)
        self._apply_lut()

    def set_hidden(self, class_ids) -> None:
        """Draw these classes transparent (a colour-table change)."""
        self._hidden = frozenset(int(i) for i in class_ids)
        self._apply_lut()

    def _apply_lut(self) -> None:
        lut = self._table_lut.copy()
        rows = [i for i in self._hidden if 0 <= i < len(lut)]
        lut[rows, 3] = 0
        self._lut = lut
        if self._display is not None:
            self.setLookupTable(self._lut, update=True)

    def set_labels(self, labels: np.ndarray | None) -> None:
        """Show a new label array (the overlay keeps a reference, not a copy, for uint8)."""
        self._labels = labels
        if labels is None:
            self._display = None
            self.clear()
            return
        self.refresh_all()

    def refresh_all(self) -> None:
        """Re-render the whole overlay (image switch, undo of a huge fill...)."""
        labels = self._labels
        if labels is None:
            return
        if labels.dtype == np.uint8:
            self._display = labels
        else:
            self._display = np.minimum(labels, 255).astype(np.uint8)
        self.setImage(self._display, lut=self._lut, levels=None, autoLevels=False)

    def refresh_rect(self, rect: Rect) -> None:
        """The labels changed inside ``rect`` only: repaint just that part."""
        if self._labels is None or rect.empty:
            return
        if self._display is not self._labels:
            rows, cols = rect.slices
            np.minimum(self._labels[rows, cols], 255, out=self._display[rows, cols], casting="unsafe")
        # the QImage wraps self._display: no re-render, only a repaint of the rectangle
        self.update(QtCore.QRectF(rect.left, rect.top, rect.width, rect.height))


class ContourOverlay(LabelOverlay):
    """The borders of a label array's regions, each in its class colour (a pixel is on a
    border when a 4-neighbour differs; inside pixels are 0, transparent). It keeps its own
    uint8 border map and updates only around a changed rectangle."""

    def refresh_all(self) -> None:
        labels = self._labels
        if labels is None:
            return
        self._display = np.minimum(outline(labels), 255).astype(np.uint8)
        self.setImage(self._display, lut=self._lut, levels=None, autoLevels=False)

    def refresh_rect(self, rect: Rect) -> None:
        if self._labels is None or self._display is None or rect.empty:
            return
        shape = self._labels.shape
        near = Rect(rect.top - 1, rect.left - 1, rect.bottom + 1, rect.right + 1).clip(shape)  # may change
        ctx = Rect(near.top - 1, near.left - 1, near.bottom + 1, near.right + 1).clip(shape)  # their neighbours
        edges = outline(self._labels[ctx.slices])
        inner = edges[near.top - ctx.top: near.bottom - ctx.top, near.left - ctx.left: near.right - ctx.left]
        np.minimum(inner, 255, out=self._display[near.slices], casting="unsafe")
        self.update(QtCore.QRectF(near.left, near.top, near.width, near.height))
