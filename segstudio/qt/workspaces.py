"""Workspaces: one dock layout per job -- Annotate, Train, Review -- around the canvas.

The layouts are data (:data:`WORKSPACES`): which docks, in which area, stacked or tabbed, and
their share of the window, so each fits 1400x900 and grows with the window.
:class:`WorkspaceSwitcher` puts them on a tool bar (one checkable action each, Ctrl+1/2/3)
and in View ▸ Workspace, and keeps, per workspace, the user's own dock changes (QSettings
``workspace/<name>``) until *Reset workspace* puts the definition back.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6 import QtCore, QtGui, QtWidgets

from segstudio.qt.settings import app_settings

Area = QtCore.Qt.DockWidgetArea
Horizontal, Vertical = QtCore.Qt.Orientation.Horizontal, QtCore.Qt.Orientation.Vertical


@dataclass(frozen=True)
class Column:
    """Docks in one dock area, top to bottom (or left to right at the bottom), each with its
    share of the area; ``tabs``: names tabbed behind the first dock of the column."""

    area: Area
    docks: tuple[str, ...]
    share: float  # of the window's width (left/right) or height (bottom)
    heights: tuple[float, ...] = ()  # the docks' shares of the column, when several
    tabs: tuple[str, ...] = ()


@dataclass(frozen=True)
class Workspace:
    name: str
    title: str
    shortcut: str
    tip: str
    columns: tuple[Column, ...]

    @property
    def docks(self) -> tuple[str, ...]:
        return tuple(d for c in self.columns for d in c.docks + c.tabs)


WORKSPACES: dict[str, Workspace] = {w.name: w for w in (
    Workspace("annotate", "Annotate", "Ctrl+1", "Images, classes and their statistics around the canvas", (
        Column(Area.LeftDockWidgetArea, ("images",), 0.2),
        Column(Area.RightDockWidgetArea, ("classes",), 0.37),  # class names uncut at 1400 px
        Column(Area.BottomDockWidgetArea, ("statistics",), 0.33),
    )),
    Workspace("train", "Train", "Ctrl+2", "The training form and its plots, large; the runs history under them", (
        Column(Area.RightDockWidgetArea, ("training", "runs"), 0.72, heights=(0.7, 0.3)),
    )),
    Workspace("review", "Review", "Ctrl+3", "Predictions and the review queue beside the canvas, the image list", (
        Column(Area.LeftDockWidgetArea, ("images",), 0.2),
        Column(Area.RightDockWidgetArea, ("predictions",), 0.36),
    )),
)}
DEFAULT_WORKSPACE = "annotate"


class WorkspaceSwitcher(QtCore.QObject):
    """``switch(name)`` lays the window's docks out as ``WORKSPACES[name]`` (or as the user
    left them there); ``reset()`` puts the definition back. ``persist``: read and write the
    layouts in QSettings (off for tests and screenshots that must not see the user's)."""

    changed = QtCore.Signal(str)

    def __init__(self, window: QtWidgets.QMainWindow, docks: dict[str, QtWidgets.QDockWidget],
                 persist: bool = True):
        super().__init__(window)
        self.window, self.docks, self.persist = window, docks, persist
        self.current = DEFAULT_WORKSPACE
        if persist:
            saved = app_settings().value("workspace/current")
            if saved in WORKSPACES:
                self.current = saved
        self.toolbar = QtWidgets.QToolBar("Workspaces", window)
        self.toolbar.setObjectName("toolbar_workspaces")
        self.toolbar.setMovable(False)
        self.toolbar.setStyleSheet("QToolButton:checked { background: #3574c4; color: white; }"
                                   " QToolButton { padding: 3px 10px; }")
        self.group = QtGui.QActionGroup(self)
        self.group.setExclusive(True)
        self.actions: dict[str, QtGui.QAction] = {}
        for w in WORKSPACES.values():
            act = QtGui.QAction(w.title, self)
            act.setCheckable(True)
            act.setShortcut(QtGui.QKeySequence(w.shortcut))
            act.setToolTip(f"{w.title} workspace ({w.shortcut}): {w.tip}")
            act.triggered.connect(lambda _=False, name=w.name: self.switch(name))
            self.group.addAction(act)
            self.toolbar.addAction(act)
            self.actions[w.name] = act
        self.actions[self.current].setChecked(True)
        self.reset_action = QtGui.QAction("Reset workspace", self)
        self.reset_action.setToolTip("Put this workspace's docks back where they start")
        self.reset_action.triggered.connect(self.reset)

    def add_to_menu(self, menu: QtWidgets.QMenu) -> QtWidgets.QMenu:
        sub = menu.addMenu("&Workspace")
        sub.addActions(list(self.actions.values()))
        sub.addSeparator()
        sub.addAction(self.reset_action)
        return sub

    # -- switching -------------------------------------------------------------------------
    def switch(self, name: str) -> None:
        """Leave the current workspace (keeping its layout) and show ``name``'s."""
        if name not in WORKSPACES:
            raise KeyError(name)
        if name != self.current:
            self.remember()
        self.current = name
        self.actions[name].setChecked(True)
        self.restore()
        if self.persist:
            app_settings().setValue("workspace/current", name)
        self.changed.emit(name)

    def restore(self) -> None:
        """The current workspace as the user left it, else as defined."""
        state = app_settings().value(self._key()) if self.persist else None
        if state is None or not self.window.restoreState(state):
            self.apply(WORKSPACES[self.current])

    def remember(self) -> None:
        """Keep the current workspace's layout (the user's dock changes) for next time."""
        if self.persist:
            app_settings().setValue(self._key(), self.window.saveState())

    def reset(self) -> None:
        if self.persist:
            app_settings().remove(self._key())
        self.apply(WORKSPACES[self.current])

    def _key(self) -> str:
        return f"workspace/{self.current}"

    def apply(self, ws: Workspace) -> None:
        """Dock the workspace's panels where it says, hide the others."""
        w, docks = self.window, self.docks
        wanted = set(ws.docks)
        for name, dock in docks.items():
            if name not in wanted:
                dock.hide()
        for col in ws.columns:
            prev = None
            for name in col.docks:
                dock = docks[name]
                dock.setFloating(False)
                if prev is None:
                    w.addDockWidget(col.area, dock)
                else:
                    w.splitDockWidget(prev, dock, Horizontal if col.area == Area.BottomDockWidgetArea else Vertical)
                dock.show()
                prev = dock
            first = docks[col.docks[0]]
            for name in col.tabs:
                w.tabifyDockWidget(first, docks[name])
                docks[name].show()
            first.raise_()
        width, height = max(w.width(), 800), max(w.height(), 600)
        for col in ws.columns:
            along = Vertical if col.area == Area.BottomDockWidgetArea else Horizontal
            total = height if along == Vertical else width
            w.resizeDocks([docks[col.docks[0]]], [int(col.share * total)], along)
            if len(col.docks) > 1 and col.heights:
                across = Horizontal if along == Vertical else Vertical
                span = width if across == Horizontal else height - 120
                w.resizeDocks([docks[n] for n in col.docks], [int(f * span) for f in col.heights], across)
