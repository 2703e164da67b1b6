"""The window's palette and its small style sheets, in one place (panels import these
names instead of writing colours inline)."""

from __future__ import annotations

#: background of every pyqtgraph plot (a dark grey that matches the dock panels)
PLOT_BACKGROUND = (28, 29, 33)
#: the grey of 'unweighted' bars beside the coloured weighted ones
NEUTRAL_BAR = (110, 110, 110)

#: secondary text: hints, summaries, notes under a field
HINT_STYLE = "color: #a0a0a0"
SMALL_HINT_STYLE = "color: #a0a0a0; font-size: 8pt"
#: numbers and legends that should read a little brighter than hints
DETAIL_STYLE = "color: #b8b8b8"
#: something the user should notice: an out-of-date prediction, a missing class
WARNING_COLOR = "#d08030"
WARNING_STYLE = f"color: {WARNING_COLOR}"
#: the one button of a panel that starts its work
PRIMARY_BUTTON_STYLE = "QPushButton { font-weight: bold; padding: 5px; }"
