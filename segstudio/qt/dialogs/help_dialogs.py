"""Help menu dialogs: keyboard shortcuts, how the imbalance handling works, about.

- :class:`ShortcutsDialog` shows ``segstudio.qt.shortcuts.SHORTCUTS`` (the one list of
  shortcuts) and, given the window, every other
  menu shortcut its actions really have, so the table cannot leave one out.
- :class:`ImbalanceHelpDialog` is a short page; the weight schemes are listed from
  ``segstudio.core.weights.SCHEMES``, the same one-liners the CLI and the stats panel show.
- :class:`AboutDialog` shows ``segstudio.core.versions.versions()``, which ``segstudio
  --version`` prints too.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

from PySide6 import QtCore, QtGui, QtWidgets

from segstudio.core.versions import versions
from segstudio.core.weights import SCHEMES
from segstudio.qt.icons import svg_icon
from segstudio.qt.shortcuts import SHORTCUTS
from segstudio.resources import APP_ICON

Row = tuple[str, str]

# Words in SHORTCUTS that name the same key as Qt's portable text.
# "Enter" in prose is either Enter key (Return on the main block, Enter on the keypad).
_KEY_ALIASES = {"page down": ("PgDown",), "page up": ("PgUp",), "enter": ("Return", "Enter"),
                "return": ("Return", "Enter"), "esc": ("Esc",), "escape": ("Esc",), "delete": ("Del",),
                "period": (".",), "comma": (",",)}


def default_shortcut_rows() -> list[Row]:
    return list(SHORTCUTS)


def _portable(seq: QtGui.QKeySequence) -> str:
    return seq.toString(QtGui.QKeySequence.SequenceFormat.PortableText)


def keys_mentioned(rows: Sequence[Row]) -> set[str]:
    """Every single key sequence the key column of ``rows`` names, in Qt's portable text.

    Understands 'A / B', 'A, B', 'Page Down' and digit ranges like '1 … 9, 0'.
    """
    found: set[str] = set()
    for keys, _ in rows:
        text = keys.replace("…", " … ")
        m = re.search(r"(\d)\s*…\s*(\d)", text)
        if m:
            lo, hi = sorted((int(m.group(1)), int(m.group(2))))
            found |= {str(d) for d in range(lo, hi + 1)}
        for token in re.split(r"\s*/\s*|\s*,\s*|…", text):
            token = token.strip()
            if not token:
                continue
            for name in _KEY_ALIASES.get(token.lower(), (token,)):
                seq = QtGui.QKeySequence(name)
                if seq.count() == 1 and _portable(seq):  # 'Wheel', 'middle-drag': no key
                    found.add(_portable(seq))
    return found


def action_shortcuts(window: QtWidgets.QWidget) -> list[tuple[str, str, str]]:
    """(portable key, action text without '&', menu title) for every QAction under ``window``."""
    menus: dict[int, str] = {}
    if isinstance(window, QtWidgets.QMainWindow):
        for menu in window.menuBar().findChildren(QtWidgets.QMenu):
            title = menu.title().replace("&", "")
            for act in menu.actions():
                menus.setdefault(id(act), title)
    out = []
    seen: set[tuple[str, str]] = set()
    for act in window.findChildren(QtGui.QAction):
        text = act.text().replace("&", "").strip()
        for seq in act.shortcuts():
            key = _portable(seq)
            if key and (key, text) not in seen:
                seen.add((key, text))
                out.append((key, text, menus.get(id(act), "")))
    return out


class ShortcutsDialog(QtWidgets.QDialog):
    """A two-column table of shortcuts: the curated rows, then the window's other shortcuts."""

    def __init__(self, parent: QtWidgets.QWidget | None = None, rows: Sequence[Row] | None = None,
                 window: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        self.rows: list[Row] = list(default_shortcut_rows() if rows is None else rows)
        window = window if window is not None else parent
        self.extra_rows: list[Row] = []
        self.section_row: int | None = None
        if window is not None:
            mentioned = keys_mentioned(self.rows)
            by_text: dict[str, list[str]] = {}
            for key, text, menu in action_shortcuts(window):
                if key in mentioned or not text:
                    continue
                label = f"{text} ({menu})" if menu else text
                by_text.setdefault(label, []).append(key)
            self.extra_rows = [(" / ".join(keys), label) for label, keys in by_text.items()]
        self.table = QtWidgets.QTableWidget(0, 2)
        self.table.setHorizontalHeaderLabels(["Keys", "Does"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.NoSelection)
        self.table.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)
        self.table.setShowGrid(False)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(True)
        self.table.setStyleSheet(
            "QTableWidget::item { padding: 3px 10px; }"
            "QHeaderView::section { padding: 5px 13px; background: #2f3136; color: #a7adb7;"
            " border: none; border-bottom: 1px solid #3c3f45; }")
        self.table.verticalHeader().setDefaultSectionSize(28)
        self.table.horizontalHeader().setDefaultAlignment(QtCore.Qt.AlignmentFlag.AlignLeft)
        bold = self.font()
        bold.setBold(True)
        for keys, does in self.rows:
            self._add_row(keys, does, bold)
        if self.extra_rows:
            r = self.table.rowCount()
            self.table.insertRow(r)
            head = QtWidgets.QTableWidgetItem("Also in the menus")
            head.setFont(bold)
            head.setForeground(QtGui.QColor("#8b919b"))
            self.table.setItem(r, 0, head)
            self.table.setSpan(r, 0, 1, 2)
            self.section_row = r
            for keys, does in self.extra_rows:
                self._add_row(keys, does, bold)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QtWidgets.QHeaderView.ResizeMode.Stretch)
        buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        lay = QtWidgets.QVBoxLayout(self)
        lay.addWidget(self.table)
        lay.addWidget(buttons)
        self.resize(680, min(820, self.table.rowCount() * 28 + header.sizeHint().height() + 70))

    def _add_row(self, keys: str, does: str, font: QtGui.QFont) -> None:
        r = self.table.rowCount()
        self.table.insertRow(r)
        k = QtWidgets.QTableWidgetItem(keys)
        k.setFont(font)
        self.table.setItem(r, 0, k)
        self.table.setItem(r, 1, QtWidgets.QTableWidgetItem(does))

    def shown_rows(self) -> list[Row]:
        """(keys, description) of every row shown, without the section heading."""
        return [(self.table.item(r, 0).text(), self.table.item(r, 1).text())
                for r in range(self.table.rowCount()) if self.table.item(r, 1) is not None]


#: display names of ml.config.LOSS_PARTS (a test keeps the two in step)
LOSS_LABELS = {"ce": "cross-entropy", "wce": "weighted cross-entropy", "focal": "focal",
               "dice": "Dice", "gdice": "generalised Dice", "tversky": "Tversky"}


def default_loss_label() -> str:
    """The trainer's default loss (ml.config: no TensorFlow import), e.g. 'focal + Dice'."""
    from segstudio.services.training_setup import engine_defaults

    loss = str(engine_defaults().get("loss", ""))
    return " + ".join(LOSS_LABELS.get(part, part) for part in loss.split("+") if part)


def imbalance_help_html() -> str:
    schemes = "".join(f"<li><b>{html.escape(name)}</b>: {html.escape(line)}</li>"
                      for name, line in SCHEMES.items())
    return f"""
<h2>How segstudio handles class imbalance</h2>

<h3>Why accuracy lies</h3>
<p>When 99% of the pixels are background, a model that predicts background everywhere is
99% accurate, and its loss looks fine. It has learned nothing: the IoU of every other class
is 0. segstudio therefore never shows accuracy as the headline. It shows <b>per-class IoU</b>
(intersection over union, TP / (TP + FP + FN), for each class on its own) and the
<b>foreground mIoU</b>, their mean over the classes other than background and ignored ones.
A class that is in neither the truth nor the prediction is left out (NaN), not counted as 0 or 1.</p>

<h3>Class weights</h3>
<p>Each pixel's loss is multiplied by the weight of its true class, so rare classes count
for more. The weights come from the pixel counts indexed in your project and are shown
before training, with each class's resulting share of the loss:</p>
<ul>{schemes}</ul>
<p><b>Clip the weights.</b> Inverse-frequency weights on extreme imbalance reach ratios of
tens of thousands; trained with them a model floods every image with foreground. The clip
caps each weight at R&nbsp;× the smallest non-zero weight (R = 10–100 is a good start).</p>

<h3>Losses</h3>
<ul>
<li><b>Weighted cross-entropy</b>: per-pixel, uses the class weights; stable from the first step.</li>
<li><b>Dice</b> / <b>generalised Dice</b>: overlap per class, averaged over classes, so a small
class counts as much as a large one; generalised Dice weights classes by 1/volume².</li>
<li><b>Focal</b>: down-weights pixels the model already gets right (γ = 2), so the many easy
background pixels stop dominating.</li>
<li><b>Tversky</b>: Dice with separate costs for false positives and false negatives; raise
β to trade precision for recall on rare classes.</li>
</ul>
<p>The default, <b>{html.escape(default_loss_label())}</b>, combines a per-pixel term that uses
the class weights with a per-class overlap term; the training panel lets you pick others.</p>

<h3>Rare-class crop sampling</h3>
<p>Training crops are not drawn uniformly. Images are repeated by how rare their rarest class
is (repeat-factor sampling), and a share of the crops (the <i>rare fraction</i>, a training
setting) is centred on a pixel of a foreground class chosen with probability rising with its
rarity. This uses the stored counts:
no balanced copy of your data is written.</p>

<h3>The collapse alarm</h3>
<p>After each epoch the validation predictions are compared with the truth. If the model
predicts far fewer foreground pixels than there are (collapse to background), or far more
while background recall drops (foreground flood), training shows an alarm at once, so a
model that learned nothing is not mistaken for one that converged. Fixes: stronger or less
clipped weights, add Dice, more rare-class crops; for a flood, clip the weights harder.</p>

<h3>Correct and retrain</h3>
<p>Fix what the model got wrong and retrain on the whole set (not only the corrected images,
which makes a model forget the rest); the pixels you corrected can be weighted up.</p>
"""


class ImbalanceHelpDialog(QtWidgets.QDialog):
    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("How imbalance is handled")
        self.browser = QtWidgets.QTextBrowser()
        self.browser.setOpenExternalLinks(True)
        self.browser.document().setDefaultStyleSheet(
            "h2 { margin-bottom: 4px; } h3 { margin-top: 14px; margin-bottom: 2px; } li { margin-bottom: 3px; }")
        self.browser.setHtml(imbalance_help_html())
        buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        lay = QtWidgets.QVBoxLayout(self)
        lay.addWidget(self.browser)
        lay.addWidget(buttons)
        self.resize(720, 760)

    def text(self) -> str:
        return self.browser.toPlainText()


class AboutDialog(QtWidgets.QDialog):
    """Name, purpose, and the versions of segstudio and what it runs on (copyable)."""

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("About segstudio")
        self.versions = versions()
        logo = QtWidgets.QLabel()
        logo.setPixmap(svg_icon(APP_ICON).pixmap(QtCore.QSize(96, 96), self.devicePixelRatioF()))
        logo.setAlignment(QtCore.Qt.AlignmentFlag.AlignTop)
        head = QtWidgets.QLabel(
            f"<span style='font-size:20pt; font-weight:600'>segstudio</span>"
            f"&nbsp;&nbsp;{html.escape(self.versions['segstudio'])}<br><br>"
            "Semantic segmentation when one class dwarfs the rest: paint, weight, train, "
            "correct and export, with per-class IoU in view.")
        head.setWordWrap(True)
        self.table = QtWidgets.QTableWidget(0, 2)
        self.table.horizontalHeader().setVisible(False)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setShowGrid(False)
        self.table.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)
        self.table.setStyleSheet("QTableWidget { border: 1px solid #3c3f45; border-radius: 4px; }"
                                 "QTableWidget::item { padding: 2px 10px; }")
        qt_runtime = QtCore.qVersion()
        rows = list(self.versions.items()) + [("Qt runtime", qt_runtime)]
        for name, value in rows:
            r = self.table.rowCount()
            self.table.insertRow(r)
            self.table.setItem(r, 0, QtWidgets.QTableWidgetItem(name))
            self.table.setItem(r, 1, QtWidgets.QTableWidgetItem(value))
        self.table.horizontalHeader().setSectionResizeMode(0, QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setSectionResizeMode(1, QtWidgets.QHeaderView.ResizeMode.Stretch)
        self.table.resizeRowsToContents()
        self.table.setFixedHeight(self.table.verticalHeader().length() + 4)
        self.version_text = "\n".join(f"{k}: {v}" for k, v in rows)
        buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.StandardButton.Close)
        self.copy_button = buttons.addButton("Copy versions", QtWidgets.QDialogButtonBox.ButtonRole.ActionRole)
        self.copy_button.clicked.connect(
            lambda: QtWidgets.QApplication.clipboard().setText(self.version_text))
        buttons.rejected.connect(self.reject)
        top = QtWidgets.QHBoxLayout()
        top.setSpacing(18)
        top.addWidget(logo)
        top.addWidget(head, 1)
        lay = QtWidgets.QVBoxLayout(self)
        lay.addLayout(top)
        lay.addSpacing(8)
        lay.addWidget(self.table)
        lay.addWidget(buttons)
        self.resize(520, 0)
