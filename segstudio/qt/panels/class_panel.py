"""Class panel: swatch, id, name, pixels, share, images per class; pick the paint class;
add, rename (edit the name), recolour (double-click the swatch), ignore, merge; show or hide
each class in the overlays (the box beside the swatch; show all, hide all, only this)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from segstudio.core.classes import ClassTable

if TYPE_CHECKING:  # panels get data, they never open the store
    from segstudio.store.project import ClassTotals

COLUMNS = ("", "Id", "Name", "Pixels", "Share", "Images", "Ign.")
COL_SWATCH, COL_ID, COL_NAME, COL_PIXELS, COL_SHARE, COL_IMAGES, COL_IGNORE = range(7)


def human_count(n: float) -> str:
    for unit, div in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if n >= div:
            return f"{n / div:.3g}{unit}"
    return f"{int(n)}"


def format_share(share: float) -> str:
    if share == 0:
        return "0"
    if share >= 0.01:
        return f"{share:.1%}"
    return f"{share * 100:.2g}%"


def swatch_icon(rgb: tuple[int, int, int], ignore: bool = False, size: int = 14) -> QtGui.QIcon:
    pix = QtGui.QPixmap(size, size)
    pix.fill(QtGui.QColor(*rgb))
    p = QtGui.QPainter(pix)
    p.setPen(QtGui.QColor(120, 120, 120))
    p.drawRect(0, 0, size - 1, size - 1)
    if ignore:
        p.setPen(QtGui.QPen(QtGui.QColor(220, 60, 60), 2))
        p.drawLine(1, size - 2, size - 2, 1)
    p.end()
    return QtGui.QIcon(pix)


def _check(on: bool) -> QtCore.Qt.CheckState:
    return QtCore.Qt.CheckState.Checked if on else QtCore.Qt.CheckState.Unchecked


class _NumberItem(QtWidgets.QTableWidgetItem):
    """Sorts by the number in UserRole, not the text."""

    def __lt__(self, other: QtWidgets.QTableWidgetItem) -> bool:
        a = self.data(QtCore.Qt.ItemDataRole.UserRole)
        b = other.data(QtCore.Qt.ItemDataRole.UserRole)
        return (a or 0) < (b or 0)


class ClassPanel(QtWidgets.QWidget):
    classSelected = QtCore.Signal(int)
    renameRequested = QtCore.Signal(int, str)
    recolourRequested = QtCore.Signal(int, object)  # id, (r, g, b)
    ignoreRequested = QtCore.Signal(int, bool)
    addRequested = QtCore.Signal(str)
    mergeRequested = QtCore.Signal(int, int)  # source, target
    filterRequested = QtCore.Signal(int)  # show images containing this class
    hiddenRequested = QtCore.Signal(object)  # frozenset: the classes the overlays should leave out

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.table = ClassTable([])
        self.totals: ClassTotals | None = None
        self.hidden: frozenset[int] = frozenset()
        self.tw = QtWidgets.QTableWidget(0, len(COLUMNS))
        self.tw.setHorizontalHeaderLabels(COLUMNS)
        self.tw.verticalHeader().hide()
        self.tw.verticalHeader().setDefaultSectionSize(22)
        self.tw.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        self.tw.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.SingleSelection)
        self.tw.setEditTriggers(
            QtWidgets.QAbstractItemView.EditTrigger.DoubleClicked
            | QtWidgets.QAbstractItemView.EditTrigger.EditKeyPressed
        )
        self.tw.setShowGrid(False)
        self.tw.setAlternatingRowColors(True)
        hh = self.tw.horizontalHeader()
        for col in range(len(COLUMNS)):
            hh.setSectionResizeMode(col, QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
        hh.setSectionResizeMode(COL_NAME, QtWidgets.QHeaderView.ResizeMode.Stretch)
        hh.setMinimumSectionSize(24)
        self.tw.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.tw.setContextMenuPolicy(QtCore.Qt.ContextMenuPolicy.CustomContextMenu)
        self.tw.customContextMenuRequested.connect(self._context_menu)
        self.add_button = QtWidgets.QPushButton("Add…")
        self.colour_button = QtWidgets.QPushButton("Colour…")
        self.merge_button = QtWidgets.QPushButton("Merge into…")
        for b, tip in (
            (self.add_button, "Add a class with the next free id"),
            (self.colour_button, "Change the colour of the selected class"),
            (self.merge_button, "Rewrite every mask: pixels of the selected class become another class (backed up)"),
        ):
            b.setToolTip(tip)
        buttons = QtWidgets.QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.colour_button)
        buttons.addWidget(self.merge_button)
        buttons.addStretch(1)
        self.show_all_button = QtWidgets.QPushButton("Show all")
        self.hide_all_button = QtWidgets.QPushButton("Hide all")
        self.only_button = QtWidgets.QPushButton("Only this")
        self.show_all_button.setToolTip("Show every class in the overlays")
        self.hide_all_button.setToolTip("Hide every class (the masks are untouched)")
        self.only_button.setToolTip("Show the selected class only")
        shown = QtWidgets.QHBoxLayout()
        shown.addWidget(QtWidgets.QLabel("Overlay:"))
        for b in (self.show_all_button, self.hide_all_button, self.only_button):
            shown.addWidget(b)
        shown.addStretch(1)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.tw, 1)
        lay.addLayout(shown)
        lay.addLayout(buttons)
        self._filling = False
        self.tw.itemChanged.connect(self._item_changed)
        self.tw.itemDoubleClicked.connect(self._double_clicked)
        self.tw.currentCellChanged.connect(self._current_changed)
        self.add_button.clicked.connect(self._ask_add)
        self.colour_button.clicked.connect(lambda: self._ask_colour(self.selected_class()))
        self.merge_button.clicked.connect(lambda: self._ask_merge(self.selected_class()))
        self.show_all_button.clicked.connect(lambda: self.hiddenRequested.emit(frozenset()))
        self.hide_all_button.clicked.connect(lambda: self.hiddenRequested.emit(frozenset(self.table.ids)))
        self.only_button.clicked.connect(lambda: self.show_only(self.selected_class()))

    # -- content --------------------------------------------------------------------
    def set_classes(self, table: ClassTable, totals: ClassTotals | None = None) -> None:
        keep = self.selected_class()
        self.table = table
        if totals is not None:
            self.totals = totals
        self._fill()
        if keep is not None:
            self.select_class(keep, emit=False)

    def set_totals(self, totals: ClassTotals | None) -> None:
        self.totals = totals
        self._fill()

    def set_hidden(self, hidden) -> None:
        """The classes the overlays leave out (the session's state): unchecks their boxes."""
        self.hidden = frozenset(hidden)
        self._filling = True
        for row in range(self.tw.rowCount()):
            cid, item = self._class_at(row), self.tw.item(row, COL_SWATCH)
            if cid is not None and item is not None:
                item.setCheckState(_check(cid not in self.hidden))
        self._filling = False

    def show_only(self, class_id: int | None) -> None:
        if class_id is not None:
            self.hiddenRequested.emit(frozenset(self.table.ids) - {class_id})

    def _fill(self) -> None:
        self._filling = True
        keep = self.selected_class()
        self.tw.setSortingEnabled(False)
        self.tw.setRowCount(len(self.table))
        pixels = self.totals.pixels if self.totals is not None else np.zeros(0)
        images = self.totals.images if self.totals is not None else np.zeros(0)
        total = float(pixels.sum()) if pixels.size else 0.0
        for row, c in enumerate(self.table):
            n = int(pixels[c.id]) if c.id < pixels.size else 0
            m = int(images[c.id]) if c.id < images.size else 0
            swatch = QtWidgets.QTableWidgetItem(swatch_icon(c.color, c.ignore), "")
            swatch.setToolTip(f"{c.hex} — double-click to change; the box shows or hides it in the overlays")
            swatch.setCheckState(_check(c.id not in self.hidden))
            cells = [
                swatch,
                _NumberItem(str(c.id)),
                QtWidgets.QTableWidgetItem(c.name),
                _NumberItem(human_count(n)),
                _NumberItem(format_share(n / total) if total else "—"),
                _NumberItem(str(m)),
                QtWidgets.QTableWidgetItem(),
            ]
            cells[COL_ID].setData(QtCore.Qt.ItemDataRole.UserRole, c.id)
            cells[COL_PIXELS].setData(QtCore.Qt.ItemDataRole.UserRole, n)
            cells[COL_SHARE].setData(QtCore.Qt.ItemDataRole.UserRole, n)
            cells[COL_IMAGES].setData(QtCore.Qt.ItemDataRole.UserRole, m)
            cells[COL_PIXELS].setToolTip(f"{n:,} pixels")
            cells[COL_IGNORE].setCheckState(_check(c.ignore))
            cells[COL_IGNORE].setToolTip("Ignore: never trained on, drawn transparent")
            for col, item in enumerate(cells):
                flags = QtCore.Qt.ItemFlag.ItemIsSelectable | QtCore.Qt.ItemFlag.ItemIsEnabled
                if col == COL_NAME:
                    flags |= QtCore.Qt.ItemFlag.ItemIsEditable
                if col in (COL_IGNORE, COL_SWATCH) and c.id != 0:
                    flags |= QtCore.Qt.ItemFlag.ItemIsUserCheckable
                if col in (COL_PIXELS, COL_SHARE, COL_IMAGES, COL_ID):
                    item.setTextAlignment(QtCore.Qt.AlignmentFlag.AlignRight | QtCore.Qt.AlignmentFlag.AlignVCenter)
                item.setFlags(flags)
                if n == 0 and col != COL_SWATCH and c.id != 0:
                    item.setForeground(QtGui.QColor(130, 130, 130))
                self.tw.setItem(row, col, item)
        self.tw.setSortingEnabled(True)
        self._filling = False
        if keep is not None:
            self.select_class(keep, emit=False)

    # -- selection --------------------------------------------------------------------
    def _row_of(self, class_id: int) -> int:
        for row in range(self.tw.rowCount()):
            item = self.tw.item(row, COL_ID)
            if item is not None and item.data(QtCore.Qt.ItemDataRole.UserRole) == class_id:
                return row
        return -1

    def _class_at(self, row: int) -> int | None:
        item = self.tw.item(row, COL_ID)
        return None if item is None else item.data(QtCore.Qt.ItemDataRole.UserRole)

    def selected_class(self) -> int | None:
        row = self.tw.currentRow()
        return None if row < 0 else self._class_at(row)

    def select_class(self, class_id: int, emit: bool = True) -> None:
        row = self._row_of(class_id)
        if row < 0:
            return
        self._filling = not emit
        self.tw.setCurrentCell(row, COL_NAME)
        self._filling = False

    def _current_changed(self, row: int, *_: int) -> None:
        if not self._filling and row >= 0:
            cid = self._class_at(row)
            if cid is not None:
                self.classSelected.emit(cid)

    # -- edits -----------------------------------------------------------------------
    def _item_changed(self, item: QtWidgets.QTableWidgetItem) -> None:
        if self._filling:
            return
        cid = self._class_at(item.row())
        info = self.table.get(cid) if cid is not None else None
        if info is None:
            return
        if item.column() == COL_SWATCH:
            shown = item.checkState() == QtCore.Qt.CheckState.Checked
            if shown == (cid in self.hidden):
                self.hiddenRequested.emit(self.hidden - {cid} if shown else self.hidden | {cid})
        elif item.column() == COL_NAME:
            name = item.text().strip()
            if name and name != info.name:
                self.renameRequested.emit(cid, name)
        elif item.column() == COL_IGNORE:
            ignore = item.checkState() == QtCore.Qt.CheckState.Checked
            if ignore != info.ignore:
                self.ignoreRequested.emit(cid, ignore)

    def _double_clicked(self, item: QtWidgets.QTableWidgetItem) -> None:
        if item.column() == COL_SWATCH:
            self._ask_colour(self._class_at(item.row()))

    def _ask_colour(self, class_id: int | None) -> None:
        info = self.table.get(class_id) if class_id is not None else None
        if info is None:
            return
        color = QtWidgets.QColorDialog.getColor(QtGui.QColor(*info.color), self, f"Colour of {info.name}")
        if color.isValid():
            self.recolourRequested.emit(info.id, (color.red(), color.green(), color.blue()))

    def _ask_add(self) -> None:
        name, ok = QtWidgets.QInputDialog.getText(self, "Add class", "Name of the new class:")
        if ok and name.strip():
            self.addRequested.emit(name.strip())

    def _ask_merge(self, source: int | None) -> None:
        from segstudio.qt.dialogs.project_dialogs import ask_merge_target

        info = self.table.get(source) if source is not None else None
        if info is None or info.id == 0:
            return
        images = int(self.totals.images[info.id]) if self.totals is not None and info.id < self.totals.images.size else 0
        target = ask_merge_target(self, self.table, info.id, images)
        if target is not None:
            self.mergeRequested.emit(info.id, target)

    def _context_menu(self, pos: QtCore.QPoint) -> None:
        row = self.tw.rowAt(pos.y())
        cid = self._class_at(row) if row >= 0 else None
        if cid is None:
            return
        menu = QtWidgets.QMenu(self)
        menu.addAction("Paint with this class", lambda: self.classSelected.emit(cid))
        menu.addAction("Show images containing it", lambda: self.filterRequested.emit(cid))
        menu.addAction("Show only this class in the overlay", lambda: self.show_only(cid))
        menu.addAction("Show all classes in the overlay", lambda: self.hiddenRequested.emit(frozenset()))
        menu.addAction("Rename", lambda: self.tw.editItem(self.tw.item(row, COL_NAME)))
        menu.addAction("Colour…", lambda: self._ask_colour(cid))
        if cid != 0:
            menu.addAction("Merge into…", lambda: self._ask_merge(cid))
        menu.exec(self.tw.viewport().mapToGlobal(pos))
