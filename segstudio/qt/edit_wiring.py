"""The editing tools' wiring beyond the basics in main_window: wand and paint-over options,
edges-only drawing, per-class visibility, class selection from the keyboard, and the
prediction panel's accept tools. One call (:func:`install_edit_wiring`) keeps the main
window composition.
"""

from __future__ import annotations

import time

from PySide6 import QtCore, QtGui

from segstudio.core.class_keys import DigitBuffer, step_class
from segstudio.core.tools import ACCEPT_TOOLS, Tool
from segstudio.qt.cursor_readout import class_name
from segstudio.qt.shortcuts import CLASS_DIGIT_KEYS, NEXT_CLASS_KEY, PREVIOUS_CLASS_KEY


class EditWiring(QtCore.QObject):
    def __init__(self, window, clock=time.monotonic):  # MainWindow
        super().__init__(window)
        self.window = w = window
        self.clock = clock
        self.digits = DigitBuffer()
        s, c, tb, panel = w.session, w.canvas, w.toolbar, w.class_panel
        tb.toleranceChanged.connect(c.set_tolerance)
        tb.connectivityChanged.connect(c.set_connectivity)
        tb.paintOverChanged.connect(c.set_paint_over)
        tb.contourToggled.connect(c.set_contour_only)
        tb.toolChosen.connect(self._tool_chosen)
        c.set_tolerance(tb.tolerance_spin.value())
        panel.hiddenRequested.connect(s.set_hidden_classes)
        s.hiddenClassesChanged.connect(c.set_hidden_classes)
        s.hiddenClassesChanged.connect(panel.set_hidden)
        learning = getattr(w, "learning", None)
        if learning is not None:
            learning.predictions.toolRequested.connect(self.choose_tool)
            s.hiddenClassesChanged.connect(learning.predictions.set_hidden_classes)
        self.class_actions = []
        for key in CLASS_DIGIT_KEYS:
            self._key_action(key, lambda _=False, k=key: self.type_digit(k))
        self.next_class_action = self._key_action(NEXT_CLASS_KEY, lambda: self.step(+1), "Next class")
        self.previous_class_action = self._key_action(PREVIOUS_CLASS_KEY, lambda: self.step(-1), "Previous class")

    def _key_action(self, key: str, slot, text: str = "") -> QtGui.QAction:
        act = QtGui.QAction(text, self.window)
        act.setShortcut(QtGui.QKeySequence(key))
        act.triggered.connect(slot)
        self.window.addAction(act)
        self.class_actions.append(act)
        return act

    def type_digit(self, digit: str) -> int | None:
        """A digit typed: select the class whose id the digits typed in quick succession name."""
        class_id = self.digits.press(digit, self.clock(), self.window.session.table.ids)
        if class_id is not None:
            self._select(class_id)
        return class_id

    def step(self, step: int) -> None:
        class_id = step_class(self.window.session.table.ids, self.window.canvas.settings.label, step)
        if class_id is not None:
            self._select(class_id)

    def _select(self, class_id: int) -> None:
        self.window.choose_class(class_id)
        self.window.statusBar().showMessage(f"Painting with class {class_name(self.window.session.table, class_id)}",
                                            2500)

    def _tool_chosen(self, tool: Tool) -> None:
        if tool in ACCEPT_TOOLS and self.window.canvas.driver.prediction is None:
            self.window.statusBar().showMessage(
                "No prediction is shown for this image: predict it first (Predictions panel)", 5000)

    def choose_tool(self, tool: Tool) -> None:
        """What a tool button does (the tool bar stays the one place that shows the tool)."""
        self.window.toolbar.tool_actions[tool].trigger()


def install_edit_wiring(window) -> EditWiring:
    return EditWiring(window)
