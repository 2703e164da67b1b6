"""The main window: composes the canvas, panels, tool bar and menus, and wires their signals
to the :class:`AnnotationSession`. No I/O or drawing logic lives here."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from segstudio.core.tools import Tool
from segstudio.qt.annotation_session import AnnotationSession
from segstudio.qt.canvas.image_canvas import ImageCanvas, default_levels
from segstudio.qt.cursor_readout import cursor_text
from segstudio.qt.dialogs.help_dialogs import AboutDialog, ImbalanceHelpDialog, ShortcutsDialog
from segstudio.qt.dialogs.project_dialogs import (
    NewProjectDialog,
    NewProjectRequest,
    show_import_report,
)
from segstudio.qt.edit_wiring import install_edit_wiring
from segstudio.qt.errors import ErrorReporter
from segstudio.qt.icons import svg_icon
from segstudio.qt.learning_docks import install_learning
from segstudio.qt.panels.class_panel import ClassPanel
from segstudio.qt.panels.image_list import ImageListPanel
from segstudio.qt.panels.start_page import StartPage, default_demo_dir
from segstudio.qt.panels.stats_panel import StatsPanel
from segstudio.qt.settings import add_recent_project, app_settings, recent_projects
from segstudio.qt.widgets.edit_toolbar import EditToolBar
from segstudio.qt.workspaces import WorkspaceSwitcher


class MainWindow(QtWidgets.QMainWindow):
    def __init__(self, *, dialogs: bool = True, restore_layout: bool = True):
        super().__init__()
        self.setWindowTitle("segstudio")
        self.setDockNestingEnabled(True)
        self.errors = ErrorReporter(self, dialogs=dialogs)
        self.session = AnnotationSession(self.errors, self)
        self.session.ask_unsaved = lambda: self._ask_unsaved()
        self.canvas = ImageCanvas()
        self.start_page = StartPage()
        self.stack = QtWidgets.QStackedWidget()
        self.stack.addWidget(self.start_page)
        self.stack.addWidget(self.canvas)
        self.stack.setMinimumSize(240, 160)  # explicit: the start page's size hint must not set the window's
        self.setCentralWidget(self.stack)
        self.image_list = ImageListPanel()
        self.class_panel = ClassPanel()
        self.stats_panel = StatsPanel()
        self.docks = {
            "images": self._dock("Images", self.image_list, QtCore.Qt.DockWidgetArea.LeftDockWidgetArea),
            "classes": self._dock("Classes", self.class_panel, QtCore.Qt.DockWidgetArea.RightDockWidgetArea),
            "statistics": self._dock("Class statistics and weights", self.stats_panel,
                                     QtCore.Qt.DockWidgetArea.BottomDockWidgetArea),
        }
        self.toolbar = EditToolBar(self)
        self.addToolBar(self.toolbar)
        self.addActions(self.toolbar.shortcut_actions)
        self._build_status_bar()
        self._build_menus()
        self._connect()
        self.learning = install_learning(self)  # training, runs, predictions, review queue, export
        self.edit_wiring = install_edit_wiring(self)  # wand, paint over, class visibility and keys
        self.workspaces = WorkspaceSwitcher(self, self.docks, persist=restore_layout)
        self.menuBar().setCornerWidget(self.workspaces.toolbar)  # beside the menus: no tool bar row of its own
        self.workspaces.add_to_menu(self.view_menu)
        for act, icon in ((self.save_action, "save"), (self.undo_action, "undo"), (self.redo_action, "redo")):
            act.setIcon(svg_icon(icon))
            self.toolbar.insertAction(self.toolbar.file_separator, act)
            button = self.toolbar.widgetForAction(act)
            if button is not None and not act.icon().isNull():
                button.setToolButtonStyle(QtCore.Qt.ToolButtonStyle.ToolButtonIconOnly)
        self._restore_layout = restore_layout
        self._docks_shown = False  # until a project opens its workspace
        for dock in self.docks.values():
            dock.hide()
        self.restored_geometry = False
        if restore_layout and app_settings().value("geometry") is not None:
            self.restored_geometry = self.restoreGeometry(app_settings().value("geometry"))
        self._refresh_recent()
        self._show_project_widgets(False)

    # -- composition ---------------------------------------------------------------
    def _dock(self, title: str, widget: QtWidgets.QWidget, area) -> QtWidgets.QDockWidget:
        dock = QtWidgets.QDockWidget(title, self)
        dock.setObjectName(f"dock_{title.split()[0].lower()}")
        widget.setMinimumSize(180, 120)  # explicit, so small --size values still fit
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    def _build_status_bar(self) -> None:
        self.cursor_label = QtWidgets.QLabel()
        self.cursor_label.setMinimumWidth(320)
        self.image_label = QtWidgets.QLabel()
        self.progress = QtWidgets.QProgressBar()
        self.progress.setMaximumWidth(220)
        self.progress.setVisible(False)
        bar = self.statusBar()
        bar.addPermanentWidget(self.progress)
        bar.addPermanentWidget(self.image_label)
        bar.addPermanentWidget(self.cursor_label)

    def _action(self, menu: QtWidgets.QMenu, text: str, slot, shortcut=None, tip: str = "") -> QtGui.QAction:
        act = menu.addAction(text)
        act.triggered.connect(slot)
        if shortcut is not None:
            if isinstance(shortcut, list | tuple):
                act.setShortcuts([QtGui.QKeySequence(s) for s in shortcut])
            else:
                act.setShortcut(QtGui.QKeySequence(shortcut))
        if tip:
            act.setStatusTip(tip)
        return act

    def _build_menus(self) -> None:
        K = QtGui.QKeySequence.StandardKey
        file = self.menuBar().addMenu("&File")
        self._action(file, "&New project from folders…", self.new_project, K.New)
        self._action(file, "&Open project…", self.ask_open_project, K.Open)
        self.recent_menu = file.addMenu("Open &recent")
        file.addSeparator()
        self.save_action = self._action(file, "&Save mask", self.session.save, K.Save)
        self.autosave_action = file.addAction("Autosave when leaving an image")
        self.autosave_action.setCheckable(True)
        self.autosave_action.setChecked(True)
        self.autosave_action.toggled.connect(lambda on: setattr(self.session, "autosave", on))
        self._action(file, "Re-count class &statistics", lambda: self.session.reindex(force=True),
                     tip="Count every mask again in the background (after editing masks elsewhere)")
        file.addSeparator()
        self._action(file, "&Quit", self.close, "Ctrl+Q")
        edit = self.menuBar().addMenu("&Edit")
        self.undo_action = self._action(edit, "&Undo stroke", self.session.undo, K.Undo)
        self.redo_action = self._action(edit, "&Redo stroke", self.session.redo, ["Ctrl+Shift+Z", "Ctrl+Y"])
        edit.addSeparator()
        for act in self.toolbar.tool_actions.values():
            edit.addAction(act)
        edit.addActions(self.toolbar.shortcut_actions)
        edit.addSeparator()
        self._action(edit, "Close polygon", self.canvas.finish_gesture, ["Return", "Enter"])
        self._action(edit, "Cancel polygon", self.canvas.cancel_gesture, "Escape")
        self.view_menu = view = self.menuBar().addMenu("&View")
        self._action(view, "Next image", lambda: self.image_list.step(+1), ["PgDown", "Ctrl+Right"])
        self._action(view, "Previous image", lambda: self.image_list.step(-1), ["PgUp", "Ctrl+Left"])
        view.addSeparator()
        self._action(view, "&Fit image", self.canvas.fit, ["Ctrl+0", "Home"])
        self._action(view, "Zoom &in", lambda: self.canvas.zoom(1.25), [K.ZoomIn, "+", "="])
        self._action(view, "Zoom &out", lambda: self.canvas.zoom(0.8), [K.ZoomOut, "-"])
        view.addAction(self.toolbar.overlay_action)
        view.addSeparator()
        for dock in self.docks.values():
            view.addAction(dock.toggleViewAction())
        self.help_menu = help_menu = self.menuBar().addMenu("&Help")
        self._action(help_menu, "&Keyboard shortcuts", self.show_shortcuts, "F1")
        self._action(help_menu, "How &imbalance is handled", self.show_imbalance_help)
        help_menu.addSeparator()
        self._action(help_menu, "&About segstudio", self.show_about)

    def _connect(self) -> None:
        s, c, tb = self.session, self.canvas, self.toolbar
        s.projectOpened.connect(self._project_opened)
        s.classesChanged.connect(self._classes_changed)
        s.statsChanged.connect(self._stats_changed)
        s.imagesChanged.connect(self.refresh_image_list)
        s.imagesChanged.connect(self._show_image_info)
        s.imageLoaded.connect(self._image_loaded)
        s.dirtyChanged.connect(self._update_title)
        s.historyChanged.connect(lambda u, r: (self.undo_action.setEnabled(u), self.redo_action.setEnabled(r)))
        s.busy.connect(self._busy)
        self.image_list.imageChosen.connect(self._image_chosen)
        self.class_panel.classSelected.connect(self.choose_class)
        self.class_panel.renameRequested.connect(lambda cid, name: s.update_class(cid, name=name))
        self.class_panel.recolourRequested.connect(lambda cid, rgb: s.update_class(cid, color=tuple(rgb)))
        self.class_panel.ignoreRequested.connect(lambda cid, on: s.update_class(cid, ignore=on))
        self.class_panel.addRequested.connect(s.add_class)
        self.class_panel.mergeRequested.connect(s.merge_classes)
        self.class_panel.filterRequested.connect(lambda cid: self.image_list.filter_by(class_id=cid))
        tb.toolChosen.connect(c.set_tool)
        tb.sizeChanged.connect(c.set_brush_size)
        tb.labelChosen.connect(self.choose_class)
        tb.opacityChanged.connect(c.set_overlay_opacity)
        tb.overlayToggled.connect(c.set_overlay_visible)
        tb.levelsChanged.connect(c.set_levels)
        c.classPicked.connect(self._class_picked)
        c.cursorMoved.connect(self._cursor_moved)
        self.start_page.open_folder_requested.connect(self.new_project)
        self.start_page.open_project_requested.connect(
            lambda path: self.open_project(path) if path else self.ask_open_project())
        self.start_page.open_demo_requested.connect(self.open_demo)
        c.set_brush_size(tb.size_spin.value())

    # -- project ----------------------------------------------------------------------
    def open_project(self, folder: str | Path) -> bool:
        """Open a project on the image it was left on (else its first image)."""
        if not self.session.open_project(folder):
            return False
        if self._restore_layout:
            self._refresh_recent(add_recent_project(folder))
        last = self.session.last_image_id()
        if last is not None:
            self.image_list.select(last)
            if self.session.current is None:  # filtered out of the list: open it anyway
                self.session.open_image(last)
        else:
            self.open_first_image()
        return True

    def ask_open_project(self) -> None:
        folder = QtWidgets.QFileDialog.getExistingDirectory(self, "Open project folder")
        if folder:
            self.open_project(folder)

    def open_demo(self) -> None:
        """Open the demo project, generating it (in a worker) the first time."""
        folder = default_demo_dir()
        if (folder / "segstudio.db").is_file():
            self.open_project(folder)
            return
        from segstudio.services.demo import make_demo

        def done(result) -> None:
            result[0].close()
            self.open_project(folder)

        self.session.run_in_thread("Demo project", make_demo, folder, on_return=done,
                                   on_finish=lambda: self._busy("", 0, 0))

    def new_project(self) -> None:
        dlg = NewProjectDialog(self)
        if dlg.exec() == QtWidgets.QDialog.DialogCode.Accepted:
            self.import_project(dlg.request())

    def import_project(self, req: NewProjectRequest):  # the worker
        """Import folders in a worker thread; then show what was skipped and open the project."""
        from segstudio.services.project_import import import_folder

        if not self.session.maybe_save():
            return None

        def done(result) -> None:  # (Project opened in the worker, ImportReport)
            worker_project, report = result
            worker_project.close()
            self.last_import_report = show_import_report(self, report.added, report.labelled, report.skipped)
            self.open_project(req.project_dir)

        return self.session.run_in_thread(
            "Import", import_folder, req.project_dir, req.images_dir, req.masks_dir, req.classes_file,
            on_return=done, on_finish=lambda: self._busy("", 0, 0))

    def _refresh_recent(self, paths: list[str] | None = None) -> None:
        paths = recent_projects() if paths is None else paths
        self.recent_menu.clear()
        for p in paths:
            self.recent_menu.addAction(p, lambda p=p: self.open_project(p))
        self.recent_menu.setEnabled(bool(paths))
        self.start_page.set_recent(paths)

    def _project_opened(self, project) -> None:
        self._show_project_widgets(project is not None)
        if project is not None:
            self.setWindowTitle(f"segstudio — {project.root.name}")
            self.refresh_image_list()

    def _show_project_widgets(self, on: bool) -> None:
        """With no project only the start page shows; the workspace's docks come back after."""
        self.stack.setCurrentWidget(self.canvas if on else self.start_page)
        if not on and self._docks_shown:
            self.workspaces.remember()
            for dock in self.docks.values():
                dock.hide()
        elif on and not self._docks_shown:
            self.workspaces.restore()
        self._docks_shown = on
        for bar in (self.toolbar, self.workspaces.toolbar):
            bar.setEnabled(on)
            bar.setVisible(on)

    def refresh_image_list(self) -> None:
        if self.session.project is not None:
            self.image_list.set_images(self.session.images(), self.session.class_counts(), self.session.table)

    def open_first_image(self, richest: bool = False) -> None:
        """Open the first listed image (``richest``: the one with the most classes present)."""
        rows = self.image_list.model.rows
        if not rows:
            return
        row = max(rows, key=lambda r: len(r.classes)) if richest else rows[0]
        self.image_list.select(row.id)

    def _image_chosen(self, image_id: int) -> None:
        if not self.session.open_image(image_id) and self.session.current is not None:
            self.image_list.select(self.session.current.record.id, emit=False)

    def _image_loaded(self, image) -> None:
        self.canvas.set_image(image.pixels if image else None, self.session.model)
        if image is None:
            self.image_label.setText("")
            return
        px = image.pixels
        gray = px.ndim == 2
        if gray:
            top = 65535.0 if px.dtype == np.uint16 else float(max(px.max(), 1)) if px.dtype.kind == "f" else 255.0
            self.toolbar.set_level_range(0.0, top, default_levels(px), True)
        else:
            self.toolbar.set_level_range(0.0, 255.0, (0.0, 255.0), False)
        self._show_image_info()
        self._update_title(False)

    def _show_image_info(self) -> None:
        """Name, size, type and status of the open image (the status as the list shows it)."""
        image = self.session.current
        if image is None:
            return
        rec = image.record
        self.image_label.setText(f"{Path(rec.path).name}  {rec.width}×{rec.height}  {image.pixels.dtype}  "
                                 f"[{rec.status}]")

    def _update_title(self, dirty: bool) -> None:
        project = self.session.project
        name = Path(self.session.current.record.path).name if self.session.current else ""
        base = f"segstudio — {project.root.name}" if project else "segstudio"
        self.setWindowTitle(f"{base} — {name}{' •' if dirty else ''}" if name else base)
        self.save_action.setEnabled(dirty)

    # -- classes ------------------------------------------------------------------------
    def _classes_changed(self, table) -> None:
        self.canvas.set_table(table)
        self.class_panel.set_classes(table, self.session.totals)
        current = self.canvas.settings.label
        if current not in table:  # e.g. merged away: fall back to the first foreground class
            current = next((c.id for c in table if c.id != 0 and not c.ignore), 0)
        self.toolbar.set_classes(table, current)
        self.choose_class(current)
        self.stats_panel.set_data(table, self.session.totals)
        self.refresh_image_list()

    def _stats_changed(self, totals) -> None:
        self.class_panel.set_totals(totals)
        self.stats_panel.set_data(self.session.table, totals)

    def choose_class(self, class_id: int) -> None:
        if class_id not in self.session.table:
            return
        self.canvas.set_label(class_id)
        self.toolbar.set_label(class_id)
        self.class_panel.select_class(class_id, emit=False)

    def _class_picked(self, class_id: int) -> None:
        self.choose_class(class_id)
        self.canvas.set_tool(Tool.BRUSH)
        self.toolbar.set_tool(Tool.BRUSH)

    # -- status -----------------------------------------------------------------------------
    def _cursor_moved(self, x: int, y: int) -> None:
        model, learning = self.session.model, getattr(self, "learning", None)
        self.cursor_label.setText(cursor_text(x, y, self.canvas.pixels, model.labels if model else None,
                                              self.session.table, learning.session.shown.cached if learning else None))

    def _busy(self, what: str, done: int, total: int) -> None:
        """Progress of a background job (merge, import); masks are not editable meanwhile."""
        self.canvas.set_editing_enabled(total <= 0)
        if total <= 0:
            self.progress.setVisible(False)
            self.statusBar().clearMessage()
            return
        self.progress.setVisible(True)
        self.progress.setRange(0, total)
        self.progress.setValue(done)
        self.progress.setFormat(f"{what}: %v/%m")

    def show_shortcuts(self) -> None:
        ShortcutsDialog(self).exec()

    def show_imbalance_help(self) -> None:
        ImbalanceHelpDialog(self).exec()

    def show_about(self) -> None:
        AboutDialog(self).exec()

    # -- lifetime ----------------------------------------------------------------------------
    def closeEvent(self, ev: QtGui.QCloseEvent) -> None:
        if not self.session.maybe_save():
            ev.ignore()
            return
        if self._restore_layout:
            if self._docks_shown:  # the workspace's docks, not the start page's
                self.workspaces.remember()
            app_settings().setValue("geometry", self.saveGeometry())
        self.learning.shutdown()
        self.session.shutdown()
        self.session.close_project()
        ev.accept()

    def _ask_unsaved(self) -> str:
        answer = QtWidgets.QMessageBox.question(
            self, "Unsaved mask", "The mask has unsaved edits. Save them?",
            QtWidgets.QMessageBox.StandardButton.Save | QtWidgets.QMessageBox.StandardButton.Discard
            | QtWidgets.QMessageBox.StandardButton.Cancel)
        return {QtWidgets.QMessageBox.StandardButton.Save: "save",
                QtWidgets.QMessageBox.StandardButton.Discard: "discard"}.get(answer, "cancel")
