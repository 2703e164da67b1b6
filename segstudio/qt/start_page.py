"""What the window shows with no project open: what to do next, not an empty canvas."""

from __future__ import annotations

from pathlib import Path

from PySide6 import QtCore, QtWidgets


class StartPage(QtWidgets.QWidget):
    openRequested = QtCore.Signal()
    newRequested = QtCore.Signal()
    recentChosen = QtCore.Signal(str)

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        title = QtWidgets.QLabel("<h1>segstudio</h1>")
        blurb = QtWidgets.QLabel(
            "Segmentation where one class dwarfs the rest: see how rare each class is, "
            "paint and correct labels, and weight the loss before training.")
        blurb.setWordWrap(True)
        open_button = QtWidgets.QPushButton("Open project…")
        new_button = QtWidgets.QPushButton("New project from folders…")
        for b in (open_button, new_button):
            b.setMinimumHeight(34)
        self.recent = QtWidgets.QListWidget()
        self.recent.setMaximumHeight(180)
        box = QtWidgets.QVBoxLayout()
        box.addWidget(title)
        box.addWidget(blurb)
        box.addSpacing(12)
        box.addWidget(open_button)
        box.addWidget(new_button)
        box.addSpacing(12)
        box.addWidget(QtWidgets.QLabel("Recent projects"))
        box.addWidget(self.recent)
        hint = QtWidgets.QLabel("No data yet? <code>segstudio demo DEMO</code> makes a 32-class demo project.")
        hint.setStyleSheet("color: gray")
        box.addWidget(hint)
        inner = QtWidgets.QWidget()
        inner.setLayout(box)
        inner.setMaximumWidth(520)
        outer = QtWidgets.QHBoxLayout(self)
        outer.addStretch(1)
        col = QtWidgets.QVBoxLayout()
        col.addStretch(1)
        col.addWidget(inner)
        col.addStretch(2)
        outer.addLayout(col)
        outer.addStretch(1)
        open_button.clicked.connect(self.openRequested)
        new_button.clicked.connect(self.newRequested)
        self.recent.itemActivated.connect(lambda item: self.recentChosen.emit(item.data(QtCore.Qt.ItemDataRole.UserRole)))

    def set_recent(self, paths: list[str]) -> None:
        self.recent.clear()
        for p in paths:
            item = QtWidgets.QListWidgetItem(f"{Path(p).name}    —    {p}")
            item.setData(QtCore.Qt.ItemDataRole.UserRole, p)
            self.recent.addItem(item)
