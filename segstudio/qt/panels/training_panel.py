"""The training panel: settings with the engine's defaults, Start / Cancel, live plots.

Training runs in a :class:`~segstudio.qt.workers.training.TrainingJob` (a QThread); this
panel only receives its queued signals, so painting, browsing and zooming never wait.
Errors go to the window's one :class:`~segstudio.qt.errors.ErrorReporter`.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from segstudio.core.classes import ClassTable
from segstudio.core.weights import SCHEMES
from segstudio.qt.errors import ErrorReporter
from segstudio.qt.widgets.training_plots import TrainingPlots
from segstudio.qt.workers.background import BackgroundJob
from segstudio.qt.workers.training import TrainingJob, TrainingWorker
from segstudio.services import corrections, training_setup
from segstudio.services.devices import DeviceInfo
from segstudio.services.subprocess_jobs import ChildJob
from segstudio.services.training_setup import DEFAULTS, LOSSES, PRESETS
from segstudio.store.project import Project

_DEVICES: list = []  # what TensorFlow sees does not change while the app runs: ask once


def _spin(lo: int, hi: int, value: int, step: int = 1, suffix: str = "") -> QtWidgets.QSpinBox:
    s = QtWidgets.QSpinBox()
    s.setRange(lo, hi)
    s.setSingleStep(step)
    s.setValue(value)
    if suffix:
        s.setSuffix(suffix)
    return s


class TrainingPanel(QtWidgets.QWidget):
    """Signals: ``runStarted()``, ``runFinished(dict)`` (the worker's payload), ``message(str)``."""

    runStarted = QtCore.Signal()
    runFinished = QtCore.Signal(dict)
    message = QtCore.Signal(str)

    def __init__(self, errors: ErrorReporter, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.errors = errors
        self.project: Project | None = None
        self.table = ClassTable([])
        self.job: TrainingJob | None = None
        self._t0 = 0.0
        self._batches = 0
        self._device_worker = None
        self.last_result: dict | None = None
        self._newest_model: int | None = None
        self.plots = TrainingPlots()
        self._build_settings()
        split = QtWidgets.QSplitter(QtCore.Qt.Orientation.Horizontal)
        split.addWidget(self.settings_area)
        split.addWidget(self.plots)
        split.setStretchFactor(1, 1)
        split.setSizes([400, 900])
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(split)

    # -- settings form ----------------------------------------------------------------------
    def _build_settings(self) -> None:
        form = QtWidgets.QFormLayout()
        form.setFieldGrowthPolicy(QtWidgets.QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.start_combo = QtWidgets.QComboBox()
        self.start_combo.setToolTip("Fine-tuning trains on the FULL training set, not only corrected images.")
        form.addRow("Start from", self.start_combo)
        self.correction_spin = QtWidgets.QDoubleSpinBox()
        self.correction_spin.setRange(1.0, 100.0)
        self.correction_spin.setValue(corrections.DEFAULT_WEIGHT)
        self.correction_spin.setSuffix(" ×")
        self.correction_spin.setToolTip("Loss weight of pixels you corrected since the last run.")
        form.addRow("Corrected pixels", self.correction_spin)
        self.corrections_label = QtWidgets.QLabel("—")
        self.corrections_label.setWordWrap(True)
        form.addRow("", self.corrections_label)

        self.preset_combo = QtWidgets.QComboBox()
        self.preset_combo.addItems(list(PRESETS))
        self.filters_spin = _spin(2, 256, DEFAULTS["filters"])
        self.depth_spin = _spin(1, 7, DEFAULTS["depth"])
        self.preset_combo.setCurrentText(training_setup.DEFAULT_PRESET)
        self.preset_combo.currentTextChanged.connect(self._preset_chosen)
        size_row = QtWidgets.QHBoxLayout()
        size_row.addWidget(QtWidgets.QLabel("filters"))
        size_row.addWidget(self.filters_spin)
        size_row.addWidget(QtWidgets.QLabel("depth"))
        size_row.addWidget(self.depth_spin)
        form.addRow("Model size", self.preset_combo)
        form.addRow("", size_row)

        self.loss_combo = QtWidgets.QComboBox()
        self.loss_combo.setEditable(True)
        self.loss_combo.addItems(LOSSES)
        self.loss_combo.setCurrentText(DEFAULTS["loss"])
        form.addRow("Loss", self.loss_combo)
        self.scheme_combo = QtWidgets.QComboBox()
        for name, note in SCHEMES.items():
            self.scheme_combo.addItem(name, name)
            self.scheme_combo.setItemData(self.scheme_combo.count() - 1, note, QtCore.Qt.ItemDataRole.ToolTipRole)
        self.scheme_combo.setCurrentText(training_setup.DEFAULT_SCHEME)
        self.clip_spin = QtWidgets.QDoubleSpinBox()
        self.clip_spin.setRange(1, 1e6)
        self.clip_spin.setValue(training_setup.DEFAULT_CLIP)
        self.clip_spin.setToolTip("Cap each weight at this multiple of the smallest weight.")
        w_row = QtWidgets.QHBoxLayout()
        w_row.addWidget(self.scheme_combo, 1)
        w_row.addWidget(QtWidgets.QLabel("clip"))
        w_row.addWidget(self.clip_spin)
        form.addRow("Class weights", w_row)
        self.weights_plot = pg.PlotWidget(background=(28, 29, 33))
        self.weights_plot.setMenuEnabled(False)
        self.weights_plot.setFixedHeight(120)
        self.weights_plot.setTitle("share of the loss per class: grey unweighted, colour weighted",
                                   color="#c8c8c8", size="8pt")
        self.weights_plot.setLabel("left", "log10 %")
        self.weights_note = QtWidgets.QLabel()
        self.weights_note.setWordWrap(True)
        self.weights_note.setStyleSheet("color: #a0a0a0; font-size: 8pt")
        form.addRow(self.weights_plot)
        form.addRow(self.weights_note)
        self.scheme_combo.currentIndexChanged.connect(self.refresh_weights)
        self.clip_spin.valueChanged.connect(self.refresh_weights)

        self.epochs_spin = _spin(1, 10000, DEFAULTS["epochs"])
        self.steps_spin = _spin(1, 100000, DEFAULTS["steps_per_epoch"])
        self.batch_spin = _spin(1, 1024, DEFAULTS["batch"])
        self.crop_spin = _spin(16, 4096, DEFAULTS["crop"], 16, " px")
        self.lr_spin = QtWidgets.QDoubleSpinBox()
        self.lr_spin.setDecimals(5)
        self.lr_spin.setRange(1e-5, 1.0)
        self.lr_spin.setSingleStep(1e-4)
        self.lr_spin.setValue(DEFAULTS["lr"])
        grid = QtWidgets.QGridLayout()
        for k, (label, w) in enumerate([("epochs", self.epochs_spin), ("steps/epoch", self.steps_spin),
                                        ("batch", self.batch_spin), ("crop", self.crop_spin)]):
            grid.addWidget(QtWidgets.QLabel(label), k // 2, (k % 2) * 2)
            grid.addWidget(w, k // 2, (k % 2) * 2 + 1)
        form.addRow("Schedule", grid)
        form.addRow("Learning rate", self.lr_spin)
        self.val_spin = _spin(1, 90, 15, 1, " %")
        self.val_apply = QtWidgets.QPushButton("Re-split")
        self.val_apply.clicked.connect(self._apply_split)
        self.val_label = QtWidgets.QLabel("—")
        v_row = QtWidgets.QHBoxLayout()
        v_row.addWidget(self.val_spin)
        v_row.addWidget(self.val_apply)
        v_row.addWidget(self.val_label, 1)
        form.addRow("Validation", v_row)
        self.device_combo = QtWidgets.QComboBox()
        self.device_combo.addItem("Automatic", "auto")
        self.device_label = QtWidgets.QLabel("asking TensorFlow…")
        self.device_label.setWordWrap(True)
        self.device_label.setStyleSheet("color: #a0a0a0; font-size: 8pt")
        form.addRow("Device", self.device_combo)
        form.addRow(self.device_label)

        self.start_button = QtWidgets.QPushButton("Start training")
        self.start_button.setStyleSheet("QPushButton { font-weight: bold; padding: 5px; }")
        self.cancel_button = QtWidgets.QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.start_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)
        buttons = QtWidgets.QHBoxLayout()
        buttons.addWidget(self.start_button, 2)
        buttons.addWidget(self.cancel_button, 1)
        self.progress = QtWidgets.QProgressBar()
        self.progress.setFormat("idle")
        self.progress.setValue(0)
        self.status = QtWidgets.QLabel("")
        self.status.setWordWrap(True)
        box = QtWidgets.QWidget()
        inner = QtWidgets.QVBoxLayout(box)
        inner.setContentsMargins(2, 2, 2, 2)
        inner.addLayout(form)
        inner.addStretch(1)
        scroll = QtWidgets.QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(box)
        scroll.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        # Start / Cancel / progress stay visible below the scrolling settings
        self.settings_area = QtWidgets.QWidget()
        outer = QtWidgets.QVBoxLayout(self.settings_area)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll, 1)
        outer.addLayout(buttons)
        outer.addWidget(self.progress)
        outer.addWidget(self.status)
        self.settings_area.setMinimumWidth(300)

    def _preset_chosen(self, name: str) -> None:
        f, d = PRESETS[name]
        self.filters_spin.setValue(f)
        self.depth_spin.setValue(d)

    # -- project --------------------------------------------------------------------------------
    def set_project(self, project: Project | None, table: ClassTable | None = None) -> None:
        self.project = project
        self.table = table or (project.class_table() if project is not None else ClassTable([]))
        self.plots.reset(self.table)
        self.refresh()
        if project is not None and self.isVisible():
            self.ensure_devices()

    def ensure_devices(self) -> None:
        """Ask TensorFlow for its devices once (in a worker: importing TF takes seconds); the
        panel calls it when first shown, not at start-up, so quick sessions never import TF."""
        if self._device_worker is None and self.device_combo.count() == 1:
            self._ask_devices()

    def showEvent(self, ev) -> None:  # noqa: ANN001, N802
        super().showEvent(ev)
        if self.project is not None:
            self.ensure_devices()

    def refresh(self) -> None:
        """Re-read runs, corrections, split and weights from the project."""
        if self.project is None:
            return
        try:
            self._fill_start_combo()
            n_img, n_px = corrections.pending_summary(self.project)
            self.corrections_label.setText(
                f"{n_px:,} pixels corrected in {n_img} image{'s' if n_img != 1 else ''} since the last run"
                if n_img else "no corrections since the last run")
            n_val, n_lab = training_setup.split_summary(self.project)
            self.val_label.setText(f"{n_val} of {n_lab} labelled images")
            self.refresh_weights()
        except Exception as e:  # noqa: BLE001
            self.errors.report("Training panel", e)

    def _fill_start_combo(self) -> None:
        current = self.start_combo.currentData()
        self.start_combo.clear()
        self.start_combo.addItem("New model", "new")
        runs = self.project.runs() if self.project else []
        with_model = [r for r in reversed(runs) if r.model_path and Path(r.model_path).exists()]
        for k, r in enumerate(with_model):
            best = f", fg mIoU {r.best_fg_miou:.3f}" if r.best_fg_miou is not None else ""
            self.start_combo.addItem(f"Fine-tune run {r.id}{' (last)' if k == 0 else ''}{best}", f"finetune:{r.id}")
        for r in reversed(runs):
            if r.status != "finished" and r.checkpoint_path and Path(r.checkpoint_path).exists():
                self.start_combo.addItem(f"Resume run {r.id} ({r.status}) from its checkpoint", f"resume:{r.id}")
        newest = with_model[0].id if with_model else None
        if newest is not None and newest != self._newest_model:
            self._newest_model = newest
            self.start_combo.setCurrentIndex(1)  # a new model: retrain = fine-tune from it
        elif current is not None:
            i = self.start_combo.findData(current)
            if i >= 0:
                self.start_combo.setCurrentIndex(i)

    def refresh_weights(self) -> None:
        self.weights_plot.clear()
        scheme = self.scheme_combo.currentData()
        self.weights_note.setText(SCHEMES.get(scheme, ""))
        if self.project is None:
            return
        try:
            pv = training_setup.weight_preview(self.project, scheme, self.clip_spin.value())
        except ValueError as e:
            self.weights_note.setText(str(e))
            return
        if pv is None or not pv.ids.size:
            return
        floor = -4.0

        def logp(s: np.ndarray) -> np.ndarray:
            return np.where(s > 0, np.maximum(np.log10(np.maximum(s, 1e-12) * 100), floor), floor)

        ids = pv.ids
        brushes = [pg.mkBrush(*(self.table.get(int(i)).color if self.table.get(int(i)) else (200, 200, 200)))
                   for i in ids]
        self.weights_plot.addItem(pg.BarGraphItem(x=ids - 0.2, height=logp(pv.unweighted[ids]) - floor, y0=floor,
                                                  width=0.4, brush=pg.mkBrush(110, 110, 110), pen=None))
        self.weights_plot.addItem(pg.BarGraphItem(x=ids + 0.2, height=logp(pv.shares[ids]) - floor, y0=floor,
                                                  width=0.4, brushes=brushes, pen=None))
        self.weights_plot.setYRange(floor, 2.05, padding=0)
        self.weights_plot.setXRange(ids.min() - 0.7, ids.max() + 0.7, padding=0)
        w = pv.weights[ids]
        nz = w[w > 0]
        if nz.size:
            self.weights_note.setText(f"{SCHEMES.get(scheme, '')} Weights {nz.min():.3g} … {nz.max():.3g}; "
                                      f"background's loss share {pv.unweighted[0]:.1%} → {pv.shares[0]:.1%}.")

    def _apply_split(self) -> None:
        if self.project is None:
            return
        try:
            n_val, n_lab = training_setup.set_validation_percent(self.project, self.val_spin.value())
        except Exception as e:  # noqa: BLE001
            self.errors.report("Validation split", e)
            return
        self.val_label.setText(f"{n_val} of {n_lab} labelled images")

    def _ask_devices(self) -> None:
        if _DEVICES:
            self._devices_ready(_DEVICES[0])
            return
        def ready(value: dict) -> None:
            info = DeviceInfo(value["devices"], value["versions"])
            _DEVICES.append(info)
            self._devices_ready(info)

        worker = BackgroundJob(lambda: ChildJob("devices", {}).run(), on_return=ready,
                               on_error=self._devices_failed, parent=self)
        self._device_worker = worker
        worker.start()

    def _devices_ready(self, info) -> None:  # noqa: ANN001 - services.devices.DeviceInfo
        self.device_combo.clear()
        for label, name in info.choices():
            self.device_combo.addItem(label, name)
        self.device_label.setText(info.summary())
        self.device_info = info

    def _devices_failed(self, e: BaseException) -> None:
        self.device_label.setText("TensorFlow could not list devices")
        self.errors.report("Devices", e)

    # -- config + run -------------------------------------------------------------------------------
    def config(self) -> dict:
        cfg = {
            "filters": self.filters_spin.value(), "depth": self.depth_spin.value(),
            "loss": self.loss_combo.currentText().strip(), "weights": self.scheme_combo.currentData(),
            "clip": float(self.clip_spin.value()), "epochs": self.epochs_spin.value(),
            "steps_per_epoch": self.steps_spin.value(), "batch": self.batch_spin.value(),
            "crop": self.crop_spin.value(), "lr": float(self.lr_spin.value()),
        }
        kind, _, run = (self.start_combo.currentData() or "new").partition(":")
        run_id = int(run) if run else None
        if kind == "finetune":
            cfg["init_from"] = run_id
        elif kind == "resume":
            cfg = {"resume": run_id, "epochs": cfg["epochs"]}
        return cfg

    def set_config(self, **values) -> None:
        """Set form fields by config key (tests, benchmarks, presets)."""
        spins = {"filters": self.filters_spin, "depth": self.depth_spin, "epochs": self.epochs_spin,
                 "steps_per_epoch": self.steps_spin, "batch": self.batch_spin, "crop": self.crop_spin,
                 "lr": self.lr_spin, "clip": self.clip_spin}
        for k, v in values.items():
            if k in spins:
                spins[k].setValue(v)
            elif k == "loss":
                self.loss_combo.setCurrentText(v)
            elif k == "weights":
                self.scheme_combo.setCurrentText(v)
            elif k == "correction_weight":
                self.correction_spin.setValue(v)
            elif k == "start":
                i = self.start_combo.findData(v)
                if i < 0:
                    raise ValueError(f"no start option {v!r}")
                self.start_combo.setCurrentIndex(i)
            else:
                raise KeyError(k)

    @property
    def running(self) -> bool:
        return self.job is not None

    def start(self) -> TrainingJob | None:
        if self.project is None or self.job is not None:
            return None
        cfg = self.config()
        self.plots.reset(self.table)
        self.progress.setRange(0, max(1, cfg.get("epochs", 1) * self.steps_spin.value()))
        self.progress.setValue(0)
        self.progress.setFormat("starting…")
        self.status.setText("Loading TensorFlow and the training data…")
        worker = TrainingWorker(self.project, cfg, self.correction_spin.value(), self.device_combo.currentData())
        worker.batch.connect(self._on_batch)
        worker.epoch.connect(self._on_epoch)
        worker.message.connect(self._on_message)
        worker.finished.connect(self._on_finished)
        worker.error.connect(self._on_error)
        worker.done.connect(self._on_done)
        self.job = TrainingJob(worker, self)
        self._t0, self._batches = time.perf_counter(), 0
        self._set_running(True)
        self.job.start()
        self.runStarted.emit()
        return self.job

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()
            self.cancel_button.setEnabled(False)
            self.status.setText("Cancelling after the current batch (the last checkpoint is kept)…")

    def _set_running(self, on: bool) -> None:
        self.start_button.setEnabled(not on)
        self.cancel_button.setEnabled(on)
        for w in (self.start_combo, self.preset_combo, self.filters_spin, self.depth_spin, self.loss_combo,
                  self.scheme_combo, self.clip_spin, self.epochs_spin, self.steps_spin, self.batch_spin,
                  self.crop_spin, self.lr_spin, self.val_spin, self.val_apply, self.device_combo,
                  self.correction_spin):
            w.setEnabled(not on)

    def _on_batch(self, epoch: int, step: int, steps: int, loss: float) -> None:
        if self._batches == 0:
            self._t_first = time.perf_counter()
        self._batches += 1
        self.plots.add_batch(epoch, step, steps, loss)
        self.progress.setValue((epoch - 1) * steps + step)
        self.progress.setFormat(f"epoch {epoch} · step {step}/{steps}")
        rate = (self._batches - 1) / max(time.perf_counter() - self._t_first, 1e-9) if self._batches > 1 else 0
        self.status.setText(f"epoch {epoch}, step {step}/{steps} · loss {loss:.4f}"
                            + (f" · {rate:.1f} batches/s" if rate else ""))

    def _on_epoch(self, report: dict) -> None:
        self.plots.add_epoch(report)
        fg, acc = report.get("fg_miou"), report.get("pixel_accuracy")
        text = (f"epoch {report['epoch']}/{report['epochs']} ({report['seconds']:.1f} s): "
                f"fg mIoU {'—' if fg is None else f'{fg:.3f}'}, pixel accuracy {'—' if acc is None else f'{acc:.3f}'}")
        self.message.emit(text)

    def _on_message(self, text: str) -> None:
        self.status.setText(text)
        self.message.emit(text)

    def _on_finished(self, result: dict) -> None:
        self.last_result = result
        best = result.get("best_fg_miou")
        rate = self._batches / max(result.get("seconds", 0), 1e-9)
        self.status.setText(
            f"Run {result['run_id']} {result['status']}: {result.get('message', '')}. Best foreground mIoU "
            f"{'—' if best is None else f'{best:.3f}'} · {self._batches} batches in {result.get('seconds', 0):.0f} s "
            f"({rate:.1f}/s incl. start-up).")
        self.progress.setFormat(result["status"])
        self.runFinished.emit(result)

    def _on_error(self, e: BaseException) -> None:
        self.status.setText("Training failed — see the message.")
        self.progress.setFormat("failed")
        self.errors.report("Training", e)

    def _on_done(self) -> None:
        job, self.job = self.job, None
        if job is not None:
            job.wait(10000)
            job.deleteLater()
        self._set_running(False)
        QtCore.QTimer.singleShot(0, self.refresh)

    def show_run(self, epochs: list[dict]) -> None:
        """Show a past run's curves (from the run history), unless a run is live."""
        if self.job is None:
            self.plots.show_epochs(epochs, self.table)

    def shutdown(self, ms: int = 30000) -> None:
        """Cancel a running job and wait for its thread, and for a device query (window closing)."""
        if self.job is not None:
            self.job.cancel()
            self.job.wait(ms)
        if self._device_worker is not None and self._device_worker.running:
            self._device_worker.wait(ms)
