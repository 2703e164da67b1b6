"""The loss-share chart both the statistics and the training panel show: per class, its
share of the unweighted loss (grey) beside its share of the weighted loss (its colour),
on a log-percent scale. Both draw a ``services.training_setup.WeightPreview`` -- one
computation (training split, the scheme and clip chosen) behind both pictures."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from segstudio.core.classes import ClassTable
from segstudio.qt.theme import NEUTRAL_BAR
from segstudio.services.training_setup import WeightPreview

#: the lowest share drawn: 0.0001 % (log10 of a percentage)
FLOOR = -4.0


class LossShareChart(pg.PlotWidget):
    """A fixed picture, not an explorer: no mouse zoom or pan, and the wheel goes on to the
    widget around it (the training form scrolls instead of the chart zooming)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.setMenuEnabled(False)
        self.setMouseEnabled(x=False, y=False)
        self.hideButtons()

    def wheelEvent(self, ev: QtGui.QWheelEvent) -> None:
        """Scroll the scroll area around the chart (Qt does not pass the wheel on by itself
        from a widget that ignores it unless the event came from the window system)."""
        area = self.parentWidget()
        while area is not None and not isinstance(area, QtWidgets.QAbstractScrollArea):
            area = area.parentWidget()
        if area is None:
            ev.ignore()
            return
        pos = QtCore.QPointF(self.viewport().mapTo(area.viewport(), ev.position().toPoint()))
        QtCore.QCoreApplication.sendEvent(area.viewport(), QtGui.QWheelEvent(
            pos, ev.globalPosition(), ev.pixelDelta(), ev.angleDelta(), ev.buttons(), ev.modifiers(),
            ev.phase(), ev.inverted()))
        ev.accept()


def log_percent(shares: np.ndarray) -> np.ndarray:
    """log10 of a share in percent, at least FLOOR (zero shares sit on the floor)."""
    return np.where(shares > 0, np.maximum(np.log10(np.maximum(shares, 1e-12) * 100), FLOOR), FLOOR)


def class_brushes(table: ClassTable, ids: np.ndarray) -> list:
    out = []
    for i in ids:
        c = table.get(int(i))
        out.append(pg.mkBrush(*(c.color if c is not None and c.id != 0 else (150, 150, 150))))
    return out


def draw_loss_shares(plot: pg.PlotWidget, pv: WeightPreview | None, table: ClassTable) -> None:
    """Clear ``plot`` and draw ``pv`` (nothing when there is no preview)."""
    plot.clear()
    if pv is None or not pv.ids.size:
        return
    ids = pv.ids
    plot.addItem(pg.BarGraphItem(x=ids - 0.2, height=log_percent(pv.unweighted[ids]) - FLOOR, y0=FLOOR,
                                 width=0.4, brush=pg.mkBrush(*NEUTRAL_BAR), pen=None))
    plot.addItem(pg.BarGraphItem(x=ids + 0.2, height=log_percent(pv.shares[ids]) - FLOOR, y0=FLOOR,
                                 width=0.4, brushes=class_brushes(table, ids), pen=None))
    plot.setYRange(FLOOR, 2.05, padding=0)
    plot.setXRange(ids.min() - 0.7, ids.max() + 0.7, padding=0)
