"""The window's messages: counted nouns, the alarm's advice, export's failures."""

from PySide6 import QtWidgets

from segstudio.qt.dialogs.project_dialogs import show_import_report


def test_import_report_says_one_file(qtbot):
    dlg = show_import_report(None, 1, 1, [("a.png", "bad")])
    qtbot.addWidget(dlg)
    text = dlg.findChildren(QtWidgets.QLabel)[0].text()
    assert "<b>1 image</b> imported" in text and "<b>1 file</b> skipped" in text
