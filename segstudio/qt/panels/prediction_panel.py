"""Predictions on the canvas and the correction loop.

* Predict this image, the listed images or all of them in the background (progress bar,
  Cancel); results are cached on disk and the images become 'predicted' in the list.
* The canvas shows the mask, the prediction, or both (prediction as outlines over the
  mask), plus a highlight layer: low-confidence pixels or pixels where prediction != mask.
  Prediction and highlight are indexed overlays (uint8 map + LUT) on their own ImageItems
  above the mask overlay -- no RGBA arrays.
* Accept the prediction into the mask as one undoable step: the whole image, or with the
  accept brush / accept lasso tools (core.tools) under a stroke or inside a drawn region;
  saving (services.annotation) records the corrected pixels.
* Which model predicts: the LearningSession's active model, pickable here; a prediction
  another run made is marked out of date.

State comes from the LearningSession (``set_models``, ``set_prediction``, ``set_predicting``)
and the AnnotationSession (the open mask); requests go out as signals.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from segstudio.core import review
from segstudio.core.classes import ClassTable
from segstudio.core.editing import HISTORY_REASONS, ChangeReason, MaskChange
from segstudio.core.tools import Tool
from segstudio.ml.tta import TTA_LABELS
from segstudio.qt.annotation_session import AnnotationSession
from segstudio.qt.canvas.image_canvas import ImageCanvas
from segstudio.qt.canvas.overlay import LabelOverlay
from segstudio.qt.learning_session import ModelState, ShownPrediction
from segstudio.qt.panels.prediction_legend import prediction_legend
from segstudio.qt.theme import DETAIL_STYLE, WARNING_COLOR
from segstudio.services.prediction_cache import CachedPrediction

VIEWS = {"mask": "Mask only", "prediction": "Prediction only", "both": "Mask + prediction outlines"}
HIGHLIGHTS = {"none": "No highlight", "confidence": "Low confidence", "disagreement": "Prediction ≠ mask"}
HIGHLIGHT_LUT = {
    "confidence": np.array([[0, 0, 0, 0], [255, 230, 0, 200]] + [[0, 0, 0, 0]] * 254, np.uint8),
    "disagreement": np.array([[0, 0, 0, 0], [255, 40, 200, 170]] + [[0, 0, 0, 0]] * 254, np.uint8),
}
LEGENDS = {
    "none": "",
    "confidence": "<span style='color:#ffe600'>■</span> confidence under the threshold",
    "disagreement": "<span style='color:#ff28c8'>■</span> prediction ≠ mask",
}


#: model combo data meaning 'the best run, whichever it is'
AUTOMATIC = -1


class PredictionPanel(QtWidgets.QWidget):
    """Requests: ``predictRequested(list of image ids)``, ``cancelRequested()``,
    ``modelChosen(run id or None)`` (None: the best run), ``ttaChosen(views)``."""

    predictRequested = QtCore.Signal(list)
    cancelRequested = QtCore.Signal()
    modelChosen = QtCore.Signal(object)
    ttaChosen = QtCore.Signal(int)  # views averaged per image (ml.tta)
    toolRequested = QtCore.Signal(object)  # Tool: the accept brush or lasso

    def __init__(self, canvas: ImageCanvas, session: AnnotationSession, listed_ids=None,
                 parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.canvas, self.session = canvas, session
        self.listed_ids = listed_ids or (lambda: [])
        self.models = ModelState()
        self.shown = ShownPrediction(None)
        self.predicting = False
        self._unsubscribe = None
        self._mask_model = None
        self.view = "both"
        self.highlight = "none"
        self.hidden: frozenset[int] = frozenset()
        # canvas layers: prediction (z 20), highlight (z 30)
        self.pred_layer = LabelOverlay(opacity=0.7, z=20)
        self.flag_layer = pg.ImageItem(axisOrder="row-major")
        self.flag_layer.setZValue(30)
        canvas.viewbox.addItem(self.pred_layer)
        canvas.viewbox.addItem(self.flag_layer)
        self._build()
        session.classesChanged.connect(self._classes_changed)

    # -- widgets -------------------------------------------------------------------------------
    def _build(self) -> None:
        self.model_label = QtWidgets.QLabel(NO_MODEL)
        self.model_label.setWordWrap(True)
        self.model_combo = QtWidgets.QComboBox()
        self.model_combo.setToolTip("The model that predicts (and that retraining starts from); "
                                    "remembered for this project")
        self.model_combo.activated.connect(self._model_activated)
        self.predict_current = QtWidgets.QPushButton("This image")
        self.predict_listed = QtWidgets.QPushButton("Listed images")
        self.predict_all = QtWidgets.QPushButton("All images")
        self.cancel_button = QtWidgets.QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.predict_current.clicked.connect(lambda: self.predict(self._current_ids()))
        self.predict_listed.clicked.connect(lambda: self.predict(list(self.listed_ids())))
        self.predict_all.clicked.connect(lambda: self.predict([r.id for r in self.session.images()]))
        self.cancel_button.clicked.connect(self.cancelRequested)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(QtWidgets.QLabel("Predict:"))
        for b in (self.predict_current, self.predict_listed, self.predict_all, self.cancel_button):
            row.addWidget(b)
        self.tta_combo = QtWidgets.QComboBox()
        for views, label in TTA_LABELS.items():
            self.tta_combo.addItem(label, views)
        self.tta_combo.setToolTip("Average the predictions of mirrored and turned copies of each image: "
                                  "a little smoother and steadier, that many times the time")
        self.tta_combo.activated.connect(lambda _i: self.ttaChosen.emit(self.tta_combo.currentData()))
        self.progress = QtWidgets.QProgressBar()
        keep = self.progress.sizePolicy()
        keep.setRetainSizeWhenHidden(True)  # showing it while predicting must not squash the rows below
        self.progress.setSizePolicy(keep)
        self.progress.setVisible(False)

        self.view_combo = QtWidgets.QComboBox()
        for k, v in VIEWS.items():
            self.view_combo.addItem(v, k)
        self.view_combo.setCurrentIndex(list(VIEWS).index(self.view))
        self.view_combo.currentIndexChanged.connect(lambda: self.set_view(self.view_combo.currentData()))
        self.highlight_combo = QtWidgets.QComboBox()
        for k, v in HIGHLIGHTS.items():
            self.highlight_combo.addItem(v, k)
        self.highlight_combo.currentIndexChanged.connect(
            lambda: self.set_highlight(self.highlight_combo.currentData()))
        self.threshold_spin = QtWidgets.QDoubleSpinBox()
        self.threshold_spin.setRange(0.05, 1.0)
        self.threshold_spin.setSingleStep(0.05)
        self.threshold_spin.setValue(review.LOW_CONFIDENCE)
        self.threshold_spin.setPrefix("< ")
        self.threshold_spin.setToolTip("Confidence under which a pixel is highlighted")
        self.threshold_spin.valueChanged.connect(self.refresh_layers)
        self.opacity_slider = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
        self.opacity_slider.setRange(0, 100)
        self.opacity_slider.setValue(70)
        self.opacity_slider.valueChanged.connect(lambda v: self.pred_layer.setOpacity(v / 100))
        form = QtWidgets.QFormLayout()
        form.addRow("Test-time views", self.tta_combo)
        form.addRow("Show", self.view_combo)
        hl = QtWidgets.QHBoxLayout()
        hl.addWidget(self.highlight_combo, 1)
        hl.addWidget(self.threshold_spin)
        form.addRow("Highlight", hl)
        self.legend = QtWidgets.QLabel("")
        self.legend.setStyleSheet(DETAIL_STYLE)
        form.addRow("", self.legend)
        self.outline_legend = QtWidgets.QLabel("")
        self.outline_legend.setWordWrap(True)
        self.outline_legend.setStyleSheet(DETAIL_STYLE)
        form.addRow("", self.outline_legend)
        form.addRow("Prediction opacity", self.opacity_slider)

        self.accept_all = QtWidgets.QPushButton("Accept prediction")
        self.accept_all.setToolTip("Copy the whole prediction into the mask (one undo step)")
        self.accept_brush_button = QtWidgets.QPushButton("Accept brush")
        self.accept_brush_button.setToolTip(f"Paint the prediction into the mask where you drag "
                                            f"({Tool.ACCEPT_BRUSH.shortcut}; the brush size applies)")
        self.accept_lasso_button = QtWidgets.QPushButton("Accept lasso")
        self.accept_lasso_button.setToolTip(f"Accept the prediction inside a region you draw: drag a lasso "
                                            f"or click a polygon ({Tool.ACCEPT_LASSO.shortcut})")
        self.accept_all.clicked.connect(lambda: self.accept())
        self.accept_brush_button.clicked.connect(lambda: self.toolRequested.emit(Tool.ACCEPT_BRUSH))
        self.accept_lasso_button.clicked.connect(lambda: self.toolRequested.emit(Tool.ACCEPT_LASSO))
        acc = QtWidgets.QHBoxLayout()
        acc.addWidget(self.accept_all, 2)
        acc.addWidget(self.accept_brush_button, 1)
        acc.addWidget(self.accept_lasso_button, 1)
        self.scores_label = QtWidgets.QLabel("")
        self.scores_label.setWordWrap(True)
        self.scores_label.setStyleSheet(DETAIL_STYLE)
        self.scores_label.setAlignment(QtCore.Qt.AlignmentFlag.AlignLeft | QtCore.Qt.AlignmentFlag.AlignTop)
        # five lines reserved: the scores and the out-of-date note never run under the queue below
        self.scores_label.setMinimumHeight(self.scores_label.fontMetrics().lineSpacing() * 5 + 4)
        self.scores_label.setSizePolicy(QtWidgets.QSizePolicy.Policy.Ignored,
                                        QtWidgets.QSizePolicy.Policy.Minimum)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        model_row = QtWidgets.QHBoxLayout()
        model_row.addWidget(QtWidgets.QLabel("Model:"))
        model_row.addWidget(self.model_combo, 1)
        lay.addLayout(model_row)
        lay.addWidget(self.model_label)
        lay.addLayout(row)
        lay.addWidget(self.progress)
        lay.addLayout(form)
        lay.addLayout(acc)
        lay.addWidget(self.scores_label)
        lay.addStretch(1)
        self._update_buttons()
        self.scores_label.setText("No prediction for this image yet.")  # its height is reserved above
        self.outline_legend.setText("<br><br>")  # room for the legend's three lines
        self.setMinimumHeight(self.sizeHint().height())

    # -- state from the LearningSession ---------------------------------------------------------
    @property
    def cached(self) -> CachedPrediction | None:
        return self.shown.cached

    def set_models(self, state: ModelState) -> None:
        """The runs with a model, which is active and whether the user picked it."""
        self.models = state
        self.model_combo.blockSignals(True)
        self.model_combo.clear()
        best = state.active if state.chosen_id is None else None
        self.model_combo.addItem("Best run" + (f" (run {best.id}{_fg(best)})" if best is not None else ""),
                                 AUTOMATIC)
        for r in reversed(state.model_runs):
            self.model_combo.addItem(f"Run {r.id} · {r.status}{_fg(r)}", r.id)
        i = self.model_combo.findData(state.chosen_id if state.chosen_id is not None else AUTOMATIC)
        self.model_combo.setCurrentIndex(max(i, 0))
        self.model_combo.setEnabled(bool(state.model_runs))
        self.model_combo.blockSignals(False)
        run = state.active
        if run is None:
            self.model_label.setText(NO_MODEL)
        else:
            how = "the best finished run" if state.chosen_id is None else "your choice"
            self.model_label.setText(f"Predicting with run {run.id}{_fg(run)} ({how}).")
        self._update_buttons()

    def _model_activated(self, index: int) -> None:
        data = self.model_combo.itemData(index)
        self.modelChosen.emit(None if data == AUTOMATIC else int(data))

    def set_tta(self, views: int) -> None:
        self.tta_combo.setCurrentIndex(self.tta_combo.findData(views))

    def set_prediction(self, shown: ShownPrediction) -> None:
        """The open image's cached prediction (or none), current or out of date."""
        if shown.image_id != self.shown.image_id or self.session.model is not self._mask_model:
            self._watch_mask()
        self.shown = shown
        self.canvas.set_prediction_source(shown.cached.classes if shown.cached is not None else None)
        self._show_scores()
        self.refresh_layers()
        self._update_buttons()

    def set_predicting(self, on: bool) -> None:
        self.predicting = on
        if on:
            self.progress.setValue(0)
            self.progress.setFormat("Predicting %v/%m")
        self.progress.setVisible(on)
        self._update_buttons()

    def set_progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)

    def _watch_mask(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self._mask_model = self.session.model
        if self._mask_model is not None:
            self._unsubscribe = self._mask_model.subscribe(self._on_mask_change)

    def _current_ids(self) -> list[int]:
        cur = self.session.current
        return [cur.record.id] if cur is not None else []

    def _classes_changed(self, table: ClassTable) -> None:
        self.pred_layer.set_table(table)

    def _show_scores(self) -> None:
        c, shown = self.cached, self.shown
        if c is None:
            self.scores_label.setText("No prediction for this image yet.")
            return
        r = c.record
        dis = "—" if r.disagreement is None else f"{r.disagreement:.1%}"
        stale = "" if shown.current else (
            f"<br><span style='color:{WARNING_COLOR}'><b>Out of date:</b> the active model is run "
            f"{shown.active_run_id}; predict again to update.</span>")
        views = f" ({r.views} test-time views)" if r.views > 1 else ""
        self.scores_label.setText(
            f"Run {r.run_id}{views}: mean confidence {r.mean_confidence:.2f} · uncertainty on rare-class pixels "
            f"{r.rare_uncertainty:.2f} ({r.rare_pixels:,} px) · disagreement with the mask on rare classes {dis} "
            f"· review score {r.score:.2f}{stale}")

    # -- layers -----------------------------------------------------------------------------------
    def set_view(self, view: str) -> None:
        if view not in VIEWS:
            raise ValueError(view)
        if self.view == "prediction" and view != "prediction":
            self.canvas.set_overlay_visible(True)
        self.view = view
        i = self.view_combo.findData(view)
        if i != self.view_combo.currentIndex():
            self.view_combo.setCurrentIndex(i)
        self.refresh_layers()

    def set_highlight(self, kind: str) -> None:
        if kind not in HIGHLIGHTS:
            raise ValueError(kind)
        self.highlight = kind
        self.legend.setText(LEGENDS[kind])
        i = self.highlight_combo.findData(kind)
        if i != self.highlight_combo.currentIndex():
            self.highlight_combo.setCurrentIndex(i)
        self.refresh_layers()

    def prediction_array(self) -> np.ndarray | None:
        """What the prediction layer shows (uint8 class map; outlines in 'both'), or None."""
        if self.cached is None or self.view == "mask":
            return None
        classes = self.cached.classes
        shown = review.outline(classes) if self.view == "both" else classes
        return shown if shown.dtype == np.uint8 else np.minimum(shown, 255).astype(np.uint8)

    def highlight_array(self) -> np.ndarray | None:
        """0/1 uint8 map of the highlighted pixels, or None."""
        if self.cached is None or self.highlight == "none":
            return None
        if self.highlight == "confidence":
            return review.low_confidence_map(self.cached.confidence, self.threshold_spin.value())
        model = self.session.model
        if model is None:
            return None
        return review.disagreement_map(self.cached.classes, model.labels, self.session.table.ignore_ids)

    def set_hidden_classes(self, hidden) -> None:
        """Classes left out of the overlays (the AnnotationSession's state)."""
        self.hidden = frozenset(hidden)
        self.pred_layer.set_hidden(self.hidden)
        self.refresh_layers()

    def refresh_layers(self) -> None:
        pred = self.prediction_array()
        self.pred_layer.set_table(self.session.table)
        self.pred_layer.set_labels(pred)
        self.outline_legend.setText(prediction_legend(
            self.session.table, self.cached.classes if self.cached is not None else None, self.view, self.hidden))
        self.pred_layer.setVisible(pred is not None)
        if self.view == "prediction":  # 'prediction only' hides the mask (unless there is no prediction)
            self.canvas.set_overlay_visible(self.cached is None)
        flags = self.highlight_array()
        if flags is None:
            self.flag_layer.clear()
            self.flag_layer.setVisible(False)
        else:
            self.flag_layer.setImage(flags, lut=HIGHLIGHT_LUT[self.highlight], levels=None, autoLevels=False)
            self.flag_layer.setVisible(True)

    # -- requests -------------------------------------------------------------------------------
    def predict(self, image_ids: list[int]) -> None:
        if image_ids and not self.predicting and self.models.active is not None:
            self.predictRequested.emit(list(image_ids))

    def _update_buttons(self) -> None:
        idle = not self.predicting
        has_model = self.models.active is not None
        for b in (self.predict_current, self.predict_listed, self.predict_all):
            b.setEnabled(idle and has_model)
        self.cancel_button.setEnabled(not idle)
        has_pred = self.cached is not None and self.session.model is not None
        for b in (self.accept_all, self.accept_brush_button, self.accept_lasso_button):
            b.setEnabled(has_pred)

    # -- accepting --------------------------------------------------------------------------------
    def accept(self, region: np.ndarray | None = None) -> int:
        """Copy the prediction into the mask (inside boolean ``region``, else everywhere);
        returns the pixels changed. The accept brush and lasso tools do the same under the mouse."""
        model, c = self.session.model, self.cached
        if model is None or c is None:
            return 0
        where = review.accept_where(c.classes, model.labels, region)
        n = int(where.sum())
        if n:
            with model.stroke("accept prediction"):
                model.assign(where, c.classes.astype(model.labels.dtype, copy=False))
        self.refresh_layers()
        return n

    def _on_mask_change(self, change: MaskChange) -> None:
        if change.reason in HISTORY_REASONS - {ChangeReason.SAVED} and self.highlight == "disagreement":
            self.refresh_layers()


NO_MODEL = "No model yet: train one in the Training panel."


def _fg(run) -> str:  # RunRecord
    return f", fg mIoU {run.best_fg_miou:.3f}" if run.best_fg_miou is not None else ""
