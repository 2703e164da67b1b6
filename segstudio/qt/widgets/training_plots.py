"""Live training plots (pyqtgraph): loss per batch/epoch, foreground mIoU beside pixel accuracy,
per-class IoU curves with a class picker or as a class x epoch heatmap, and the collapse banner.

Quality is per-class IoU and foreground mIoU over the whole validation split; pixel accuracy
and loss sit beside them so the user sees why accuracy misleads under imbalance. Batch points
arrive many times a second: they are buffered and drawn by a timer at most ~8 times a second.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from segstudio.core.classes import ClassTable
from segstudio.core.metrics import MIN_SCORED_PIXELS, too_few_to_score
from segstudio.qt.theme import PLOT_BACKGROUND

FG_PEN = pg.mkPen((80, 200, 120), width=2.5)
ACC_PEN = pg.mkPen((170, 170, 170), width=2, style=QtCore.Qt.PenStyle.DashLine)
BATCH_PEN = pg.mkPen((90, 140, 220, 150), width=1)
TRAIN_PEN = pg.mkPen((90, 140, 220), width=2.5)
VAL_PEN = pg.mkPen((240, 160, 60), width=2.5)
BANNER_STYLE = ("QLabel { background: #8a1c1c; color: white; font-weight: bold; padding: 6px 10px;"
                " border-radius: 4px; }")


def _plot(title: str, y_label: str = "", x_label: str = "epoch", tip: str = "") -> pg.PlotWidget:
    """A plot with a short title (it must fit a third of the panel) and the long story as a tooltip."""
    w = pg.PlotWidget(background=PLOT_BACKGROUND)
    w.setTitle(title, color="#d8d8d8", size="10pt")
    w.setToolTip(tip)
    w.showGrid(x=True, y=True, alpha=0.18)
    w.setLabel("bottom", x_label)
    if y_label:
        w.setLabel("left", y_label)
    for side in ("bottom", "left"):  # epochs and IoU in plain numbers: no "epoch (x0.001)" on a one-batch run
        w.getAxis(side).enableAutoSIPrefix(False)
    w.setMenuEnabled(False)
    w.setMinimumHeight(150)
    return w


def _symbol(pen: QtGui.QPen) -> dict:
    return {"symbol": "o", "symbolSize": 6, "symbolBrush": pen.color(), "symbolPen": None}


def iou_matrix(epochs: list[dict], num_classes: int) -> np.ndarray:
    """(classes, epochs) float array of per-class IoU, NaN where undefined."""
    m = np.full((num_classes, len(epochs)), np.nan)
    for j, e in enumerate(epochs):
        for c, v in enumerate(e.get("per_class_iou") or []):
            if c < num_classes and v is not None:
                m[c, j] = v
    return m


def heatmap_rgba(m: np.ndarray) -> np.ndarray:
    """IoU (classes, epochs) -> RGBA (classes, epochs, 4) for a row-major ImageItem:
    rows = classes (y), columns = epochs (x); viridis, undefined = dark grey."""
    lut = pg.colormap.get("viridis").getLookupTable(0.0, 1.0, 256, alpha=True)
    idx = np.clip(np.nan_to_num(m, nan=0.0) * 255, 0, 255).astype(np.uint8)
    rgba = lut[idx]
    rgba[np.isnan(m)] = (55, 55, 60, 255)
    return np.ascontiguousarray(rgba)  # (classes, epochs, 4): rows = classes


class TrainingPlots(QtWidgets.QWidget):
    """``reset(table)``, ``add_batch(...)``, ``add_epoch(dict)``, ``show_epochs(list)``, ``set_alarm(text)``."""

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.table = ClassTable([])
        self.epochs: list[dict] = []
        self.batch_x: list[float] = []
        self.batch_y: list[float] = []
        self._batch_dirty = False
        #: the alarm as shown (the training panel adds advice in its own field names)
        self.describe_alarm: Callable[[str], str] = lambda alarm: alarm
        self.banner = QtWidgets.QLabel()
        self.banner.setStyleSheet(BANNER_STYLE)
        self.banner.setWordWrap(True)
        self.banner.setVisible(False)

        self.loss_plot = _plot("Loss", "loss", tip="Training loss per batch (thin line); training and "
                               "validation loss per epoch (dots)")
        self.loss_plot.addLegend(offset=(-5, 5), labelTextSize="8pt")
        self.batch_curve = self.loss_plot.plot([], [], pen=BATCH_PEN, name="batch")
        self.train_curve = self.loss_plot.plot([], [], pen=TRAIN_PEN, name="train", **_symbol(TRAIN_PEN))
        self.val_curve = self.loss_plot.plot([], [], pen=VAL_PEN, name="validation", **_symbol(VAL_PEN))

        self.fg_plot = _plot("Foreground mIoU", "IoU", tip="Mean IoU of the foreground classes on the "
                             "validation split: the number that says whether the rare classes are learned")
        self.fg_plot.setYRange(0, 1.03, padding=0)
        self.fg_curve = self.fg_plot.plot([], [], pen=FG_PEN, **_symbol(FG_PEN))
        self.acc_plot = _plot("Pixel accuracy", "accuracy", tip="Pixel accuracy on the validation split: "
                              "misleading under imbalance (predicting background everywhere scores ~99%)")
        self.acc_plot.setYRange(0, 1.03, padding=0)
        self.acc_curve = self.acc_plot.plot([], [], pen=ACC_PEN, **_symbol(ACC_PEN))

        self.class_plot = _plot("IoU per class (validation)", "IoU", tip="Each class's IoU on the validation "
                                "split; pick the classes on the right (greyed: too few pixels to score)")
        self.class_plot.setYRange(0, 1.03, padding=0)
        self.class_curves: dict[int, pg.PlotDataItem] = {}
        self.class_list = QtWidgets.QListWidget()
        self.class_list.setMaximumWidth(230)
        self.class_list.setTextElideMode(QtCore.Qt.TextElideMode.ElideRight)  # the tooltip has the pixels
        self.class_list.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.class_list.itemChanged.connect(self._redraw_classes)
        self._val_pixels_shown: list[int] | None = None
        all_btn = QtWidgets.QPushButton("All")
        none_btn = QtWidgets.QPushButton("None")
        all_btn.clicked.connect(lambda: self._check_all(True))
        none_btn.clicked.connect(lambda: self._check_all(False))
        picker = QtWidgets.QVBoxLayout()
        picker.setContentsMargins(0, 0, 0, 0)
        picker.addWidget(self.class_list, 1)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(all_btn)
        row.addWidget(none_btn)
        picker.addLayout(row)
        curves_page = QtWidgets.QWidget()
        cl = QtWidgets.QHBoxLayout(curves_page)
        cl.setContentsMargins(0, 0, 0, 0)
        cl.addWidget(self.class_plot, 1)
        cl.addLayout(picker)

        self.heat_plot = _plot("IoU per class × epoch", "class id",
                               tip="viridis: IoU 0 purple → 1 yellow; grey: the class is absent from validation")
        self.heat_item = pg.ImageItem(axisOrder="row-major")
        self.heat_plot.addItem(self.heat_item)
        self.heat_plot.getViewBox().invertY(False)
        self.tabs = QtWidgets.QTabWidget()
        self.tabs.addTab(curves_page, "Per-class curves")
        self.tabs.addTab(self.heat_plot, "Heatmap")

        top = QtWidgets.QHBoxLayout()
        top.addWidget(self.loss_plot, 1)
        top.addWidget(self.fg_plot, 1)
        top.addWidget(self.acc_plot, 1)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.banner)
        lay.addLayout(top, 2)
        lay.addWidget(self.tabs, 3)  # the per-class curves are what matters: the most height

        self._timer = QtCore.QTimer(self)
        self._timer.setInterval(120)
        self._timer.timeout.connect(self._flush_batches)
        self._timer.start()

    # -- data in -------------------------------------------------------------------------
    def reset(self, table: ClassTable | None = None) -> None:
        if table is not None:
            checked = set(self.checked_classes()) if self.class_list.count() else None
            if table != self.table:  # colours may have changed: new curves
                for curve in self.class_curves.values():
                    self.class_plot.removeItem(curve)
                self.class_curves.clear()
            self.table = table
            self._fill_class_list(checked)
            self._val_pixels_shown = None
        self.epochs = []
        self.batch_x, self.batch_y = [], []
        self.set_alarm(None)
        self._redraw_epochs()
        self.batch_curve.setData([], [])

    def add_batch(self, epoch: int, step: int, steps: int, loss: float) -> None:
        self.batch_x.append(epoch - 1 + step / max(steps, 1))
        self.batch_y.append(loss)
        self._batch_dirty = True

    def add_epoch(self, report: dict) -> None:
        self.epochs.append(report)
        self.set_alarm(report.get("alarm"), report.get("epoch"))
        self.set_validation_pixels(report.get("val_pixels") or [])
        self._redraw_epochs()

    def set_validation_pixels(self, val_pixels: list[int]) -> None:
        """Each class's validation pixels in its legend entry; classes with too few to score
        are greyed (their IoU jumps between epochs on a handful of pixels)."""
        if not val_pixels:
            return
        if list(val_pixels) == self._val_pixels_shown:  # the same split every epoch: nothing to do
            return
        self._val_pixels_shown = list(val_pixels)
        few = too_few_to_score(val_pixels)
        grey = QtGui.QBrush(QtGui.QColor("#707070"))
        # each item change emits itemChanged (-> _redraw_classes, 32 curves): ~100 redraws,
        # over a second of GUI time per epoch report; one redraw after, by the caller
        self.class_list.blockSignals(True)
        try:
            for i in range(self.class_list.count()):
                it = self.class_list.item(i)
                cid = int(it.data(QtCore.Qt.ItemDataRole.UserRole))
                info = self.table.get(cid)
                n = int(val_pixels[cid]) if cid < len(val_pixels) else 0
                it.setText(f"{cid}  {info.name if info else cid}  ·  {n:,} px")
                if cid < len(few) and few[cid]:
                    it.setForeground(grey)
                    it.setToolTip(f"{n:,} validation pixels: too few to score (under {MIN_SCORED_PIXELS})")
                else:
                    it.setData(QtCore.Qt.ItemDataRole.ForegroundRole, None)
                    it.setToolTip(f"{n:,} validation pixels")
        finally:
            self.class_list.blockSignals(False)
        self.class_list.viewport().update()

    def show_epochs(self, epochs: list[dict], table: ClassTable | None = None) -> None:
        """Curves of a finished run (from the database): no batch points."""
        self.reset(table)
        self.epochs = list(epochs)
        if self.epochs:
            self.set_validation_pixels(self.epochs[-1].get("val_pixels") or [])
        last_alarm = next((e for e in reversed(self.epochs) if e.get("alarm")), None)
        if last_alarm is not None:
            self.set_alarm(last_alarm["alarm"], last_alarm.get("epoch"))
        self._redraw_epochs()

    def set_alarm(self, text: str | None, epoch: int | None = None) -> None:
        if not text:
            self.banner.setVisible(False)
            self.banner.setText("")
            return
        where = f" (epoch {epoch})" if epoch else ""
        self.banner.setText(f"⚠ Collapse alarm{where}: {self.describe_alarm(text)}")
        self.banner.setVisible(True)

    @property
    def alarm_visible(self) -> bool:
        return not self.banner.isHidden()

    # -- drawing -------------------------------------------------------------------------
    def _flush_batches(self) -> None:
        if not self._batch_dirty:
            return
        self._batch_dirty = False
        self.batch_curve.setData(np.asarray(self.batch_x), np.asarray(self.batch_y))

    def _series(self, key: str) -> tuple[np.ndarray, np.ndarray]:
        xs = [e["epoch"] for e in self.epochs if e.get(key) is not None]
        ys = [e[key] for e in self.epochs if e.get(key) is not None]
        return np.asarray(xs, float), np.asarray(ys, float)

    def _redraw_epochs(self) -> None:
        self.train_curve.setData(*self._series("train_loss"))
        self.val_curve.setData(*self._series("val_loss"))
        self.fg_curve.setData(*self._series("fg_miou"))
        self.acc_curve.setData(*self._series("pixel_accuracy"))
        self._flush_batches()
        self._redraw_classes()
        self._redraw_heatmap()

    def _fill_class_list(self, checked: set[int] | None = None) -> None:
        self.class_list.blockSignals(True)
        self.class_list.clear()
        for c in self.table:
            if c.ignore:
                continue
            item = QtWidgets.QListWidgetItem(f"{c.id}  {c.name}")
            item.setData(QtCore.Qt.ItemDataRole.UserRole, c.id)
            item.setFlags(item.flags() | QtCore.Qt.ItemFlag.ItemIsUserCheckable)
            on = checked is None or c.id in checked
            item.setCheckState(QtCore.Qt.CheckState.Checked if on else QtCore.Qt.CheckState.Unchecked)
            pm = QtGui.QPixmap(12, 12)
            pm.fill(QtGui.QColor(*c.color))
            item.setIcon(QtGui.QIcon(pm))
            self.class_list.addItem(item)
        self.class_list.blockSignals(False)

    def _check_all(self, on: bool) -> None:
        self.class_list.blockSignals(True)
        state = QtCore.Qt.CheckState.Checked if on else QtCore.Qt.CheckState.Unchecked
        for i in range(self.class_list.count()):
            self.class_list.item(i).setCheckState(state)
        self.class_list.blockSignals(False)
        self._redraw_classes()

    def checked_classes(self) -> list[int]:
        out = []
        for i in range(self.class_list.count()):
            it = self.class_list.item(i)
            if it.checkState() == QtCore.Qt.CheckState.Checked:
                out.append(int(it.data(QtCore.Qt.ItemDataRole.UserRole)))
        return out

    def set_checked_classes(self, ids: list[int]) -> None:
        self.class_list.blockSignals(True)
        for i in range(self.class_list.count()):
            it = self.class_list.item(i)
            on = int(it.data(QtCore.Qt.ItemDataRole.UserRole)) in ids
            it.setCheckState(QtCore.Qt.CheckState.Checked if on else QtCore.Qt.CheckState.Unchecked)
        self.class_list.blockSignals(False)
        self._redraw_classes()

    def _redraw_classes(self, *_args) -> None:
        n = max((len(e.get("per_class_iou") or []) for e in self.epochs), default=0)
        m = iou_matrix(self.epochs, n)
        x = np.asarray([e["epoch"] for e in self.epochs], float)
        wanted = set(self.checked_classes())
        for cid in list(self.class_curves):
            if cid not in wanted:
                self.class_plot.removeItem(self.class_curves.pop(cid))
        # curves are made when the classes are set (project open), not on the first epoch
        # report, where creating 32 at once stalled the GUI ~100 ms mid-run
        for cid in sorted(wanted):
            curve = self.class_curves.get(cid)
            if curve is None:
                info = self.table.get(cid)
                color = info.color if info else (200, 200, 200)
                # lines only: 32 curves with symbols cost ~70 ms per repaint
                curve = self.class_plot.plot([], [], pen=pg.mkPen(color, width=1.6), skipFiniteCheck=True)
                self.class_curves[cid] = curve
            if cid >= n:
                curve.setData([], [])
                continue
            ok = ~np.isnan(m[cid])
            curve.setData(x[ok], m[cid][ok])

    def _redraw_heatmap(self) -> None:
        n = max((len(e.get("per_class_iou") or []) for e in self.epochs), default=0)
        if not self.epochs or n == 0:
            self.heat_item.clear()
            return
        m = iou_matrix(self.epochs, n)
        self.heat_item.setImage(heatmap_rgba(m), autoLevels=False)
        # pixel (epoch j, class c) covers x in [j+0.5, j+1.5), y in [c-0.5, c+0.5)
        self.heat_item.setRect(QtCore.QRectF(0.5, -0.5, len(self.epochs), n))
        self.heat_plot.setXRange(0.5, len(self.epochs) + 0.5, padding=0)
        self.heat_plot.setYRange(-0.5, n - 0.5, padding=0)
