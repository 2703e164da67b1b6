"""The training panel: the plan's settings with a reason each, Start / Cancel, live plots.

The form starts at the project's training plan (``set_plan``, from core.plan via the
LearningSession); a value the user changes is marked as theirs under its field, and only
those values are sent with the run (the run plans the rest itself, the same way).

The LearningSession runs the training job and feeds this panel (runs and the active model
for 'Start from', pending corrections, the validation split, the class-weight preview,
devices, and the run's progress); the panel sends requests (``startRequested``,
``cancelRequested``, ``splitRequested``, ``weightsRequested``, ``devicesWanted``). Painting,
browsing and zooming never wait on it. Each form row has a reason line under it
(:meth:`TrainingPanel.set_reasons`), empty until something explains the value.
"""

from __future__ import annotations

import time

from PySide6 import QtCore, QtWidgets

from segstudio.core.classes import ClassTable
from segstudio.core.plan import CHOSEN_SCHEME_STRENGTH, MAX_STRENGTH
from segstudio.core.text import counted
from segstudio.core.weights import SCHEMES
from segstudio.ml.config import DEFAULT_AUGMENT
from segstudio.qt.learning_session import ModelState, TrainRequest
from segstudio.qt.panels.training_fields import (
    FIELD_LABELS,
    Collapsible,
    StatusLine,
    augment_combo,
    float_spin,
    form_layout,
    fraction_spin,
    row_reasons,
    select_data,
    spin,
    window_alarm,
)
from segstudio.qt.theme import (
    PLOT_BACKGROUND,
    PRIMARY_BUTTON_STYLE,
    SMALL_HINT_STYLE,
    USER_HINT_STYLE,
)
from segstudio.qt.widgets.loss_share_chart import LossShareChart, draw_loss_shares
from segstudio.qt.widgets.training_plots import TrainingPlots
from segstudio.services import corrections, training_setup
from segstudio.services.training_setup import DEFAULTS, DEFAULTS_ALL, LOSSES, PRESETS

#: what Cancel does (ml.trainer checks the cancel after every batch and validation image)
CANCELLING = ("Cancelling — stops after this batch (or this validation image); "
              "the best checkpoint so far is kept…")


class TrainingPanel(QtWidgets.QWidget):
    """Requests: ``startRequested(TrainRequest)``, ``cancelRequested()``,
    ``splitRequested(percent)``, ``weightsRequested(scheme, clip)``, ``devicesWanted()``.
    Tells: ``runStarted()``, ``runFinished(dict)`` (the run's result), ``message(str)``."""

    startRequested = QtCore.Signal(object)
    cancelRequested = QtCore.Signal()
    splitRequested = QtCore.Signal(int)
    weightsRequested = QtCore.Signal(str, float, float)  # scheme, clip, strength
    devicesWanted = QtCore.Signal()
    runStarted = QtCore.Signal()
    runFinished = QtCore.Signal(dict)
    message = QtCore.Signal(str)

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.table = ClassTable([])
        self.has_project = False
        self.running = False
        self._batches = 0
        self._cancelling = False
        self._t_first = 0.0
        self._budget_s: float | None = None  # the live run's time budget
        self._devices_asked = False
        self.device_info = None
        self.last_result: dict | None = None
        self._default_start: int | None = None
        self.reasons: dict[str, QtWidgets.QLabel] = {}
        self.weight_preview = None  # services.training_setup.WeightPreview the chart shows
        self.plan = None  # core.plan.Plan the form started from
        self.plots = TrainingPlots()
        self.plots.describe_alarm = lambda alarm: window_alarm(alarm, self.form_settings())
        self._build_settings()
        split = QtWidgets.QSplitter(QtCore.Qt.Orientation.Horizontal)
        split.addWidget(self.settings_area)
        split.addWidget(self.plots)
        split.setStretchFactor(1, 1)
        split.setSizes([470, 830])
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(split)

    # -- settings form ----------------------------------------------------------------------
    def _build_settings(self) -> None:
        """The often-changed fields on top; the rest in a closed 'Advanced' section, so the
        form fits a dock of a few hundred pixels without scrolling."""
        L = FIELD_LABELS
        form = form_layout()
        self.start_combo = QtWidgets.QComboBox()
        self.start_combo.setToolTip("Fine-tuning trains on the FULL training set, not only corrected images.")
        self._row(form, "start", L["start"], self.start_combo)
        self.corrections_label = QtWidgets.QLabel("—")
        self.corrections_label.setWordWrap(True)
        self.corrections_label.setStyleSheet(SMALL_HINT_STYLE)
        form.addRow("", self.corrections_label)
        self.preset_combo = QtWidgets.QComboBox()
        self.preset_combo.addItems(list(PRESETS))
        self.preset_combo.setPlaceholderText("the plan's size")
        self.filters_spin = spin(2, 256, DEFAULTS["filters"])
        self.depth_spin = spin(1, 7, DEFAULTS["depth"])
        self.preset_combo.setCurrentText(training_setup.DEFAULT_PRESET)
        self.preset_combo.currentTextChanged.connect(self._preset_chosen)
        self._row(form, "model_size", L["model_size"], self.preset_combo)
        self.scheme_combo = QtWidgets.QComboBox()
        for name, note in SCHEMES.items():
            self.scheme_combo.addItem(name, name)
            self.scheme_combo.setItemData(self.scheme_combo.count() - 1, note, QtCore.Qt.ItemDataRole.ToolTipRole)
        self.scheme_combo.setCurrentText(training_setup.DEFAULT_SCHEME)
        form.addRow(L["weights"], self.scheme_combo)
        self.scheme_combo.activated.connect(self._scheme_chosen)
        self.strength_spin = fraction_spin(MAX_STRENGTH, DEFAULTS_ALL["weight_strength"],
                                           "Class weights are raised to this power: 1 as computed, 0 unweighted.")
        self._row(form, "weights", L["weight_strength"], self.strength_spin)
        self.weights_plot = LossShareChart(background=PLOT_BACKGROUND)
        self.weights_plot.setFixedHeight(120)
        self.weights_plot.setTitle("loss share per class: grey unweighted, colour weighted",
                                   color="#c8c8c8", size="8pt")
        self.weights_plot.setLabel("left", "log10 %")
        self.weights_note = QtWidgets.QLabel()
        self.weights_note.setWordWrap(True)
        self.weights_note.setStyleSheet(SMALL_HINT_STYLE)
        form.addRow(self.weights_plot)
        form.addRow(self.weights_note)
        self.minutes_spin = float_spin(0.1, 10000, 10.0, decimals=1, suffix=" min")
        self.fixed_epochs = QtWidgets.QCheckBox("exact epochs")
        self.fixed_epochs.setToolTip("Train epochs x steps/epoch (Advanced), however long it takes, "
                                     "instead of a time budget.")
        budget_row = QtWidgets.QHBoxLayout()
        budget_row.addWidget(self.minutes_spin, 1)
        budget_row.addWidget(self.fixed_epochs)
        self._row(form, "minutes", L["minutes"], budget_row)

        adv = form_layout()
        self.correction_spin = float_spin(1.0, 100.0, corrections.DEFAULT_WEIGHT, suffix=" ×",
                                          tooltip="Loss weight of pixels you corrected since the last run.")
        adv.addRow(L["correction_weight"], self.correction_spin)
        size_row = QtWidgets.QHBoxLayout()
        size_row.addWidget(self.filters_spin)
        size_row.addWidget(QtWidgets.QLabel("depth"))
        size_row.addWidget(self.depth_spin)
        adv.addRow(L["size"], size_row)
        self.loss_combo = QtWidgets.QComboBox()
        self.loss_combo.setEditable(True)
        self.loss_combo.addItems(LOSSES)
        self.loss_combo.setCurrentText(DEFAULTS["loss"])
        self._row(adv, "loss", L["loss"], self.loss_combo)
        self.clip_spin = float_spin(1, 1e6, training_setup.DEFAULT_CLIP,
                                    tooltip="Cap each weight at this multiple of the smallest weight.")
        adv.addRow(L["clip"], self.clip_spin)
        self.scheme_combo.currentIndexChanged.connect(self.request_weights)
        self.clip_spin.valueChanged.connect(self.request_weights)
        self.strength_spin.valueChanged.connect(self.request_weights)
        self.rare_spin = fraction_spin(1.0, DEFAULTS_ALL["rare_fraction"],
                                       "Share of the training crops centred on a pixel of a rare class.")
        self._row(adv, "rare_fraction", L["rare_fraction"], self.rare_spin)
        self.augment_combo = augment_combo()
        adv.addRow(L["augment"], self.augment_combo)
        self.epochs_spin = spin(1, 100000, DEFAULTS["epochs"])
        self.steps_spin = spin(1, 100000, DEFAULTS["steps_per_epoch"])
        self.batch_spin = spin(1, 1024, DEFAULTS["batch"])
        self.crop_spin = spin(16, 4096, DEFAULTS["crop"], 16, " px")
        self.lr_spin = float_spin(1e-5, 1.0, DEFAULTS["lr"], decimals=5, step=1e-4)
        self.fixed_epochs.toggled.connect(self._budget_mode)
        self._budget_mode(False)
        for w in self._plan_fields().values():
            for sig in ("valueChanged", "currentTextChanged"):
                if hasattr(w, sig):
                    getattr(w, sig).connect(self._mark_changes)
        grid = QtWidgets.QGridLayout()
        for k, (label, w) in enumerate([("epochs", self.epochs_spin), ("steps/epoch", self.steps_spin),
                                        ("batch", self.batch_spin), ("crop", self.crop_spin)]):
            grid.addWidget(QtWidgets.QLabel(label), k // 2, (k % 2) * 2)
            grid.addWidget(w, k // 2, (k % 2) * 2 + 1)
        self._row(adv, "schedule", L["schedule"], grid)
        self._row(adv, "lr", L["lr"], self.lr_spin)
        self.val_spin = spin(1, 90, 15, 1, " %")
        self.val_apply = QtWidgets.QPushButton("Re-split")
        self.val_apply.clicked.connect(lambda: self.splitRequested.emit(self.val_spin.value()))
        self.val_label = QtWidgets.QLabel("—")
        self.val_label.setWordWrap(True)
        v_row = QtWidgets.QHBoxLayout()
        v_row.addWidget(self.val_spin)
        v_row.addWidget(self.val_apply)
        v_row.addWidget(self.val_label, 1)
        adv.addRow(L["validation"], v_row)
        self.device_combo = QtWidgets.QComboBox()
        self.device_combo.addItem("Automatic", "auto")
        self.device_label = QtWidgets.QLabel("asking TensorFlow…")
        self.device_label.setWordWrap(True)
        self.device_label.setStyleSheet(SMALL_HINT_STYLE)
        adv.addRow(L["device"], self.device_combo)
        adv.addRow(self.device_label)
        adv_box = QtWidgets.QWidget()
        adv_box.setLayout(adv)
        self.advanced = Collapsible("Advanced: loss, clip, schedule, validation, device", adv_box)

        self.start_button = QtWidgets.QPushButton("Start training")
        self.start_button.setStyleSheet(PRIMARY_BUTTON_STYLE)
        self.cancel_button = QtWidgets.QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.start_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)
        self.start_button.setEnabled(False)  # until a project is open
        buttons = QtWidgets.QHBoxLayout()
        buttons.addWidget(self.start_button, 2)
        buttons.addWidget(self.cancel_button, 1)
        self.progress = QtWidgets.QProgressBar()
        self.progress.setFormat("idle")
        self.progress.setValue(0)
        self.status = StatusLine(3)
        box = QtWidgets.QWidget()
        inner = QtWidgets.QVBoxLayout(box)
        inner.setContentsMargins(2, 2, 2, 2)
        inner.addLayout(form)
        inner.addWidget(self.advanced)
        inner.addStretch(1)
        scroll = QtWidgets.QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(box)
        scroll.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll = scroll
        # Start / Cancel / progress stay visible below the scrolling settings, at a fixed place
        self.settings_area = QtWidgets.QWidget()
        outer = QtWidgets.QVBoxLayout(self.settings_area)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll, 1)
        outer.addLayout(buttons)
        outer.addWidget(self.progress)
        outer.addWidget(self.status)
        self.settings_area.setMinimumWidth(300)

    def _row(self, form: QtWidgets.QFormLayout, key: str, label: str, field) -> None:
        """A form row plus a (hidden until set) line saying why the value is what it is."""
        form.addRow(label, field)
        reason = QtWidgets.QLabel()
        reason.setWordWrap(True)
        reason.setStyleSheet(SMALL_HINT_STYLE)
        reason.setVisible(False)
        form.addRow("", reason)
        self.reasons[key] = reason

    def set_reasons(self, reasons: dict[str, str]) -> None:
        """Why each value was chosen (keys as in :attr:`reasons`); missing keys hide theirs."""
        for key, label in self.reasons.items():
            text = reasons.get(key, "")
            label.setText(text)
            label.setVisible(bool(text))

    def _scheme_chosen(self, _index: int) -> None:
        # the plan trains at strength 0: a scheme picked there is meant to weigh
        if self.scheme_combo.currentData() != "none" and self.strength_spin.value() == 0:
            self.strength_spin.setValue(CHOSEN_SCHEME_STRENGTH)

    def _preset_chosen(self, name: str) -> None:
        f, d = PRESETS[name]
        self.filters_spin.setValue(f)
        self.depth_spin.setValue(d)

    def _budget_mode(self, fixed: bool) -> None:
        self.minutes_spin.setEnabled(not fixed)
        self.epochs_spin.setEnabled(fixed)

    def _plan_fields(self) -> dict:
        """plan key -> the widget holding it."""
        return {"crop": self.crop_spin, "depth": self.depth_spin, "filters": self.filters_spin,
                "batch": self.batch_spin, "loss": self.loss_combo, "weights": self.scheme_combo,
                "clip": self.clip_spin, "weight_strength": self.strength_spin, "rare_fraction": self.rare_spin,
                "lr": self.lr_spin, "minutes": self.minutes_spin, "steps_per_epoch": self.steps_spin}

    def _field_value(self, key: str):
        w = self._plan_fields()[key]
        if key == "weights":
            return w.currentData()
        if key == "loss":
            return w.currentText().strip()
        v = w.value()
        return float(v) if isinstance(w, QtWidgets.QDoubleSpinBox) else int(v)

    def form_settings(self) -> dict:
        """The values the form shows now, by config key."""
        return {k: self._field_value(k) for k in self._plan_fields()}

    def changed_from_plan(self) -> dict:
        """The values the user set that differ from the plan (what a run overrides)."""
        if self.plan is None:
            return {}
        planned = self.plan.config()
        fields = self._plan_fields()
        out = {}
        for key, w in fields.items():
            if key not in planned:
                continue
            v, p = self._field_value(key), planned[key]
            # a spin box shows (and holds) the plan's value rounded to its decimals: 0.389 as 0.39
            tol = 0.5 * 10 ** -w.decimals() if isinstance(w, QtWidgets.QDoubleSpinBox) else 0.0
            same = abs(float(v) - float(p)) <= max(tol, 1e-6 * max(1.0, abs(float(p)))) \
                if isinstance(p, (int, float)) and not isinstance(p, bool) else v == p
            if not same:
                out[key] = v
        return out

    def set_plan(self, plan) -> None:  # core.plan.Plan | None
        """Fill the form with the project's plan and show each choice's reason; values the
        user changed from the previous plan stay theirs."""
        if self.running:
            return
        yours = self.changed_from_plan()
        self.plan = plan
        if plan is None:
            self.set_reasons({})
            return
        fields = self._plan_fields()
        for c in plan.choices:
            w = fields.get(c.key)
            if w is None or c.key in yours:
                continue
            w.blockSignals(True)
            if c.key == "weights":
                w.setCurrentIndex(max(w.findData(c.value), 0))
            elif c.key == "loss":
                w.setCurrentText(str(c.value))
            else:
                w.setValue(c.value)
            w.blockSignals(False)
        self.preset_combo.blockSignals(True)
        self.preset_combo.setCurrentIndex(-1)  # the plan's size, not a preset's
        self.preset_combo.blockSignals(False)
        self._mark_changes()
        self.request_weights()

    def _mark_changes(self, *_) -> None:
        """Each row's reason: the plan's, or 'yours' with what the plan had chosen."""
        if self.plan is None:
            return
        lines = row_reasons(self.plan.choices, self.changed_from_plan())
        self.set_reasons({row: text for row, (text, _) in lines.items()})
        for row, (_, yours) in lines.items():
            if (label := self.reasons.get(row)) is not None:
                label.setStyleSheet(USER_HINT_STYLE if yours else SMALL_HINT_STYLE)

    # -- state from the LearningSession ----------------------------------------------------------
    def clear(self) -> None:
        """No project, or another one: nothing of the previous project's runs stays."""
        if self.running:
            return
        self.plots.reset(self.table)
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("idle")
        self.status.setText("")
        self.last_result = None
        self.plan = None  # the next project's plan arrives by set_plan
        self._default_start = None
        self.corrections_label.setText("—")
        self.val_label.setText("—")
        self.weights_plot.clear()

    def set_project_open(self, on: bool) -> None:
        self.has_project = on
        self.clear()
        self.start_button.setEnabled(on and not self.running)
        if on:
            self.request_weights()
            if self.isVisible():
                self.ensure_devices()

    def set_table(self, table: ClassTable) -> None:
        self.table = table
        if not self.running:
            self.plots.reset(table)
        self.request_weights()

    def ensure_devices(self) -> None:
        """Ask for the devices once, when first shown (importing TF takes seconds, in a child
        process): quick sessions never pay for it."""
        if not self._devices_asked:
            self._devices_asked = True
            self.devicesWanted.emit()

    def showEvent(self, ev) -> None:
        super().showEvent(ev)
        if self.has_project:
            self.ensure_devices()

    def set_models(self, state: ModelState) -> None:
        """'Start from': a new model, fine-tuning any run with a model (the active one by
        default), or resuming an unfinished run from its checkpoint."""
        current = self.start_combo.currentData()
        self.start_combo.clear()
        self.start_combo.addItem("New model", "new")
        active = state.active.id if state.active is not None else None
        for r in reversed(state.model_runs):
            best = f", fg mIoU {r.best_fg_miou:.3f}" if r.best_fg_miou is not None else ""
            mark = " (active model)" if r.id == active else ""
            self.start_combo.addItem(f"Fine-tune run {r.id}{mark}{best}", f"finetune:{r.id}")
        for r in reversed(state.resumable_runs):
            self.start_combo.addItem(f"Resume run {r.id} ({r.status}) from its checkpoint", f"resume:{r.id}")
        if active is not None and active != self._default_start:
            self._default_start = active  # a new active model: retrain = fine-tune from it
            self.start_combo.setCurrentIndex(self.start_combo.findData(f"finetune:{active}"))
        elif current is not None and (i := self.start_combo.findData(current)) >= 0:
            self.start_combo.setCurrentIndex(i)

    def set_pending_corrections(self, images: int, pixels: int) -> None:
        self.corrections_label.setText(
            f"{counted(pixels, 'pixel')} corrected in {counted(images, 'image')} since the last run"
            if images else "no corrections since the last run")

    def set_split(self, n_val: int, n_labelled: int) -> None:
        self.val_label.setText(f"{n_val} of {n_labelled} labelled images")

    def request_weights(self) -> None:
        self.weightsRequested.emit(self.scheme_combo.currentData() or "", float(self.clip_spin.value()),
                                   float(self.strength_spin.value()))

    def set_weight_preview(self, pv, problem: str = "") -> None:  # WeightPreview | None
        scheme = self.scheme_combo.currentData()
        self.weight_preview = pv
        draw_loss_shares(self.weights_plot, pv, self.table)
        self.weights_note.setText(problem or SCHEMES.get(scheme, ""))
        if pv is None or not pv.ids.size:
            return
        w = pv.weights[pv.ids]
        nz = w[w > 0]
        if nz.size:
            self.weights_note.setText(f"{SCHEMES.get(scheme, '')} Weights {nz.min():.3g} … {nz.max():.3g}; "
                                      f"background's loss share {pv.unweighted[0]:.1%} → {pv.shares[0]:.1%}.")

    def set_devices(self, info) -> None:  # services.devices.DeviceInfo
        self.device_combo.clear()
        for label, name in info.choices():
            self.device_combo.addItem(label, name)
        self.device_label.setText(info.summary())
        self.device_info = info

    def devices_failed(self) -> None:
        self.device_label.setText("TensorFlow could not list devices")

    # -- config + run -------------------------------------------------------------------------------
    def config(self) -> dict:
        """What the run overrides of the plan, and its length (a budget, or exact epochs)."""
        if self.plan is None:  # no plan (no statistics yet): every field as shown
            cfg = self.form_settings()
        else:
            cfg = self.changed_from_plan()
        cfg.pop("minutes", None)
        if self.fixed_epochs.isChecked():
            cfg["epochs"] = self.epochs_spin.value()
        else:
            cfg["minutes"] = float(self.minutes_spin.value())
        if self.augment_combo.currentData() != DEFAULT_AUGMENT:
            cfg["augment"] = self.augment_combo.currentData()
        kind, _, run = (self.start_combo.currentData() or "new").partition(":")
        run_id = int(run) if run else None
        if kind == "finetune":
            cfg["init_from"] = run_id
        elif kind == "resume":
            cfg = {"resume": run_id, "epochs": cfg["epochs"]}
        return cfg

    def set_config(self, **values) -> None:
        """Set form fields by config key (tests, benchmarks, presets)."""
        spins = {k: w for k, w in self._plan_fields().items() if isinstance(w, QtWidgets.QAbstractSpinBox)}
        spins["epochs"] = self.epochs_spin
        for k, v in values.items():
            if k == "epochs":
                self.fixed_epochs.setChecked(True)
            if k in spins:
                spins[k].setValue(v)
            elif k == "loss":
                self.loss_combo.setCurrentText(v)
            elif k == "weights":
                select_data(self.scheme_combo, v, "weight scheme")
            elif k == "correction_weight":
                self.correction_spin.setValue(v)
            elif k == "augment":
                select_data(self.augment_combo, v, "augmentation")
            elif k == "start":
                select_data(self.start_combo, v, "start")
            else:
                raise KeyError(k)

    def start(self) -> None:
        """Ask for a run with the form's settings."""
        if self.has_project and not self.running:
            self.startRequested.emit(TrainRequest(self.config(), float(self.correction_spin.value()),
                                                  self.device_combo.currentData()))

    def cancel(self) -> None:
        if self.running:
            self.cancelRequested.emit()
            self.cancel_button.setEnabled(False)
            self._cancelling = True
            self.status.setText(CANCELLING)

    # -- the run, as the LearningSession reports it --------------------------------------------------
    def training_started(self) -> None:
        cfg = self.config()
        self.plots.reset(self.table)
        self._budget_s = 60.0 * cfg["minutes"] if "minutes" in cfg else None
        # with a budget the bar counts seconds; with exact epochs, steps
        self.progress.setRange(0, int(self._budget_s) if self._budget_s else
                               max(1, cfg.get("epochs", 1) * self.steps_spin.value()))
        self.progress.setValue(0)
        self.progress.setFormat("starting…")
        self.status.setText("Loading TensorFlow and the training data…")
        self._batches = 0
        self._cancelling = False  # True: the batches still arriving leave the Cancelling line shown
        self._set_running(True)
        self.runStarted.emit()

    def _set_running(self, on: bool) -> None:
        self.running = on
        self.start_button.setEnabled(not on and self.has_project)
        self.cancel_button.setEnabled(on)
        # every setting: one changed mid-run would not apply, and the alarm's advice reads them
        for w in (*self._plan_fields().values(), self.start_combo, self.preset_combo, self.fixed_epochs,
                  self.epochs_spin, self.val_spin, self.val_apply, self.device_combo, self.correction_spin):
            w.setEnabled(not on)
        if not on:
            self._budget_mode(self.fixed_epochs.isChecked())

    def on_batch(self, epoch: int, step: int, steps: int, loss: float) -> None:
        if self._batches == 0:
            self._t_first = time.perf_counter()
        self._batches += 1
        self.plots.add_batch(epoch, step, steps, loss)
        if self._budget_s:
            spent = time.perf_counter() - self._t_first
            self.progress.setValue(min(int(spent), int(self._budget_s)))
            self.progress.setFormat(f"{spent / 60:.1f} of {self._budget_s / 60:g} min · epoch {epoch} · "
                                    f"step {step}/{steps}")
        else:
            self.progress.setValue((epoch - 1) * steps + step)
            self.progress.setFormat(f"epoch {epoch} · step {step}/{steps}")
        rate = (self._batches - 1) / max(time.perf_counter() - self._t_first, 1e-9) if self._batches > 1 else 0
        if self._cancelling:
            return
        self.status.setText(f"epoch {epoch}, step {step}/{steps} · loss {loss:.4f}"
                            + (f" · {rate:.1f} batches/s" if rate else ""))

    def on_epoch(self, report: dict) -> None:
        self.plots.add_epoch(report)
        fg, acc = report.get("fg_miou"), report.get("pixel_accuracy")
        where = (f"epoch {report['epoch']}" if report.get("minutes")
                 else f"epoch {report['epoch']}/{report['epochs']}")
        text = (f"{where} ({report['seconds']:.1f} s): "
                f"fg mIoU {'—' if fg is None else f'{fg:.3f}'}, pixel accuracy {'—' if acc is None else f'{acc:.3f}'}")
        if report.get("adjustment"):
            text += f" · {report['adjustment']}"
            self.status.setText(f"epoch {report['epoch']}: {report['adjustment']}")
        self.message.emit(text)

    def on_message(self, text: str) -> None:
        self.status.setText(text)
        self.message.emit(text)

    def on_finished(self, result: dict) -> None:
        self.last_result = result
        best = result.get("best_fg_miou")
        rate = self._batches / max(result.get("seconds", 0), 1e-9)
        self.status.setText(
            f"Run {result['run_id']} {result['status']}: {result.get('message', '')}. Best foreground mIoU "
            f"{'—' if best is None else f'{best:.3f}'} · {self._batches} batches in {result.get('seconds', 0):.0f} s "
            f"({rate:.1f}/s incl. start-up).")
        self.progress.setFormat(result["status"])
        self.runFinished.emit(result)

    def on_failed(self, e: BaseException) -> None:
        self.status.setText("Training failed — see the message.")
        self.progress.setFormat("failed")

    def on_done(self) -> None:
        self._set_running(False)

    def show_run(self, epochs: list[dict]) -> None:
        """Show a past run's curves (from the run history), unless a run is live."""
        if not self.running:
            self.plots.show_epochs(epochs, self.table)
