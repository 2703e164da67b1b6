"""Dialogs: new project from folders, the import report, merge confirmation."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6 import QtCore, QtWidgets

from segstudio.core.classes import ClassTable
from segstudio.core.text import counted
from segstudio.qt.theme import HINT_STYLE


@dataclass(frozen=True)
class NewProjectRequest:
    project_dir: Path
    images_dir: Path
    masks_dir: Path | None
    classes_file: Path | None


class _PathRow(QtWidgets.QWidget):
    def __init__(self, placeholder: str, pick_file: bool = False, parent=None):
        super().__init__(parent)
        self.edit = QtWidgets.QLineEdit()
        self.edit.setPlaceholderText(placeholder)
        browse = QtWidgets.QPushButton("Browse…")
        lay = QtWidgets.QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.edit, 1)
        lay.addWidget(browse)
        self._pick_file = pick_file
        browse.clicked.connect(self._browse)

    def _browse(self) -> None:
        if self._pick_file:
            path, _ = QtWidgets.QFileDialog.getOpenFileName(
                self, "Class table", "", "Class tables (*.json *.csv *.txt);;All files (*)")
        else:
            path = QtWidgets.QFileDialog.getExistingDirectory(self, "Choose a folder")
        if path:
            self.edit.setText(path)

    def path(self) -> Path | None:
        text = self.edit.text().strip()
        return Path(text).expanduser() if text else None


class NewProjectDialog(QtWidgets.QDialog):
    """Folders of images (and masks) + an optional class table -> a new project folder."""

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("New project from folders")
        self.images = _PathRow("folder of images (PNG, TIFF, JPEG, BMP)")
        self.masks = _PathRow("optional: folder of masks with the same file names")
        self.classes = _PathRow("optional: classes.json / .csv / CVAT labelmap.txt", pick_file=True)
        self.project = _PathRow("where the project database goes (default: the images' parent)")
        form = QtWidgets.QFormLayout()
        form.addRow("Images", self.images)
        form.addRow("Masks", self.masks)
        form.addRow("Class table", self.classes)
        form.addRow("Project folder", self.project)
        note = QtWidgets.QLabel("Files stay where they are; the project records their paths.")
        note.setStyleSheet(HINT_STYLE)
        box = QtWidgets.QDialogButtonBox(
            QtWidgets.QDialogButtonBox.StandardButton.Ok | QtWidgets.QDialogButtonBox.StandardButton.Cancel)
        box.button(QtWidgets.QDialogButtonBox.StandardButton.Ok).setText("Import")
        box.accepted.connect(self._accept)
        box.rejected.connect(self.reject)
        lay = QtWidgets.QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(note)
        lay.addWidget(box)
        self.resize(640, 0)

    def _accept(self) -> None:
        images = self.images.path()
        if images is None or not images.is_dir():
            QtWidgets.QMessageBox.warning(self, "New project", "Choose an existing folder of images.")
            return
        self.accept()

    def request(self) -> NewProjectRequest:
        images = self.images.path()
        assert images is not None
        return NewProjectRequest(self.project.path() or images.parent, images, self.masks.path(), self.classes.path())


def show_import_report(parent: QtWidgets.QWidget, added: int, labelled: int,
                       skipped: list[tuple[Path, str]]) -> QtWidgets.QDialog:
    """Non-modal summary: how many images came in and every skipped file with its reason."""
    dlg = QtWidgets.QDialog(parent)
    dlg.setWindowTitle("Import finished")
    dlg.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose)
    text = QtWidgets.QLabel(
        f"<b>{counted(added, 'image')}</b> imported, <b>{labelled}</b> with masks. "
        + (f"<b>{counted(len(skipped), 'file')}</b> skipped:" if skipped else "No files skipped."))
    table = QtWidgets.QTableWidget(len(skipped), 2)
    table.setHorizontalHeaderLabels(["File", "Why it was skipped"])
    table.verticalHeader().hide()
    table.horizontalHeader().setStretchLastSection(True)
    for row, (path, reason) in enumerate(skipped):
        table.setItem(row, 0, QtWidgets.QTableWidgetItem(str(path)))
        table.setItem(row, 1, QtWidgets.QTableWidgetItem(reason))
    table.resizeColumnToContents(0)
    table.setVisible(bool(skipped))
    box = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.StandardButton.Close)
    box.rejected.connect(dlg.close)
    lay = QtWidgets.QVBoxLayout(dlg)
    lay.addWidget(text)
    lay.addWidget(table, 1)
    lay.addWidget(box)
    dlg.resize(720, 420 if skipped else 120)
    dlg.show()
    return dlg


def ask_merge_target(parent: QtWidgets.QWidget, table: ClassTable, source: int, images: int) -> int | None:
    """Ask which class receives ``source``'s pixels, with what the merge will do."""
    src = table.get(source)
    assert src is not None
    choices = [c for c in table if c.id != source]
    labels = [f"{c.id}  {c.name}" for c in choices]
    item, ok = QtWidgets.QInputDialog.getItem(
        parent,
        "Merge classes",
        f"Merge class {src.id} “{src.name}” into:\n\n"
        f"Every mask containing it ({images} images) is rewritten; the originals are copied to\n"
        f"the project's backups/ folder first. Class {src.id} is then removed from the table.",
        labels, 0, False)
    if not ok:
        return None
    return choices[labels.index(item)].id
