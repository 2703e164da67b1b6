"""The window's messages: counted nouns, the alarm's advice, export's failures."""

from PySide6 import QtWidgets

from segstudio.qt.dialogs.project_dialogs import show_import_report


def test_import_report_says_one_file(qtbot):
    dlg = show_import_report(None, 1, 1, [("a.png", "bad")])
    qtbot.addWidget(dlg)
    text = dlg.findChildren(QtWidgets.QLabel)[0].text()
    assert "<b>1 image</b> imported" in text and "<b>1 file</b> skipped" in text


def _export_dialog(qtbot, tmp_path):
    from segstudio.qt.dialogs.export_dialog import ExportDialog
    from segstudio.qt.errors import ErrorReporter
    from segstudio.qt.learning_session import ModelState

    win = QtWidgets.QMainWindow()
    qtbot.addWidget(win)
    errors = ErrorReporter(win, dialogs=False)
    dlg = ExportDialog(tmp_path, ModelState(), errors, win)
    qtbot.addWidget(dlg)
    return dlg, errors


def test_open_folder_without_a_file_manager_says_where_the_files_are(qtbot, tmp_path, monkeypatch):
    from PySide6 import QtGui

    monkeypatch.setattr(QtGui.QDesktopServices, "openUrl", staticmethod(lambda url: False))
    dlg, errors = _export_dialog(qtbot, tmp_path)
    assert dlg._open_folder() is False
    folder = str(tmp_path / "exports")
    assert errors.history and folder in errors.history[-1]
    assert folder in dlg.output.toPlainText()


def test_missing_onnx_extra_says_how_to_install_it(qtbot, tmp_path, monkeypatch):
    from segstudio.qt.dialogs import export_dialog

    monkeypatch.setattr(export_dialog, "onnx_available", lambda: False)
    dlg, _ = _export_dialog(qtbot, tmp_path)
    assert not dlg.onnx_check.isEnabled()
    assert not dlg.onnx_hint.isHidden() and "pip install 'segstudio[onnx]'" in dlg.onnx_hint.text()
