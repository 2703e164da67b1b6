"""Run history from the project database: past runs with their settings and best foreground
mIoU; select one to see its curves, select two to compare them."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from segstudio.core.classes import ClassTable
from segstudio.qt.errors import ErrorReporter
from segstudio.services.training_setup import run_label
from segstudio.store.project import Project

COLUMNS = ["Run", "Started", "Status", "Epochs", "Best fg mIoU", "Settings", "From"]
COMPARE_PENS = [pg.mkPen((80, 200, 120), width=2.5), pg.mkPen((240, 160, 60), width=2.5)]


def epoch_dicts(project: Project, run_id: int) -> list[dict]:
    """A run's epochs as the plain dicts the plots take."""
    return [
        {"epoch": e.epoch, "epochs": None, "train_loss": e.train_loss, "val_loss": e.val_loss,
         "per_class_iou": list(e.per_class_iou), "fg_miou": e.fg_miou, "pixel_accuracy": e.pixel_accuracy,
         "alarm": e.alarm, "seconds": e.seconds}
        for e in project.epochs(run_id)
    ]


def _item(text: str, sort_value=None) -> QtWidgets.QTableWidgetItem:  # noqa: ANN001
    it = QtWidgets.QTableWidgetItem(text)
    if sort_value is not None:
        it.setData(QtCore.Qt.ItemDataRole.UserRole, sort_value)
    it.setFlags(it.flags() & ~QtCore.Qt.ItemFlag.ItemIsEditable)
    return it


class RunHistory(QtWidgets.QWidget):
    """Signals ``runSelected(run_id, epochs)`` for one selected run."""

    runSelected = QtCore.Signal(int, list)

    def __init__(self, errors: ErrorReporter, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.errors = errors
        self.project: Project | None = None
        self.table_classes = ClassTable([])
        self.view = QtWidgets.QTableWidget(0, len(COLUMNS))
        self.view.setHorizontalHeaderLabels(COLUMNS)
        self.view.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.verticalHeader().setVisible(False)
        self.view.horizontalHeader().setStretchLastSection(False)
        self.view.itemSelectionChanged.connect(self._selection_changed)
        self.hint = QtWidgets.QLabel("Select a run to see its curves; select two (Ctrl+click) to compare them.")
        self.hint.setStyleSheet("color: #a0a0a0")
        self.fg_plot = pg.PlotWidget(background=(28, 29, 33), title="Foreground mIoU per epoch")
        self.fg_plot.showGrid(x=True, y=True, alpha=0.18)
        self.fg_plot.setYRange(0, 1, padding=0.02)
        self.fg_plot.setLabel("bottom", "epoch")
        self.fg_plot.addLegend(offset=(5, 5), labelTextSize="8pt")
        self.class_plot = pg.PlotWidget(background=(28, 29, 33), title="Best IoU per class")
        self.class_plot.showGrid(y=True, alpha=0.18)
        self.class_plot.setYRange(0, 1, padding=0.02)
        self.class_plot.setLabel("bottom", "class id")
        for p in (self.fg_plot, self.class_plot):
            p.setMenuEnabled(False)
            p.setMinimumHeight(140)
        plots = QtWidgets.QHBoxLayout()
        plots.addWidget(self.fg_plot, 1)
        plots.addWidget(self.class_plot, 2)
        self.refresh_button = QtWidgets.QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.refresh)
        top = QtWidgets.QHBoxLayout()
        top.addWidget(self.hint, 1)
        top.addWidget(self.refresh_button)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addLayout(top)
        lay.addWidget(self.view, 1)
        lay.addLayout(plots, 1)

    def set_project(self, project: Project | None, table: ClassTable | None = None) -> None:
        self.project = project
        self.table_classes = table or ClassTable([])
        self.refresh()

    def refresh(self) -> None:
        self.view.setRowCount(0)
        if self.project is None:
            return
        try:
            runs = self.project.runs()
            n_epochs = {r.id: len(self.project.epochs(r.id)) for r in runs}
        except Exception as e:  # noqa: BLE001
            self.errors.report("Run history", e)
            return
        self.view.setRowCount(len(runs))
        for row, r in enumerate(reversed(runs)):
            best = "—" if r.best_fg_miou is None else f"{r.best_fg_miou:.3f}"
            started = r.created_at.strftime("%Y-%m-%d %H:%M") if r.created_at else ""
            cells = [_item(str(r.id), r.id), _item(started), _item(r.status),
                     _item(f"{n_epochs[r.id]}/{r.config.get('epochs', '?')}"), _item(best),
                     _item(run_label(r.config)), _item(str(r.parent_run_id or ""))]
            cells[5].setToolTip(r.message or "")
            for col, it in enumerate(cells):
                self.view.setItem(row, col, it)
        self.view.resizeColumnsToContents()

    def selected_runs(self) -> list[int]:
        rows = sorted({i.row() for i in self.view.selectedIndexes()})
        return [int(self.view.item(r, 0).data(QtCore.Qt.ItemDataRole.UserRole)) for r in rows]

    def select_runs(self, run_ids: list[int]) -> None:
        self.view.clearSelection()
        mode = QtCore.QItemSelectionModel.SelectionFlag.Select | QtCore.QItemSelectionModel.SelectionFlag.Rows
        for row in range(self.view.rowCount()):
            if int(self.view.item(row, 0).data(QtCore.Qt.ItemDataRole.UserRole)) in run_ids:
                self.view.selectionModel().select(self.view.model().index(row, 0), mode)

    def _selection_changed(self) -> None:
        ids = self.selected_runs()[:2]
        self.fg_plot.clear()
        self.class_plot.clear()
        if self.project is None or not ids:
            return
        try:
            runs = {i: epoch_dicts(self.project, i) for i in ids}
        except Exception as e:  # noqa: BLE001
            self.errors.report("Run history", e)
            return
        width = 0.8 / len(ids)
        for k, (run_id, epochs) in enumerate(runs.items()):
            pen = COMPARE_PENS[k]
            xs = [e["epoch"] for e in epochs if e["fg_miou"] is not None]
            ys = [e["fg_miou"] for e in epochs if e["fg_miou"] is not None]
            self.fg_plot.plot(xs, ys, pen=pen, symbol="o", symbolSize=5, symbolBrush=pen.color(), name=f"run {run_id}")
            best = best_per_class(epochs)
            if best.size:
                x = np.arange(best.size) - 0.4 + width * (k + 0.5)
                ok = ~np.isnan(best)
                self.class_plot.addItem(pg.BarGraphItem(x=x[ok], height=best[ok], width=width * 0.9,
                                                        brush=pen.color(), pen=None))
        if len(ids) == 1:
            self.runSelected.emit(ids[0], runs[ids[0]])

    def compared(self) -> int:
        """How many runs the compare plots show (tests)."""
        return len([i for i in self.fg_plot.listDataItems()])


def best_per_class(epochs: list[dict]) -> np.ndarray:
    """Best IoU each class reached over a run's epochs (NaN: never defined)."""
    n = max((len(e.get("per_class_iou") or []) for e in epochs), default=0)
    best = np.full(n, np.nan)
    for e in epochs:
        for c, v in enumerate(e.get("per_class_iou") or []):
            if v is not None:
                best[c] = v if np.isnan(best[c]) else max(best[c], v)
    return best
