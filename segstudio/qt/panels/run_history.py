"""Run history: past runs with their settings and best foreground mIoU, which one is the
active model (predictions and retraining use it); select one to see its curves and make it
the active model, select two to compare them. Fed by the LearningSession's ModelState."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from segstudio.qt.learning_session import ModelState
from segstudio.qt.theme import HINT_STYLE, PLOT_BACKGROUND
from segstudio.services.model_choice import has_model
from segstudio.services.training_setup import run_label

COLUMNS = ["Run", "Model", "Started", "Status", "Epochs", "Best fg mIoU", "Settings", "From"]
COMPARE_PENS = [pg.mkPen((80, 200, 120), width=2.5), pg.mkPen((240, 160, 60), width=2.5)]


def _item(text: str, sort_value=None) -> QtWidgets.QTableWidgetItem:
    it = QtWidgets.QTableWidgetItem(text)
    if sort_value is not None:
        it.setData(QtCore.Qt.ItemDataRole.UserRole, sort_value)
    it.setFlags(it.flags() & ~QtCore.Qt.ItemFlag.ItemIsEditable)
    return it


class RunHistory(QtWidgets.QWidget):
    """Requests: ``runsSelected(list of run ids)`` (the owner answers with
    :meth:`show_curves`), ``modelChosen(run id or None)`` (None: the best run)."""

    runsSelected = QtCore.Signal(list)
    modelChosen = QtCore.Signal(object)

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.state = ModelState()
        self.view = QtWidgets.QTableWidget(0, len(COLUMNS))
        self.view.setHorizontalHeaderLabels(COLUMNS)
        self.view.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.verticalHeader().setVisible(False)
        self.view.horizontalHeader().setStretchLastSection(False)
        self.view.itemSelectionChanged.connect(self._selection_changed)
        self.hint = QtWidgets.QLabel("Select a run to see its curves; select two (Ctrl+click) to compare them.")
        self.hint.setStyleSheet(HINT_STYLE)
        self.fg_plot = pg.PlotWidget(background=PLOT_BACKGROUND, title="Foreground mIoU per epoch")
        self.fg_plot.showGrid(x=True, y=True, alpha=0.18)
        self.fg_plot.setYRange(0, 1, padding=0.02)
        self.fg_plot.setLabel("bottom", "epoch")
        self.fg_plot.addLegend(offset=(5, 5), labelTextSize="8pt")
        self.class_plot = pg.PlotWidget(background=PLOT_BACKGROUND, title="Best IoU per class")
        self.class_plot.showGrid(y=True, alpha=0.18)
        self.class_plot.setYRange(0, 1, padding=0.02)
        self.class_plot.setLabel("bottom", "class id")
        for p in (self.fg_plot, self.class_plot):
            p.setMenuEnabled(False)
            p.setMinimumHeight(140)
        body = QtWidgets.QHBoxLayout()  # side by side: the dock is wide and short in the Train workspace
        body.addWidget(self.view, 3)
        body.addWidget(self.fg_plot, 2)
        body.addWidget(self.class_plot, 3)
        self.use_button = QtWidgets.QPushButton("Use for predictions")
        self.use_button.setToolTip("Make the selected run the active model: predictions and "
                                   "fine-tuning use it (remembered for this project)")
        self.use_button.clicked.connect(self._use_selected)
        self.auto_button = QtWidgets.QPushButton("Use the best run")
        self.auto_button.setToolTip("Let the active model follow the best finished run by "
                                    "validation foreground mIoU")
        self.auto_button.clicked.connect(lambda: self.modelChosen.emit(None))
        top = QtWidgets.QHBoxLayout()
        top.addWidget(self.hint, 1)
        top.addWidget(self.use_button)
        top.addWidget(self.auto_button)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addLayout(top)
        lay.addLayout(body, 1)

    def set_models(self, state: ModelState) -> None:
        """Show the runs, newest first, and mark the active model."""
        selected = self.selected_runs()
        self.state = state
        self.view.blockSignals(True)
        self.view.setRowCount(len(state.runs))
        active = state.active.id if state.active is not None else None
        for row, r in enumerate(reversed(state.runs)):
            best = "—" if r.best_fg_miou is None else f"{r.best_fg_miou:.3f}"
            started = r.created_at.strftime("%Y-%m-%d %H:%M") if r.created_at else ""
            model = ("● active" + (" (best)" if state.chosen_id is None else "")) if r.id == active \
                else ("" if has_model(r) else "none")
            n_epochs = r.config.get("epochs", "?")
            cells = [_item(str(r.id), r.id), _item(model), _item(started), _item(r.status),
                     _item(f"{state.epochs_done.get(r.id, 0)}/{n_epochs}"), _item(best),
                     _item(run_label(r.config)), _item(str(r.parent_run_id or ""))]
            cells[6].setToolTip(r.message or "")
            if r.id == active:
                font = cells[1].font()
                font.setBold(True)
                cells[1].setFont(font)
            for col, it in enumerate(cells):
                self.view.setItem(row, col, it)
        self.view.resizeColumnsToContents()
        self.view.blockSignals(False)
        self.select_runs(selected, emit=False)
        self._update_buttons()

    def selected_runs(self) -> list[int]:
        rows = sorted({i.row() for i in self.view.selectedIndexes()})
        return [int(self.view.item(r, 0).data(QtCore.Qt.ItemDataRole.UserRole)) for r in rows]

    def select_runs(self, run_ids: list[int], emit: bool = True) -> None:
        self.view.blockSignals(not emit)
        self.view.clearSelection()
        mode = QtCore.QItemSelectionModel.SelectionFlag.Select | QtCore.QItemSelectionModel.SelectionFlag.Rows
        for row in range(self.view.rowCount()):
            if int(self.view.item(row, 0).data(QtCore.Qt.ItemDataRole.UserRole)) in run_ids:
                self.view.selectionModel().select(self.view.model().index(row, 0), mode)
        self.view.blockSignals(False)
        if emit:
            self._selection_changed()

    def _selection_changed(self) -> None:
        self._update_buttons()
        ids = self.selected_runs()[:2]
        if not ids:
            self.show_curves({})
        self.runsSelected.emit(ids)

    def _update_buttons(self) -> None:
        ids = self.selected_runs()
        active = self.state.active.id if self.state.active is not None else None
        usable = {r.id for r in self.state.model_runs}
        self.use_button.setEnabled(len(ids) == 1 and ids[0] in usable and ids[0] != active)
        self.auto_button.setEnabled(self.state.chosen_id is not None)

    def _use_selected(self) -> None:
        ids = self.selected_runs()
        if len(ids) == 1:
            self.modelChosen.emit(ids[0])

    def show_curves(self, runs: dict[int, list[dict]]) -> None:
        """Foreground mIoU per epoch and best IoU per class of one or two runs."""
        self.fg_plot.clear()
        self.class_plot.clear()
        if not runs:
            return
        width = 0.8 / len(runs)
        for k, (run_id, epochs) in enumerate(runs.items()):
            pen = COMPARE_PENS[k % len(COMPARE_PENS)]
            xs = [e["epoch"] for e in epochs if e["fg_miou"] is not None]
            ys = [e["fg_miou"] for e in epochs if e["fg_miou"] is not None]
            self.fg_plot.plot(xs, ys, pen=pen, symbol="o", symbolSize=5, symbolBrush=pen.color(), name=f"run {run_id}")
            best = best_per_class(epochs)
            if best.size:
                x = np.arange(best.size) - 0.4 + width * (k + 0.5)
                ok = ~np.isnan(best)
                self.class_plot.addItem(pg.BarGraphItem(x=x[ok], height=best[ok], width=width * 0.9,
                                                        brush=pen.color(), pen=None))

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
