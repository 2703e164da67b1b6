"""The window's palette and its small style sheets, in one place (panels import these
names instead of writing colours inline)."""

from __future__ import annotations

from PySide6 import QtGui

from segstudio.resources import icon_path

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


def style_sheet() -> str:
    """The application style sheet: check boxes whose box shows on the dark palette (Fusion
    draws it dark grey on dark grey), checked ones filled blue with a white mark."""
    try:
        mark = f"image: url({icon_path('check').as_posix()});"
    except FileNotFoundError:  # a broken install: the blue fill alone still says 'checked'
        mark = ""
    return f"""
QCheckBox::indicator, QGroupBox::indicator {{
    width: 14px; height: 14px; border: 1px solid #9a9ca0; border-radius: 3px; background: #1e1f22; }}
QCheckBox::indicator:hover, QGroupBox::indicator:hover {{ border-color: #d0d0d0; }}
QCheckBox::indicator:checked, QGroupBox::indicator:checked {{
    background: #3574c4; border-color: #8fb8ec; {mark} }}
QCheckBox::indicator:disabled {{ border-color: #5c5e62; background: #2b2d30; }}
QCheckBox::indicator:checked:disabled {{ background: #3b4a5e; }}
"""
