"""Export dialog: a run's model as .keras (always), SavedModel and ONNX (when tf2onnx is
installed), each with its model card (classes, colours, weights, loss, per-class validation
IoU) beside it; the export runs in a child process and the dialog lists where the files went."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6 import QtCore, QtGui, QtWidgets

from segstudio.qt.errors import ErrorReporter
from segstudio.qt.learning_session import ModelState
from segstudio.qt.theme import HINT_STYLE
from segstudio.qt.workers.worker import Worker
from segstudio.services import child_tasks, model_export
from segstudio.services.devices import onnx_available
from segstudio.services.job_events import ProgressEvent


class ExportDialog(QtWidgets.QDialog):
    """Signals ``exported(list of paths)`` when an export ends."""

    exported = QtCore.Signal(list)

    def __init__(self, root: Path, models: ModelState, errors: ErrorReporter,
                 parent: QtWidgets.QWidget | None = None, run_id: int | None = None):
        """``root``: the project folder (the export runs in a child process that opens it);
        ``models``: the LearningSession's runs, the active model preselected."""
        super().__init__(parent)
        self.setWindowTitle("Export model")
        self.root, self.errors = Path(root), errors
        self.worker = None
        self.result: model_export.ExportResult | None = None
        self.run_combo = QtWidgets.QComboBox()
        if run_id is None and models.active is not None:
            run_id = models.active.id  # export what predicts, unless told otherwise
        for r in reversed(models.model_runs):
            best = "—" if r.best_fg_miou is None else f"{r.best_fg_miou:.3f}"
            self.run_combo.addItem(f"Run {r.id} · {r.status} · best fg mIoU {best}", r.id)
        if run_id is not None and self.run_combo.findData(run_id) >= 0:
            self.run_combo.setCurrentIndex(self.run_combo.findData(run_id))
        self.folder_edit = QtWidgets.QLineEdit(str(self.root / "exports"))
        browse = QtWidgets.QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        folder_row = QtWidgets.QHBoxLayout()
        folder_row.addWidget(self.folder_edit, 1)
        folder_row.addWidget(browse)
        self.keras_check = QtWidgets.QCheckBox(".keras (loads in plain Keras)")
        self.keras_check.setChecked(True)
        self.keras_check.setEnabled(False)
        self.saved_check = QtWidgets.QCheckBox("TensorFlow SavedModel (serve signature)")
        self.onnx_check = QtWidgets.QCheckBox("ONNX")
        self.onnx_hint = QtWidgets.QLabel(ONNX_INSTALL_HINT)
        self.onnx_hint.setWordWrap(True)
        self.onnx_hint.setStyleSheet(HINT_STYLE)
        self.onnx_hint.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        self.onnx_hint.setVisible(not onnx_available())
        if not onnx_available():
            self.onnx_check.setEnabled(False)
            self.onnx_check.setText("ONNX — not installed")
        form = QtWidgets.QFormLayout()
        form.addRow("Model", self.run_combo)
        form.addRow("Folder", folder_row)
        formats = QtWidgets.QVBoxLayout()
        for c in (self.keras_check, self.saved_check, self.onnx_check, self.onnx_hint):
            formats.addWidget(c)
        form.addRow("Formats", formats)
        note = QtWidgets.QLabel("Each file gets a model card (.card.json) beside it: classes and colours, "
                                "class weights, loss, per-class validation IoU.")
        note.setWordWrap(True)
        note.setStyleSheet(HINT_STYLE)
        self.progress = QtWidgets.QProgressBar()
        self.progress.setVisible(False)
        self.output = QtWidgets.QPlainTextEdit()
        self.output.setReadOnly(True)
        self.output.setPlaceholderText("Exported files will be listed here.")
        self.output.setMinimumHeight(110)
        self.buttons = QtWidgets.QDialogButtonBox()
        self.export_button = self.buttons.addButton("Export", QtWidgets.QDialogButtonBox.ButtonRole.AcceptRole)
        self.open_button = self.buttons.addButton("Open folder", QtWidgets.QDialogButtonBox.ButtonRole.ActionRole)
        self.open_button.setEnabled(False)
        close = self.buttons.addButton(QtWidgets.QDialogButtonBox.StandardButton.Close)
        self.export_button.clicked.connect(self.start_export)
        self.open_button.clicked.connect(self._open_folder)
        close.clicked.connect(self.reject)
        if not models.model_runs:
            self.export_button.setEnabled(False)
            self.output.setPlainText("No trained model yet: train one first.")
        lay = QtWidgets.QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(note)
        lay.addWidget(self.progress)
        lay.addWidget(self.output, 1)
        lay.addWidget(self.buttons)
        self.resize(620, 380)

    def formats(self) -> list[str]:
        out = ["keras"]
        if self.saved_check.isChecked():
            out.append("savedmodel")
        if self.onnx_check.isChecked() and self.onnx_check.isEnabled():
            out.append("onnx")
        return out

    def _browse(self) -> None:
        d = QtWidgets.QFileDialog.getExistingDirectory(self, "Export to folder", self.folder_edit.text())
        if d:
            self.folder_edit.setText(d)

    def start_export(self) -> Worker | None:
        run_id = self.run_combo.currentData()
        if run_id is None or self.worker is not None:
            return None
        folder = Path(self.folder_edit.text()).expanduser()
        self.export_button.setEnabled(False)
        self.progress.setVisible(True)
        self.progress.setRange(0, len(self.formats()))
        self.output.setPlainText(f"Exporting run {run_id} to {folder} …")
        w = Worker(child_tasks.export, self.root, int(run_id), folder, self.formats(), parent=self)
        w.yielded.connect(self._step)
        w.returned.connect(self._returned)
        w.errored.connect(self._error)
        w.finished.connect(self._finished)
        self.worker = w
        w.start()
        return w

    def _step(self, event: ProgressEvent) -> None:
        self.progress.setRange(0, event.total)
        self.progress.setValue(event.done)

    def _returned(self, result: model_export.ExportResult) -> None:
        self.result = result

    def _error(self, e: BaseException) -> None:
        self.errors.report("Export", e)
        self.output.appendPlainText(f"Failed: {e}")

    def _finished(self) -> None:
        self.worker = None
        self.progress.setVisible(False)
        self.export_button.setEnabled(True)
        r = self.result
        if r is None:
            return
        lines = ["Written:"] + [f"  {f}\n    card: {c}" for f, c in zip(r.files, r.cards, strict=True)]
        lines += [f"Not written ({fmt}): {why}" for fmt, why in r.failed]
        self.output.setPlainText("\n".join(lines))
        self.open_button.setEnabled(bool(r.files))
        for fmt, why in r.failed:
            self.errors.report(f"Export {fmt}", why)
        self.exported.emit([str(f) for f in r.files])

    def _open_folder(self) -> bool:
        """Show the export folder in the file manager; without one, say where it is."""
        folder = str(Path(self.folder_edit.text()).expanduser())
        if QtGui.QDesktopServices.openUrl(QtCore.QUrl.fromLocalFile(folder)):
            return True
        self.output.appendPlainText(f"\nNo file manager could open the folder; the files are in:\n  {folder}")
        self.errors.report("Open folder", f"no file manager could open it; the exported files are in {folder}")
        return False


#: what to run when the ONNX extra (tf2onnx, onnxruntime; pyproject.toml) is missing
ONNX_INSTALL_HINT = (f"ONNX export needs the onnx extra: {Path(sys.executable).name} -m pip install "
                     "'segstudio[onnx]' (in a source checkout `make run` installs it), then reopen this dialog.")
