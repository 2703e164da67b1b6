"""Statistics panel: per-class pixels on a log scale, images per class, and the class
weights of a chosen scheme with each class's resulting share of the loss -- the same
chart and computation as the training panel's (widgets.loss_share_chart). Counts come
from ``set_data``; the weights from ``set_weight_preview``, answering ``weightsRequested``."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from segstudio.core.classes import ClassTable
from segstudio.core.weights import SCHEMES
from segstudio.qt.panels.class_panel import format_share, human_count
from segstudio.qt.theme import HINT_STYLE, WARNING_COLOR
from segstudio.qt.widgets.loss_share_chart import draw_loss_shares
from segstudio.services.training_setup import DEFAULT_CLIP, DEFAULT_SCHEME

if TYPE_CHECKING:  # panels get data, they never open the store
    from segstudio.store.project import ClassTotals


class Log10Axis(pg.AxisItem):
    """Axis whose values are log10(x): ticks read 1, 10, 100, 1k, ... (or percentages)."""

    def __init__(self, *args, percent: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.percent = percent

    def tickValues(self, minVal, maxVal, size):
        lo, hi = math.floor(minVal), math.ceil(maxVal)
        step = max(1, math.ceil((hi - lo) / max(size / 22, 1)))  # every decade, or every n-th if crowded
        return [(float(step), [float(v) for v in range(lo, hi + 1, step)])]

    def tickStrings(self, values, scale, spacing):
        out = []
        for v in values:
            x = 10.0 ** v
            out.append(f"{x:g}%" if self.percent else human_count(x))
        return out


class ClassAxis(pg.AxisItem):
    """Bottom axis labelled with class ids (every n-th when crowded)."""

    def tickValues(self, minVal, maxVal, size):
        n = max(1, int((maxVal - minVal) / max(size / 22, 1)) + 1)
        first = max(0, math.ceil(minVal))
        return [(float(n), [float(v) for v in range(first, int(maxVal) + 1, n)])]

    def tickStrings(self, values, scale, spacing):
        return [str(int(v)) for v in values]


def _plot(title: str | None, left: pg.AxisItem | None = None) -> pg.PlotWidget:
    axes = {"bottom": ClassAxis("bottom")}
    if left is not None:
        axes["left"] = left
    w = pg.PlotWidget(axisItems=axes, background=None)
    if title:
        w.setTitle(title, size="9pt")
    w.setMenuEnabled(False)
    w.setMouseEnabled(x=False, y=False)
    w.hideButtons()
    w.showGrid(y=True, alpha=0.15)
    w.setMinimumHeight(110)
    return w


def _bar_brushes(table: ClassTable, ids: np.ndarray) -> list[QtGui.QBrush]:
    out = []
    for i in ids:
        c = table.get(int(i))
        rgb = c.color if c is not None and c.id != 0 else (150, 150, 150)
        out.append(pg.mkBrush(*rgb))
    return out


class StatsPanel(QtWidgets.QWidget):
    """Requests ``weightsRequested(scheme, clip)``: answer with :meth:`set_weight_preview`."""

    weightsRequested = QtCore.Signal(str, float)

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.table = ClassTable([])
        self.totals: ClassTotals | None = None
        self.pixels_plot = _plot(None, Log10Axis("left"))
        self.images_plot = _plot(None)
        self.loss_plot = _plot("Share of the loss: unweighted (grey) vs weighted", Log10Axis("left", percent=True))
        self.summary = QtWidgets.QLabel()
        self.summary.setWordWrap(True)
        counts_tabs = QtWidgets.QTabWidget()
        counts_tabs.addTab(self.pixels_plot, "Pixels per class (log scale)")
        counts_tabs.addTab(self.images_plot, "Images containing each class")
        self.scheme_combo = QtWidgets.QComboBox()
        for name, text in SCHEMES.items():
            self.scheme_combo.addItem(name, name)
            self.scheme_combo.setItemData(self.scheme_combo.count() - 1, text, QtCore.Qt.ItemDataRole.ToolTipRole)
        self.scheme_combo.setCurrentIndex(max(self.scheme_combo.findData(DEFAULT_SCHEME), 0))
        self.clip_spin = QtWidgets.QDoubleSpinBox()
        self.clip_spin.setRange(0, 1e6)
        self.clip_spin.setDecimals(0)
        self.clip_spin.setValue(DEFAULT_CLIP)
        self.clip_spin.setSpecialValueText("no clip")
        self.clip_spin.setToolTip("Cap every weight at this multiple of the smallest non-zero weight")
        self.scheme_note = QtWidgets.QLabel()
        self.scheme_note.setWordWrap(True)
        self.scheme_note.setStyleSheet(HINT_STYLE)
        self.weights_table = QtWidgets.QTableWidget(0, 4)
        self.weights_table.setHorizontalHeaderLabels(["Class", "Weight", "Loss share", "Unweighted"])
        self.weights_table.verticalHeader().hide()
        self.weights_table.verticalHeader().setDefaultSectionSize(20)
        self.weights_table.horizontalHeader().setStretchLastSection(True)
        self.weights_table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        weight_tabs = QtWidgets.QTabWidget()
        weight_tabs.addTab(self.loss_plot, "Loss share")
        weight_tabs.addTab(self.weights_table, "Weights")
        controls = QtWidgets.QHBoxLayout()
        controls.addWidget(QtWidgets.QLabel("Weights:"))
        controls.addWidget(self.scheme_combo)
        controls.addWidget(QtWidgets.QLabel("clip"))
        controls.addWidget(self.clip_spin)
        controls.addStretch(1)
        right = QtWidgets.QVBoxLayout()
        right.addLayout(controls)
        right.addWidget(self.scheme_note)
        right.addWidget(weight_tabs, 1)
        left = QtWidgets.QVBoxLayout()
        left.addWidget(self.summary)
        left.addWidget(counts_tabs, 1)
        lay = QtWidgets.QHBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addLayout(left, 1)
        lay.addLayout(right, 1)
        self.scheme_combo.currentIndexChanged.connect(self.request_weights)
        self.clip_spin.valueChanged.connect(self.request_weights)
        self.weights: np.ndarray = np.zeros(0)
        self.shares: np.ndarray = np.zeros(0)

    @property
    def scheme(self) -> str:
        return self.scheme_combo.currentData()

    def set_data(self, table: ClassTable, totals: ClassTotals | None) -> None:
        self.table, self.totals = table, totals
        self._redraw_counts()
        self.request_weights()

    def request_weights(self) -> None:
        self.weightsRequested.emit(self.scheme or "", float(self.clip_spin.value()))

    def _ids(self) -> np.ndarray:
        return np.array([c.id for c in self.table if not c.ignore], dtype=int)

    def _redraw_counts(self) -> None:
        self.pixels_plot.clear()
        self.images_plot.clear()
        t = self.totals
        if t is None or not len(self.table):
            self.summary.setText("No statistics yet.")
            return
        ids = self._ids()
        ids = ids[ids < t.pixels.size]
        pixels = t.pixels[ids].astype(float)
        total = pixels.sum()
        present = pixels > 0
        heights = np.where(present, np.log10(np.maximum(pixels, 1)), 0)
        self.pixels_plot.addItem(pg.BarGraphItem(x=ids, height=heights, y0=0, width=0.8,
                                                 brushes=_bar_brushes(self.table, ids), pen=pg.mkPen(60, 60, 60)))
        self.pixels_plot.setYRange(0, max(1.0, float(heights.max(initial=0))) + 0.3, padding=0)
        self.pixels_plot.setXRange(ids.min(initial=0) - 0.7, ids.max(initial=0) + 0.7, padding=0)
        images = t.images[ids].astype(float)
        self.images_plot.addItem(pg.BarGraphItem(x=ids, height=images, width=0.8,
                                                 brushes=_bar_brushes(self.table, ids), pen=pg.mkPen(60, 60, 60)))
        self.images_plot.setXRange(ids.min(initial=0) - 0.7, ids.max(initial=0) + 0.7, padding=0)
        fg = total - (pixels[ids == 0].sum() if (ids == 0).any() else 0)
        rarest = ""
        if present.any():
            k = int(np.argmin(np.where(present, pixels, np.inf)))
            rarest = f" Rarest class: {ids[k]} ({format_share(pixels[k] / total)})."
        missing = int((~present & (ids != 0)).sum())
        self.summary.setText(
            f"<b>{t.n_labelled}</b> of {t.n_images} images labelled · "
            f"background <b>{format_share(1 - fg / total) if total else '—'}</b> of pixels.{rarest}"
            + (f" <span style='color:{WARNING_COLOR}'>{missing} class{'es have' if missing > 1 else ' has'} no pixels.</span>" if missing else "")
        )

    def set_weight_preview(self, pv, problem: str = "") -> None:  # WeightPreview | None
        """Class weights on the training split and each class's share of the loss."""
        self.scheme_note.setText(problem or SCHEMES.get(self.scheme, ""))
        draw_loss_shares(self.loss_plot, pv, self.table)
        if pv is None or not pv.ids.size:
            self.weights, self.shares = np.zeros(0), np.zeros(0)
            self.weights_table.setRowCount(0)
            return
        w, unweighted, ids = pv.weights, pv.unweighted, pv.ids
        self.weights, self.shares = w, pv.shares
        self.weights_table.setRowCount(len(ids))
        for row, cid in enumerate(ids):
            c = self.table.get(int(cid))
            values = [f"{cid} {c.name if c else ''}", f"{w[cid]:.3g}", format_share(self.shares[cid]),
                      format_share(unweighted[cid])]
            for col, v in enumerate(values):
                item = QtWidgets.QTableWidgetItem(v)
                if col:
                    item.setTextAlignment(QtCore.Qt.AlignmentFlag.AlignRight | QtCore.Qt.AlignmentFlag.AlignVCenter)
                self.weights_table.setItem(row, col, item)
        self.weights_table.resizeColumnsToContents()
