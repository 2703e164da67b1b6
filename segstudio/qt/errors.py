"""The one place errors from every layer are shown: status bar line + non-blocking dialog."""

from __future__ import annotations

import logging
import traceback

from PySide6 import QtCore, QtWidgets

from segstudio.core.errors import SegstudioError

log = logging.getLogger("segstudio")


def describe(error: BaseException | str) -> str:
    """User-facing text: our errors already name the file and the problem."""
    if isinstance(error, str):
        return error
    if isinstance(error, SegstudioError):
        return str(error)
    if isinstance(error, OSError):
        name = f"{error.filename}: " if error.filename else ""
        return f"{name}{error.strerror or error}"
    text = str(error) or type(error).__name__
    if "database is locked" in text:
        return "The project database is locked by another program; try again in a moment."
    return f"{type(error).__name__}: {text}"


class ErrorReporter(QtCore.QObject):
    """``report(context, error)`` from anywhere (GUI thread; worker errors arrive as signals).

    Shows the message in the status bar and, when ``dialogs`` is on, in a non-modal
    message box, so the app keeps running. ``errorReported(text)`` lets tests and logs see it.
    """

    errorReported = QtCore.Signal(str)

    def __init__(self, window: QtWidgets.QMainWindow, dialogs: bool = True):
        super().__init__(window)
        self._window = window
        self.dialogs = dialogs
        self.history: list[str] = []
        self._box: QtWidgets.QMessageBox | None = None

    @QtCore.Slot(str, object)
    def report(self, context: str, error: BaseException | str) -> None:
        text = f"{context}: {describe(error)}" if context else describe(error)
        self.history.append(text)
        if isinstance(error, BaseException) and not isinstance(error, SegstudioError | OSError):
            log.error("%s\n%s", text, "".join(traceback.format_exception(error)))
        else:
            log.warning(text)
        self._window.statusBar().showMessage("⚠ " + text, 15000)
        if self.dialogs:
            self._show_dialog(context or "Error", describe(error))
        self.errorReported.emit(text)

    def _show_dialog(self, title: str, text: str) -> None:
        if self._box is None:
            self._box = QtWidgets.QMessageBox(self._window)
            self._box.setIcon(QtWidgets.QMessageBox.Icon.Warning)
            self._box.setWindowModality(QtCore.Qt.WindowModality.NonModal)
        self._box.setWindowTitle(f"segstudio — {title}")
        self._box.setText(text)
        self._box.show()

    def close_dialog(self) -> None:
        if self._box is not None:
            self._box.hide()
