"""The review queue: predicted images ranked by how unsure the model is about rare classes
(mean 1 - confidence over pixels predicted rare) plus its disagreement with the mask on
rare-class pixels -- the images worth correcting first. A prediction the active model did
not make is marked out of date. Fed by the LearningSession (``set_items``)."""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

from segstudio.core.text import counted
from segstudio.qt.theme import HINT_STYLE, WARNING_COLOR
from segstudio.services.prediction_cache import QueueItem

COLUMNS = ["#", "Image", "Model", "Score", "Rare uncertainty", "Disagreement", "Rare px", "Status"]
MODEL_COLUMN = COLUMNS.index("Model")
STALE = "out of date"


class ReviewQueue(QtWidgets.QWidget):
    """Requests: ``imageChosen(image_id)`` (double-click, Enter or 'Next to correct'),
    ``includeCorrectedToggled(bool)``."""

    imageChosen = QtCore.Signal(int)
    includeCorrectedToggled = QtCore.Signal(bool)

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.items: list[QueueItem] = []
        self.current_id: int | None = None
        self.view = QtWidgets.QTableWidget(0, len(COLUMNS))
        self.view.setHorizontalHeaderLabels(COLUMNS)
        self.view.verticalHeader().setVisible(False)
        self.view.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.cellActivated.connect(lambda row, _c: self._choose_row(row))
        self.view.cellDoubleClicked.connect(lambda row, _c: self._choose_row(row))
        self.next_button = QtWidgets.QPushButton("Next to correct ▶")
        self.next_button.setToolTip("Open the highest-ranked image that is not the current one")
        self.next_button.clicked.connect(self.next_image)
        self.show_corrected = QtWidgets.QCheckBox("include corrected")
        self.show_corrected.toggled.connect(self.includeCorrectedToggled)
        self.summary = QtWidgets.QLabel("")
        self.summary.setStyleSheet(HINT_STYLE)
        top = QtWidgets.QHBoxLayout()
        top.addWidget(self.next_button)
        top.addWidget(self.show_corrected)
        top.addWidget(self.summary, 1)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addLayout(top)
        lay.addWidget(self.view, 1)

    def set_current(self, image_id: int | None) -> None:
        self.current_id = image_id

    def set_items(self, items: list[QueueItem]) -> None:
        self.items = list(items)
        self.view.setRowCount(len(self.items))
        for row, it in enumerate(self.items):
            dis = "—" if it.disagreement is None else f"{it.disagreement:.1%}"
            values = [str(row + 1), it.name, f"run {it.run_id}" + ("" if it.current else f" · {STALE}"),
                      f"{it.score:.3f}", f"{it.rare_uncertainty:.3f}", dis, f"{it.rare_pixels:,}", it.status]
            for col, v in enumerate(values):
                cell = QtWidgets.QTableWidgetItem(v)
                if col in (0, 3, 4, 5, 6):
                    cell.setTextAlignment(QtCore.Qt.AlignmentFlag.AlignRight | QtCore.Qt.AlignmentFlag.AlignVCenter)
                if col == MODEL_COLUMN and not it.current:
                    cell.setForeground(QtGui.QColor(WARNING_COLOR))
                    cell.setToolTip("Predicted by another run than the active model: predict again")
                self.view.setItem(row, col, cell)
        self.view.resizeColumnsToContents()
        stale = sum(not it.current for it in self.items)
        self.summary.setText(
            (f"{counted(len(self.items), 'predicted image')} to review"
             + (f" · {stale} {STALE}" if stale else "")) if self.items else "Predict images to fill the queue.")
        self.next_button.setEnabled(bool(self.items))

    def _choose_row(self, row: int) -> None:
        if 0 <= row < len(self.items):
            self.imageChosen.emit(self.items[row].image_id)

    def next_image(self) -> int | None:
        for row, it in enumerate(self.items):
            if it.image_id != self.current_id:
                self.view.selectRow(row)
                self.imageChosen.emit(it.image_id)
                return it.image_id
        return None
