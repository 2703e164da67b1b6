"""The window's palette and its small style sheets, in one place (panels import these
names instead of writing colours inline)."""

from __future__ import annotations

from PySide6 import QtGui

#: background of every pyqtgraph plot (a dark grey that matches the dock panels)
PLOT_BACKGROUND = (28, 29, 33)
#: the grey of 'unweighted' bars beside the coloured weighted ones
NEUTRAL_BAR = (110, 110, 110)

#: secondary text: hints, summaries, notes under a field
HINT_STYLE = "color: #a0a0a0"
SMALL_HINT_STYLE = "color: #a0a0a0; font-size: 8pt"
#: a hint under a value the user changed from the plan's
USER_HINT_STYLE = "color: #e0b050; font-size: 8pt"
#: numbers and legends that should read a little brighter than hints
DETAIL_STYLE = "color: #b8b8b8"
#: something the user should notice: an out-of-date prediction, a missing class
WARNING_COLOR = "#d08030"
WARNING_STYLE = f"color: {WARNING_COLOR}"
#: the one button of a panel that starts its work
PRIMARY_BUTTON_STYLE = "QPushButton { font-weight: bold; padding: 5px; }"


def dark_palette() -> QtGui.QPalette:
    """The application palette: dark greys, light text, blue selection."""
    p = QtGui.QPalette()
    C = QtGui.QPalette.ColorRole
    base, window, text = QtGui.QColor(30, 31, 34), QtGui.QColor(43, 45, 48), QtGui.QColor(222, 222, 222)
    for role, color in (
        (C.Window, window), (C.WindowText, text), (C.Base, base), (C.AlternateBase, QtGui.QColor(38, 40, 43)),
        (C.ToolTipBase, QtGui.QColor(60, 63, 66)), (C.ToolTipText, text), (C.Text, text),
        (C.Button, QtGui.QColor(55, 58, 62)), (C.ButtonText, text), (C.BrightText, QtGui.QColor(255, 90, 90)),
        (C.Highlight, QtGui.QColor(53, 116, 196)), (C.HighlightedText, QtGui.QColor(255, 255, 255)),
        (C.Link, QtGui.QColor(100, 160, 240)), (C.PlaceholderText, QtGui.QColor(130, 130, 130)),
    ):
        p.setColor(role, color)
    for role in (C.Text, C.ButtonText, C.WindowText):
        p.setColor(QtGui.QPalette.ColorGroup.Disabled, role, QtGui.QColor(120, 120, 120))
    return p
