"""Tool bar: tools (B E F P W I A L), brush size ([ ]), wand tolerance and connectivity,
paint over (preserve labels), current class, overlay toggle/edges-only/opacity, levels."""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets
from superqt import QLabeledDoubleRangeSlider

from segstudio.core.classes import ClassTable
from segstudio.core.tools import MAX_BRUSH, MIN_BRUSH, Tool, next_brush_size
from segstudio.qt.icons import svg_icon
from segstudio.qt.panels.class_panel import swatch_icon

TOOL_SHORT_NAMES = {Tool.BRUSH: "Brush", Tool.ERASER: "Eraser", Tool.FILL: "Fill", Tool.POLYGON: "Polygon",
                    Tool.WAND: "Wand", Tool.PICKER: "Picker", Tool.ACCEPT_BRUSH: "Accept brush",
                    Tool.ACCEPT_LASSO: "Accept lasso"}
TOOL_ICON_TEXT = {Tool.BRUSH: "●", Tool.ERASER: "◌", Tool.FILL: "▨", Tool.POLYGON: "⬠", Tool.WAND: "✦",
                  Tool.PICKER: "⊕", Tool.ACCEPT_BRUSH: "✓●", Tool.ACCEPT_LASSO: "✓⬠"}
#: paint-over combo data for 'any pixel' (the others are class ids; 0 = background only)
PAINT_OVER_ANY = -1


class EditToolBar(QtWidgets.QToolBar):
    toolChosen = QtCore.Signal(object)  # Tool
    sizeChanged = QtCore.Signal(int)
    labelChosen = QtCore.Signal(int)
    opacityChanged = QtCore.Signal(float)
    overlayToggled = QtCore.Signal(bool)
    levelsChanged = QtCore.Signal(float, float)
    toleranceChanged = QtCore.Signal(float)
    connectivityChanged = QtCore.Signal(int)
    paintOverChanged = QtCore.Signal(object)  # class id, or None: paint over anything
    contourToggled = QtCore.Signal(bool)

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__("Tools", parent)
        self.setObjectName("EditToolBar")
        self.setToolButtonStyle(QtCore.Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.setIconSize(QtCore.QSize(20, 20))
        self.tool_group = QtGui.QActionGroup(self)
        self.tool_actions: dict[Tool, QtGui.QAction] = {}
        for tool in Tool:
            icon = svg_icon(tool.value)
            act = QtGui.QAction(TOOL_SHORT_NAMES[tool], self)
            if not icon.isNull():
                act.setIcon(icon)
            else:
                act.setText(f"{TOOL_ICON_TEXT[tool]} {TOOL_SHORT_NAMES[tool]}")
            act.setCheckable(True)
            act.setShortcut(tool.shortcut)
            act.setToolTip(f"{tool.title} ({tool.shortcut})")
            act.triggered.connect(lambda _=False, t=tool: self.toolChosen.emit(t))
            self.tool_group.addAction(act)
            self.addAction(act)
            button = self.widgetForAction(act)
            if button is not None and not icon.isNull():  # icons with tooltips: eight tools fit
                button.setToolButtonStyle(QtCore.Qt.ToolButtonStyle.ToolButtonIconOnly)
            self.tool_actions[tool] = act
        self.tool_actions[Tool.BRUSH].setChecked(True)
        self.file_separator = self.insertSeparator(self.tool_actions[Tool.BRUSH])
        self.addSeparator()
        self.addWidget(QtWidgets.QLabel(" Size "))
        self.size_spin = QtWidgets.QSpinBox()
        self.size_spin.setRange(MIN_BRUSH, MAX_BRUSH)
        self.size_spin.setSuffix(" px")
        self.size_spin.setToolTip("Brush diameter in image pixels ( [ smaller, ] larger )")
        self.size_spin.setValue(9)
        self.size_spin.valueChanged.connect(self.sizeChanged)
        self.addWidget(self.size_spin)
        self.smaller = QtGui.QAction("Smaller brush", self, shortcut="[", triggered=lambda: self.step_size(-1))
        self.larger = QtGui.QAction("Larger brush", self, shortcut="]", triggered=lambda: self.step_size(+1))
        # keyboard-only: the window adds these (a tool bar would show them as buttons)
        self.shortcut_actions = [self.smaller, self.larger]
        self.addWidget(QtWidgets.QLabel(" Tol. "))
        self.tolerance_spin = QtWidgets.QDoubleSpinBox()
        self.tolerance_spin.setRange(0, 65535)
        self.tolerance_spin.setDecimals(1)
        self.tolerance_spin.setValue(10)
        self.tolerance_spin.setToolTip("Magic wand (W): intensity difference from the clicked pixel still "
                                       "filled (RGB: the largest channel difference)")
        self.tolerance_spin.valueChanged.connect(self.toleranceChanged)
        self.addWidget(self.tolerance_spin)
        self.connectivity_combo = QtWidgets.QComboBox()
        self.connectivity_combo.addItem("4-conn.", 4)
        self.connectivity_combo.addItem("8-conn.", 8)
        self.connectivity_combo.setToolTip("Fill and wand spread to 4 neighbours, or 8 (diagonals too)")
        self.connectivity_combo.currentIndexChanged.connect(
            lambda: self.connectivityChanged.emit(self.connectivity_combo.currentData()))
        self.addWidget(self.connectivity_combo)
        self.addWidget(QtWidgets.QLabel(" Over "))
        self.paint_over_combo = QtWidgets.QComboBox()
        self.paint_over_combo.setToolTip("Preserve labels: brush, fill, polygon and wand change only these "
                                         "pixels (the eraser erases anything)")
        self.paint_over_combo.currentIndexChanged.connect(self._paint_over_changed)
        self.addWidget(self.paint_over_combo)
        self.addSeparator()
        self.addWidget(QtWidgets.QLabel(" Class "))
        self.class_combo = QtWidgets.QComboBox()
        self.class_combo.setMinimumContentsLength(14)
        self.class_combo.setToolTip("Class the brush, fill, wand and polygon paint (type its id: 1 then 7 "
                                    "is class 17; . and , step through the classes)")
        self.class_combo.currentIndexChanged.connect(self._class_changed)
        self.addWidget(self.class_combo)
        self.addSeparator()
        self.overlay_action = QtGui.QAction("Mask", self, checkable=True, checked=True, shortcut="O")
        self.overlay_action.setToolTip("Show the class overlay (O)")
        self.overlay_action.toggled.connect(self.overlayToggled)
        self.addAction(self.overlay_action)
        self.contour_action = QtGui.QAction("Edges", self, checkable=True)
        self.contour_action.setToolTip("Draw the mask as region edges only (the image shows through)")
        self.contour_action.toggled.connect(self.contourToggled)
        self.addAction(self.contour_action)
        self.opacity_slider = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
        self.opacity_slider.setRange(0, 100)
        self.opacity_slider.setValue(55)
        self.opacity_slider.setMaximumWidth(90)
        self.opacity_slider.setMinimumWidth(60)
        self.opacity_slider.setToolTip("Overlay opacity")
        self.opacity_slider.valueChanged.connect(lambda v: self.opacityChanged.emit(v / 100))
        self.addWidget(self.opacity_slider)
        self.addSeparator()
        self.addWidget(QtWidgets.QLabel(" Levels "))
        self.levels = QLabeledDoubleRangeSlider(QtCore.Qt.Orientation.Horizontal)
        self.levels.setRange(0, 255)
        self.levels.setValue((0, 255))
        self.levels.setDecimals(0)
        self.levels.setMinimumWidth(170)
        self.levels.setToolTip("Display range of gray images (8 or 16 bit)")
        self.levels.valueChanged.connect(lambda v: self.levelsChanged.emit(float(v[0]), float(v[1])))
        self.addWidget(self.levels)

    # -- state the window pushes in ------------------------------------------------------
    def set_tool(self, tool: Tool) -> None:
        self.tool_actions[tool].setChecked(True)

    def step_size(self, step: int) -> None:
        self.size_spin.setValue(next_brush_size(self.size_spin.value(), step))

    def set_classes(self, table: ClassTable, current: int | None) -> None:
        self.class_combo.blockSignals(True)
        self.class_combo.clear()
        for c in table:
            self.class_combo.addItem(swatch_icon(c.color, c.ignore), f"{c.id}  {c.name}", c.id)
        self.class_combo.blockSignals(False)
        if current is not None:
            self.set_label(current)
        over = self.paint_over_combo.currentData()
        self.paint_over_combo.blockSignals(True)
        self.paint_over_combo.clear()
        self.paint_over_combo.addItem("anything", PAINT_OVER_ANY)
        self.paint_over_combo.addItem("background only", 0)
        for c in table:
            if c.id != 0:
                self.paint_over_combo.addItem(swatch_icon(c.color, c.ignore), f"only {c.id} {c.name}", c.id)
        i = self.paint_over_combo.findData(over)
        self.paint_over_combo.setCurrentIndex(max(i, 0))
        self.paint_over_combo.blockSignals(False)
        if i < 0 and over not in (None, PAINT_OVER_ANY):  # that class is gone
            self._paint_over_changed(0)

    def _paint_over_changed(self, idx: int) -> None:
        data = self.paint_over_combo.itemData(idx)
        self.paintOverChanged.emit(None if data in (None, PAINT_OVER_ANY) else int(data))

    def set_label(self, class_id: int) -> None:
        idx = self.class_combo.findData(class_id)
        if idx >= 0 and idx != self.class_combo.currentIndex():
            self.class_combo.setCurrentIndex(idx)

    def _class_changed(self, idx: int) -> None:
        cid = self.class_combo.itemData(idx)
        if cid is not None:
            self.labelChosen.emit(cid)

    def set_level_range(self, lo: float, hi: float, value: tuple[float, float], enabled: bool) -> None:
        self.levels.blockSignals(True)
        self.levels.setRange(lo, hi)
        self.levels.setValue(value)
        self.levels.blockSignals(False)
        self.levels.setEnabled(enabled)
