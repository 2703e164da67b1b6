"""The learning side of the window: training, run history, predictions, review queue, export.

:func:`install_learning` builds the panels as docks of the main window and wires them to
the window's :class:`~segstudio.qt.learning_session.LearningSession` -- its signals feed
the panels, the panels' requests go to its methods -- so ``main_window`` stays
composition (one call). No I/O or drawing here either.
"""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

from segstudio.qt.dialogs.export_dialog import ExportDialog
from segstudio.qt.learning_session import LearningSession
from segstudio.qt.panels.prediction_panel import PredictionPanel
from segstudio.qt.panels.review_queue import ReviewQueue
from segstudio.qt.panels.run_history import RunHistory
from segstudio.qt.panels.training_panel import TrainingPanel

Area = QtCore.Qt.DockWidgetArea


class Learning(QtCore.QObject):
    def __init__(self, window):  # MainWindow
        super().__init__(window)
        self.window = w = window
        self.session = LearningSession(w.session, w.errors, self)
        self.training = TrainingPanel()
        self.history = RunHistory()
        self.predictions = PredictionPanel(w.canvas, w.session, listed_ids=w.image_list.visible_ids)
        self.queue = ReviewQueue()
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
        w.docks.update(self.docks)  # where each dock goes: qt.workspaces
        self._menu()
        self._connect()

    def _menu(self) -> None:
        bar = self.window.menuBar()
        m = QtWidgets.QMenu("&Learning", bar)
        bar.insertMenu(self.window.help_menu.menuAction(), m)  # Help stays the last menu
        self.menu = m

        def add(text: str, slot, shortcut: str | None = None) -> QtGui.QAction:
            act = m.addAction(text)
            act.triggered.connect(slot)
            if shortcut:
                act.setShortcut(QtGui.QKeySequence(shortcut))
            return act

        add("&Train…", lambda: (self.window.workspaces.switch("train"), self.show("training")), "Ctrl+Shift+T")
        add("&Predict this image", self.predictions.predict_current.click, "Ctrl+Shift+P")
        add("&Accept prediction into the mask", self.predictions.accept_all.click, "Ctrl+Shift+A")
        add("&Next image to correct", self.queue.next_image, "Ctrl+Shift+N")
        m.addSeparator()
        self.export_action = add("&Export model…", self.export_dialog, "Ctrl+Shift+E")
        m.addSeparator()
        for dock in self.docks.values():
            m.addAction(dock.toggleViewAction())

    def _connect(self) -> None:
        a, ls = self.window.session, self.session
        tp, hist, pred, queue = self.training, self.history, self.predictions, self.queue
        ls.projectChanged.connect(tp.set_project_open)
        a.classesChanged.connect(tp.set_table)
        a.imageLoaded.connect(lambda image: queue.set_current(image.record.id if image is not None else None))
        # state: the LearningSession -> panels
        ls.modelsChanged.connect(tp.set_models)
        ls.modelsChanged.connect(hist.set_models)
        ls.modelsChanged.connect(pred.set_models)
        ls.queueChanged.connect(queue.set_items)
        ls.correctionsChanged.connect(tp.set_pending_corrections)
        ls.splitChanged.connect(tp.set_split)
        ls.devicesReady.connect(tp.set_devices)
        ls.devicesFailed.connect(tp.devices_failed)
        ls.predictionChanged.connect(pred.set_prediction)
        ls.predictingChanged.connect(pred.set_predicting)
        ls.predictionProgress.connect(pred.set_progress)
        ls.predictionsChanged.connect(self.window.refresh_image_list)
        ls.predictionsChanged.connect(self.window._show_image_info)
        ls.busy.connect(self.window._busy)
        ls.trainingStarted.connect(tp.training_started)
        ls.trainingBatch.connect(tp.on_batch)
        ls.trainingEpoch.connect(tp.on_epoch)
        ls.trainingMessage.connect(tp.on_message)
        ls.trainingFinished.connect(tp.on_finished)
        ls.trainingFailed.connect(tp.on_failed)
        ls.trainingDone.connect(tp.on_done)
        # requests: panels -> the LearningSession
        tp.startRequested.connect(ls.start_training)
        tp.cancelRequested.connect(ls.cancel_training)
        tp.splitRequested.connect(ls.set_validation_percent)
        # both loss-share charts: one computation (LearningSession.weight_preview)
        tp.weightsRequested.connect(
            lambda scheme, clip, strength: tp.set_weight_preview(*ls.weight_preview(scheme, clip, strength)))
        ls.planChanged.connect(tp.set_plan)
        stats = self.window.stats_panel
        stats.weightsRequested.connect(
            lambda scheme, clip: stats.set_weight_preview(*ls.weight_preview(scheme, clip)))
        tp.devicesWanted.connect(ls.ask_devices)
        tp.message.connect(self._status)
        hist.runsSelected.connect(self._runs_selected)
        hist.modelChosen.connect(ls.choose_model)
        pred.modelChosen.connect(ls.choose_model)
        pred.predictRequested.connect(ls.predict)
        pred.cancelRequested.connect(ls.cancel_prediction)
        pred.ttaChosen.connect(ls.set_tta)
        pred.set_tta(ls.tta)
        queue.imageChosen.connect(self.open_image)
        queue.includeCorrectedToggled.connect(ls.set_include_corrected)

    # -- reactions ---------------------------------------------------------------------------------
    def _runs_selected(self, run_ids: list) -> None:
        runs = {i: self.session.epochs(i) for i in run_ids}
        self.history.show_curves(runs)
        if len(run_ids) == 1:
            self.training.show_run(runs[run_ids[0]])

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
        project = self.session.project
        if project is None:
            return None
        dlg = ExportDialog(project.root, self.session.models, self.window.errors, self.window, run_id)
        dlg.setModal(False)
        dlg.show()
        return dlg

    def shutdown(self) -> None:
        """Window closing: stop training and predictions, wait for their threads."""
        self.session.shutdown()


def install_learning(window) -> Learning:
    return Learning(window)
