"""The training form's pieces: its field labels (the one place they are written, so messages
that name a field -- the collapse alarm's advice -- use the same words), its spin boxes, the
collapsible 'Advanced' section and the fixed-height status line under Start / Cancel."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from PySide6 import QtCore, QtWidgets

from segstudio.core import alarm_advice
from segstudio.ml.config import AUGMENT_CHOICES, AUGMENT_PARTS, DEFAULT_AUGMENT

#: form row label per setting (config keys where the row holds one)
FIELD_LABELS: dict[str, str] = {
    "start": "Start from",
    "model_size": "Model size",
    "weights": "Class weights",
    "weight_strength": "Weight strength",
    "minutes": "Time budget",
    "correction_weight": "Corrected pixels",
    "size": "Filters, depth",
    "loss": "Loss",
    "clip": "Weight clip",
    "rare_fraction": "Rare-class crops",
    "augment": "Augmentation",
    "schedule": "Schedule",
    "lr": "Learning rate",
    "validation": "Validation",
    "device": "Device",
}
#: the rows under the closed 'Advanced' section
ADVANCED = ("correction_weight", "size", "loss", "clip", "rare_fraction", "augment", "schedule", "lr", "validation", "device")
PANEL = "the Training panel"
#: the plan choices each form row holds; its reason line explains them
PLAN_ROWS: dict[str, tuple[str, ...]] = {
    "model_size": ("filters", "depth"), "loss": ("loss",), "weights": ("weights", "clip", "weight_strength"),
    "schedule": ("crop", "batch", "steps_per_epoch"), "lr": ("lr",), "minutes": ("minutes",),
    "rare_fraction": ("rare_fraction",),
}


def field_names() -> dict[str, str]:
    """How the alarm's advice names a setting in the window: 'Weight strength', or
    'Weight clip' (under Advanced) for a field the user has to open the section to see."""
    return {key: f"'{FIELD_LABELS[key]}'" + (" (under Advanced)" if key in ADVANCED else "")
            for key in alarm_advice.SETTINGS if key in FIELD_LABELS}


def window_alarm(alarm: str, settings: Mapping[str, object]) -> str:
    """The alarm as the window shows it: what happened, then advice in the form's own words,
    leaving out what ``settings`` (the form's values) already do."""
    advice = alarm_advice.advice(alarm, settings, field_names())
    text = alarm_advice.diagnosis(alarm)
    return f"{text}. In {PANEL}: {advice}." if advice else text + "."


def row_reasons(choices: Iterable, changed: Mapping[str, object]) -> dict[str, tuple[str, bool]]:
    """Per form row, its reason line and whether the user changed a value in it: the plan's
    reason for each choice (``core.plan.Choice``), or 'yours' with what the plan had chosen."""
    by_key = {c.key: c for c in choices}
    out = {}
    for row, keys in PLAN_ROWS.items():
        parts = []
        for k in keys:
            if (c := by_key.get(k)) is None:
                continue
            prefix = f"{k}: " if len(keys) > 1 else ""
            if k in changed:
                planned = f"{c.value:g}" if isinstance(c.value, float) else str(c.value)
                parts.append(f"{prefix}yours (the plan: {planned})")
            else:
                parts.append(prefix + c.reason)
        out[row] = ("\n".join(parts), any(k in changed for k in keys))
    return out


def form_layout() -> QtWidgets.QFormLayout:
    form = QtWidgets.QFormLayout()
    form.setFieldGrowthPolicy(QtWidgets.QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
    form.setRowWrapPolicy(QtWidgets.QFormLayout.RowWrapPolicy.DontWrapRows)
    return form


def float_spin(lo: float, hi: float, value: float, *, decimals: int = 2, step: float | None = None,
               suffix: str = "", tooltip: str = "") -> QtWidgets.QDoubleSpinBox:
    s = QtWidgets.QDoubleSpinBox()
    s.setDecimals(decimals)  # before the range and value, which it rounds
    s.setRange(lo, hi)
    if step is not None:
        s.setSingleStep(step)
    s.setValue(value)
    if suffix:
        s.setSuffix(suffix)
    if tooltip:
        s.setToolTip(tooltip)
    return s


def fraction_spin(hi: float, value: float, tooltip: str) -> QtWidgets.QDoubleSpinBox:
    """0 .. ``hi`` in steps of 0.05, two decimals."""
    return float_spin(0.0, hi, value, step=0.05, tooltip=tooltip)


def select_data(combo: QtWidgets.QComboBox, value, what: str) -> None:
    """Select the item whose data is ``value``; an unknown value raises instead of blanking the menu."""
    i = combo.findData(value)
    if i < 0:
        raise ValueError(f"no {what} option {value!r}")
    combo.setCurrentIndex(i)


def augment_combo() -> QtWidgets.QComboBox:
    """The augmentation menu: each item's data is its spec (``ml.config.AUGMENT_CHOICES``)."""
    combo = QtWidgets.QComboBox()
    for spec, text in AUGMENT_CHOICES.items():
        combo.addItem(text, spec)
    combo.setCurrentIndex(combo.findData(DEFAULT_AUGMENT))
    combo.setToolTip("\n".join(f"{part}: {what}" for part, what in AUGMENT_PARTS.items()))
    return combo


def spin(lo: int, hi: int, value: int, step: int = 1, suffix: str = "") -> QtWidgets.QSpinBox:
    s = QtWidgets.QSpinBox()
    s.setRange(lo, hi)
    s.setSingleStep(step)
    s.setValue(value)
    if suffix:
        s.setSuffix(suffix)
    return s


class Collapsible(QtWidgets.QWidget):
    """A header button that shows or hides ``body`` (closed by default)."""

    def __init__(self, title: str, body: QtWidgets.QWidget, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.body = body
        self.button = QtWidgets.QToolButton()
        self.button.setText(title)
        self.button.setCheckable(True)
        self.button.setToolButtonStyle(QtCore.Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.button.setAutoRaise(True)
        self.button.setStyleSheet("QToolButton { font-weight: bold; }")
        self.button.toggled.connect(self.set_open)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(0, 4, 0, 0)
        lay.addWidget(self.button)
        lay.addWidget(body)
        self.set_open(False)

    def set_open(self, on: bool) -> None:
        self.button.setChecked(on)
        self.button.setArrowType(QtCore.Qt.ArrowType.DownArrow if on else QtCore.Qt.ArrowType.RightArrow)
        self.body.setVisible(on)

    @property
    def is_open(self) -> bool:
        return self.button.isChecked()


class StatusLine(QtWidgets.QLabel):
    """Word-wrapped text in a fixed height of ``lines`` lines, so the buttons above it never
    move when it grows (a click landed beside a button that had jumped); the tooltip holds
    the whole text when it is longer."""

    def __init__(self, lines: int = 3, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.setWordWrap(True)
        self.setAlignment(QtCore.Qt.AlignmentFlag.AlignLeft | QtCore.Qt.AlignmentFlag.AlignTop)
        self.setFixedHeight(self.fontMetrics().lineSpacing() * lines + 4)
        self.setSizePolicy(QtWidgets.QSizePolicy.Policy.Ignored, QtWidgets.QSizePolicy.Policy.Fixed)

    def setText(self, text: str) -> None:
        super().setText(text)
        self.setToolTip(text)
