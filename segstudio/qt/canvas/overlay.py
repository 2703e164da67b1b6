"""Indexed class-map overlay: a uint8 class map + RGBA lookup table on its own ImageItem.

pyqtgraph turns a uint8 array with a <=256-row LUT into a ``QImage.Format_Indexed8`` that
*shares memory* with the array and carries the LUT as its colour table. So:

* a recolour is a new colour table (no pixel work);
* an edit changes the array in place, and :meth:`LabelOverlay.refresh_rect` only asks Qt
  to repaint that rectangle -- nothing else is re-rendered;
* :meth:`LabelOverlay.refresh_all` (image switch) re-wraps the whole array.

uint16 masks are shown through a uint8 copy (ids above 254 show as 255's colour) that is
updated rectangle by rectangle in the same way.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore

from segstudio.core.classes import ClassTable
from segstudio.core.editing import Rect


class LabelOverlay(pg.ImageItem):
    """Shows a label array through a class-table LUT (class 0 and ignore classes transparent)."""

    def __init__(self, opacity: float = 0.55, z: float = 10):
        super().__init__(axisOrder="row-major")
        self.setZValue(z)
        self.setOpacity(opacity)
        self._labels: np.ndarray | None = None
        self._display: np.ndarray | None = None  # what the QImage wraps
        self._lut = np.zeros((256, 4), np.uint8)

    @property
    def labels(self) -> np.ndarray | None:
        return self._labels

    def set_table(self, table: ClassTable, alpha: int = 255) -> None:
        self._lut = table.lut_rgba(256, alpha)
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
