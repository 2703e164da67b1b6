"""Image list: one row per image with its status and the classes present; filter by status and
by class; keyboard next/previous."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from segstudio.core.classes import ClassTable
from segstudio.core.statuses import ImageStatus
from segstudio.qt.theme import HINT_STYLE

STATUS_COLORS = {
    ImageStatus.UNLABELLED: QtGui.QColor(150, 150, 150),
    ImageStatus.LABELLED: QtGui.QColor(90, 180, 110),
    ImageStatus.PREDICTED: QtGui.QColor(110, 150, 230),
    ImageStatus.CORRECTED: QtGui.QColor(230, 170, 60),
}
STATUSES = tuple(STATUS_COLORS)


@dataclass(frozen=True)
class ImageRow:
    id: int
    name: str
    status: str
    split: str
    size: tuple[int, int]
    classes: tuple[int, ...]  # foreground classes present (from the stored counts)


class ImageTableModel(QtCore.QAbstractTableModel):
    HEADERS = ("Image", "Status", "Classes")

    def __init__(self, parent: QtCore.QObject | None = None):
        super().__init__(parent)
        self.rows: list[ImageRow] = []
        self.table = ClassTable([])

    def set_rows(self, rows: list[ImageRow], table: ClassTable) -> None:
        self.beginResetModel()
        self.rows, self.table = rows, table
        self.endResetModel()

    def rowCount(self, parent=QtCore.QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent=QtCore.QModelIndex()) -> int:  # noqa: B008
        return 3

    def headerData(self, section, orientation, role=QtCore.Qt.ItemDataRole.DisplayRole):
        if orientation == QtCore.Qt.Orientation.Horizontal and role == QtCore.Qt.ItemDataRole.DisplayRole:
            return self.HEADERS[section]
        return None

    def data(self, index, role=QtCore.Qt.ItemDataRole.DisplayRole):
        row = self.rows[index.row()]
        col = index.column()
        if role == QtCore.Qt.ItemDataRole.DisplayRole:
            if col == 0:
                return row.name
            if col == 1:
                return row.status
            return " ".join(str(c) for c in row.classes) or "—"
        if role == QtCore.Qt.ItemDataRole.ForegroundRole and col == 1:
            return STATUS_COLORS.get(row.status)
        if role == QtCore.Qt.ItemDataRole.ToolTipRole:
            names = ", ".join(
                f"{c} {info.name}" for c in row.classes if (info := self.table.get(c)) is not None
            )
            return f"{row.name}\n{row.size[0]}×{row.size[1]}, {row.split}, {row.status}\n{names or 'background only'}"
        if role == QtCore.Qt.ItemDataRole.UserRole:
            return row.id
        return None


class ImageFilter(QtCore.QSortFilterProxyModel):
    def __init__(self, parent: QtCore.QObject | None = None):
        super().__init__(parent)
        self.status: str | None = None
        self.class_id: int | None = None

    def set_filter(self, status: str | None, class_id: int | None) -> None:
        if hasattr(self, "beginFilterChange"):  # Qt >= 6.9
            self.beginFilterChange()
            self.status, self.class_id = status, class_id
            self.endFilterChange(QtCore.QSortFilterProxyModel.Direction.Rows)
        else:
            self.status, self.class_id = status, class_id
            self.invalidateRowsFilter()

    def filterAcceptsRow(self, source_row: int, source_parent) -> bool:
        row = self.sourceModel().rows[source_row]
        if self.status and row.status != self.status:
            return False
        return self.class_id is None or self.class_id in row.classes


class ImageListPanel(QtWidgets.QWidget):
    """Signals ``imageChosen(id)`` when the user picks a row (click, Enter, next/previous)."""

    imageChosen = QtCore.Signal(int)

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.model = ImageTableModel(self)
        self.proxy = ImageFilter(self)
        self.proxy.setSourceModel(self.model)
        self.status_combo = QtWidgets.QComboBox()
        self.status_combo.addItem("All statuses", None)
        for s in STATUSES:
            self.status_combo.addItem(s, s)
        self.class_combo = QtWidgets.QComboBox()
        self.class_combo.setToolTip("Show only images containing this class")
        self.class_combo.setMinimumContentsLength(10)
        self.view = QtWidgets.QTableView()
        self.view.setModel(self.proxy)
        self.view.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.SingleSelection)
        self.view.verticalHeader().hide()
        self.view.verticalHeader().setDefaultSectionSize(22)
        self.view.setAlternatingRowColors(True)
        self.view.setShowGrid(False)
        hh = self.view.horizontalHeader()
        # names take what is left; the classes column keeps room for its title and a few ids
        # (elided; the row's tooltip lists them all)
        hh.setStretchLastSection(False)
        hh.setSectionResizeMode(0, QtWidgets.QHeaderView.ResizeMode.Stretch)
        hh.setSectionResizeMode(1, QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
        hh.setSectionResizeMode(2, QtWidgets.QHeaderView.ResizeMode.Fixed)
        hh.resizeSection(2, max(hh.fontMetrics().horizontalAdvance(self.model.HEADERS[2]),
                                self.view.fontMetrics().horizontalAdvance("00 00 00")) + 12)
        self.view.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.view.setWordWrap(False)  # one line per row: "1 2 3 6 1…", not "1 2…6 …"
        self.count_label = QtWidgets.QLabel()
        self.count_label.setStyleSheet(HINT_STYLE)
        filters = QtWidgets.QHBoxLayout()
        filters.addWidget(self.status_combo)
        filters.addWidget(self.class_combo, 1)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addLayout(filters)
        lay.addWidget(self.view, 1)
        lay.addWidget(self.count_label)
        self.status_combo.currentIndexChanged.connect(self._apply_filter)
        self.class_combo.currentIndexChanged.connect(self._apply_filter)
        self.view.selectionModel().currentRowChanged.connect(self._row_changed)
        self._current_id: int | None = None
        self._quiet = False

    def set_images(self, records, counts: tuple[list[int], np.ndarray], table: ClassTable) -> None:
        ids, mat = counts
        present = {i: tuple(int(c) for c in np.flatnonzero(mat[k]) if c != 0) for k, i in enumerate(ids)}
        rows = [
            ImageRow(r.id, Path(r.path).name, r.status, r.split, (r.width, r.height), present.get(r.id, ()))
            for r in records
        ]
        self._quiet = True
        self.model.set_rows(rows, table)
        self._fill_class_combo(table)
        self._quiet = False
        self._update_count()
        if self._current_id is not None:
            self.select(self._current_id, emit=False)

    def _fill_class_combo(self, table: ClassTable) -> None:
        keep = self.class_combo.currentData()
        self.class_combo.blockSignals(True)
        self.class_combo.clear()
        self.class_combo.addItem("Any class", None)
        for c in table:
            if c.id != 0:
                pix = QtGui.QPixmap(12, 12)
                pix.fill(QtGui.QColor(*c.color))
                self.class_combo.addItem(QtGui.QIcon(pix), f"{c.id}  {c.name}", c.id)
        idx = self.class_combo.findData(keep)
        self.class_combo.setCurrentIndex(max(idx, 0))
        self.class_combo.blockSignals(False)
        self.proxy.set_filter(self.status_combo.currentData(), self.class_combo.currentData())

    def filter_by(self, status: str | None = None, class_id: int | None = None) -> None:
        self.status_combo.setCurrentIndex(max(self.status_combo.findData(status), 0))
        self.class_combo.setCurrentIndex(max(self.class_combo.findData(class_id), 0))

    def _apply_filter(self) -> None:
        self.proxy.set_filter(self.status_combo.currentData(), self.class_combo.currentData())
        self._update_count()

    def _update_count(self) -> None:
        self.count_label.setText(f"{self.proxy.rowCount()} of {self.model.rowCount()} images")

    def visible_ids(self) -> list[int]:
        return [self.proxy.index(r, 0).data(QtCore.Qt.ItemDataRole.UserRole) for r in range(self.proxy.rowCount())]

    def select(self, image_id: int, emit: bool = True) -> None:
        """Make ``image_id`` the current row; ``emit``: tell listeners (as a user click would)."""
        if not emit:
            self._current_id = image_id
        for r in range(self.proxy.rowCount()):
            idx = self.proxy.index(r, 0)
            if idx.data(QtCore.Qt.ItemDataRole.UserRole) == image_id:
                self._quiet = not emit
                self.view.setCurrentIndex(idx)
                self.view.scrollTo(idx, QtWidgets.QAbstractItemView.ScrollHint.PositionAtCenter)
                self._quiet = False
                return

    def step(self, delta: int) -> None:
        """Next (+1) / previous (-1) among the visible rows."""
        n = self.proxy.rowCount()
        if n == 0:
            return
        cur = self.view.currentIndex().row()
        row = 0 if cur < 0 else min(max(cur + delta, 0), n - 1)
        self.view.setCurrentIndex(self.proxy.index(row, 0))

    def _row_changed(self, current: QtCore.QModelIndex, _previous) -> None:
        if self._quiet or not current.isValid():
            return
        image_id = current.sibling(current.row(), 0).data(QtCore.Qt.ItemDataRole.UserRole)
        if image_id != self._current_id:
            self._current_id = image_id
            self.imageChosen.emit(image_id)
