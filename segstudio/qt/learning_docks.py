"""The learning side of the window: training, run history, predictions, review queue, export.

:func:`install_learning` builds the panels as docks of the main window and wires them to
the session and to each other, so ``main_window`` stays composition (one call). No I/O
or drawing here either: each panel owns its part.
"""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

from segstudio.qt.dialogs.export_dialog import ExportDialog
from segstudio.qt.panels.prediction_panel import PredictionPanel
from segstudio.qt.panels.review_queue import ReviewQueue
from segstudio.qt.panels.run_history import RunHistory
from segstudio.qt.panels.training_panel import TrainingPanel

Area = QtCore.Qt.DockWidgetArea


class Learning(QtCore.QObject):
    def __init__(self, window):  # noqa: ANN001 - MainWindow
        super().__init__(window)
        self.window = w = window
        self.training = TrainingPanel(w.errors)
        self.history = RunHistory(w.errors)
        self.predictions = PredictionPanel(w.canvas, w.session, w.errors, listed_ids=w.image_list.visible_ids)
        self.queue = ReviewQueue(w.errors)
        self.docks = {
            "training": w._dock("Training", self.training, Area.BottomDockWidgetArea),
            "runs": w._dock("Runs history", self.history, Area.BottomDockWidgetArea),
        }
        # the review queue sits under the (short) predictions panel: both visible together
        self.prediction_split = QtWidgets.QSplitter(QtCore.Qt.Orientation.Vertical)
        self.prediction_split.addWidget(self.predictions)
        self.prediction_split.addWidget(self.queue)
        self.prediction_split.setStretchFactor(0, 0)
        self.prediction_split.setStretchFactor(1, 1)
        self.prediction_split.setCollapsible(0, False)
        self.docks["predictions"] = w._dock("Predictions and review queue", self.prediction_split,
                                            Area.RightDockWidgetArea)
        if "statistics" in w.docks:
            w.tabifyDockWidget(w.docks["statistics"], self.docks["training"])
            w.tabifyDockWidget(self.docks["training"], self.docks["runs"])
        if "classes" in w.docks:
            w.tabifyDockWidget(w.docks["classes"], self.docks["predictions"])
        for name in ("statistics", "classes"):  # the annotation panels stay in front by default
            if name in w.docks:
                w.docks[name].raise_()
        w.docks.update(self.docks)
        self._menu()
        self._connect()

    def _menu(self) -> None:
        bar = self.window.menuBar()
        m = QtWidgets.QMenu("&Learning", bar)
        # before Help, which by convention stays the last menu
        help_action = next((a for a in bar.actions() if a.text().replace("&", "") == "Help"), None)
        if help_action is not None:
            bar.insertMenu(help_action, m)
        else:
            bar.addMenu(m)
        self.menu = m

        def add(text: str, slot, shortcut: str | None = None) -> QtGui.QAction:  # noqa: ANN001
            act = m.addAction(text)
            act.triggered.connect(slot)
            if shortcut:
                act.setShortcut(QtGui.QKeySequence(shortcut))
            return act

        add("&Train…", lambda: self.show("training"), "Ctrl+Shift+T")
        add("&Predict this image", self.predictions.predict_current.click, "Ctrl+Shift+P")
        add("&Accept prediction into the mask", self.predictions.accept_all.click, "Ctrl+Shift+A")
        add("&Next image to correct", self.queue.next_image, "Ctrl+Shift+N")
        m.addSeparator()
        self.export_action = add("&Export model…", self.export_dialog, "Ctrl+Shift+E")
        m.addSeparator()
        for dock in self.docks.values():
            m.addAction(dock.toggleViewAction())

    def _connect(self) -> None:
        s = self.window.session
        s.projectOpened.connect(self._project_opened)
        s.classesChanged.connect(self._classes_changed)
        s.imageLoaded.connect(self._image_loaded)
        self.training.runFinished.connect(self._run_finished)
        self.training.message.connect(self._status)
        self.history.runSelected.connect(lambda _rid, epochs: self.training.show_run(epochs))
        self.predictions.predictionsChanged.connect(self._predictions_changed)
        self.predictions.correctionsChanged.connect(self._corrections_changed)
        self.predictions.busy.connect(self.window._busy)
        self.queue.imageChosen.connect(self.open_image)

    # -- reactions ---------------------------------------------------------------------------------
    def _project_opened(self, project) -> None:  # noqa: ANN001
        table = self.window.session.table if project is not None else None
        self.training.set_project(project, table)
        self.history.set_project(project, table)
        self.queue.set_project(project)
        self.predictions.refresh_model()

    def _classes_changed(self, table) -> None:  # noqa: ANN001
        self.training.table = table
        if not self.training.running:
            self.training.plots.reset(table)
        self.training.refresh_weights()

    def _image_loaded(self, image) -> None:  # noqa: ANN001
        self.queue.set_current(image.record.id if image is not None else None)

    def _run_finished(self, result: dict) -> None:
        # separate events, so each refresh is a short stall rather than one long one
        QtCore.QTimer.singleShot(0, self.history.refresh)
        QtCore.QTimer.singleShot(0, self.predictions.refresh_model)

    def _predictions_changed(self) -> None:
        self.queue.refresh()
        self.window.refresh_image_list()

    def _corrections_changed(self) -> None:
        self.training.refresh()
        self.queue.refresh()

    def _status(self, text: str) -> None:
        self.window.statusBar().showMessage(text, 8000)

    def show(self, name: str) -> None:
        dock = self.docks[name]
        dock.show()
        dock.raise_()

    def open_image(self, image_id: int) -> None:
        w = self.window
        w.image_list.select(image_id)
        cur = w.session.current
        if cur is None or cur.record.id != image_id:  # filtered out of the list: open it anyway
            w.session.open_image(image_id)

    def export_dialog(self, run_id: int | None = None) -> ExportDialog | None:
        project = self.window.session.project
        if project is None:
            return None
        dlg = ExportDialog(project, self.window.errors, self.window, run_id)
        dlg.setModal(False)
        dlg.show()
        return dlg

    def shutdown(self) -> None:
        """Window closing: stop training and predictions, wait for the training thread."""
        self.predictions.shutdown()
        self.training.shutdown()


def install_learning(window) -> Learning:  # noqa: ANN001
    return Learning(window)
