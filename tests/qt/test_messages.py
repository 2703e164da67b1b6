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


FLOOD = ("background flood: 5.0x the true foreground predicted, background recall 90.0% "
         "(class weights too strong: lower --clip or set --weights to sqrt)")


def _training_panel(qtbot):
    from segstudio.qt.app import make_app
    from segstudio.qt.panels.training_panel import TrainingPanel

    make_app()
    panel = TrainingPanel()
    qtbot.addWidget(panel)
    return panel


def test_the_alarm_in_the_window_names_the_form_fields_and_skips_what_is_chosen(qtbot):
    from segstudio.qt.panels.training_fields import FIELD_LABELS

    panel = _training_panel(qtbot)
    panel.set_config(weights="sqrt")
    panel.plots.add_epoch({"epoch": 3, "alarm": FLOOD})
    text = panel.plots.banner.text()
    assert f"lower '{FIELD_LABELS['weight_strength']}'" in text and "Training panel" in text
    assert "--clip" not in text and "sqrt" not in text
    panel.set_config(weights="balanced")
    panel.plots.show_epochs([{"epoch": 3, "alarm": FLOOD}])
    assert f"set '{FIELD_LABELS['weights']}' to sqrt" in panel.plots.banner.text()
