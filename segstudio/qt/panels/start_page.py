"""What the window shows with no project open: what segstudio is for and what to do next,
not an empty canvas.

Signals (the window decides what each one does):

- ``open_folder_requested()``: "Open a folder of images…" (import images, with or without
  masks, as a new project).
- ``open_project_requested(str)``: "Open a project…" emits ``""`` (ask with a folder
  dialog); a recent project emits its path.
- ``open_demo_requested()``: "Open the demo project" (the window generates it on first use,
  e.g. in :func:`default_demo_dir`, then opens it).

Each click emits exactly one of these.
"""

from __future__ import annotations

from pathlib import Path

from PySide6 import QtCore, QtGui, QtWidgets

from segstudio import __version__
from segstudio.qt.icons import svg_icon
from segstudio.resources import APP_ICON

TAGLINE = (
    "Label and train semantic segmentation when one class, usually background, covers "
    "almost every pixel: see how rare each class is, paint and correct the masks, and train "
    "a U-Net whose loss is weighted so the rare classes are learned, not drowned out."
)
MAX_SHOWN_RECENT = 8


def default_demo_dir() -> Path:
    """Where the window keeps the demo project: the per-user data folder."""
    import platformdirs

    return Path(platformdirs.user_data_dir("segstudio", appauthor=False)) / "demo"


class ActionCard(QtWidgets.QPushButton):
    """A large flat button: icon, a title in bold and one line saying what it does."""

    def __init__(self, icon: str, title: str, detail: str, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("ActionCard")
        self.setCursor(QtCore.Qt.CursorShape.PointingHandCursor)
        self.setAccessibleName(title)
        self.setAccessibleDescription(detail)
        self.setToolTip(detail)
        self.title = title
        lay = QtWidgets.QHBoxLayout(self)
        lay.setContentsMargins(16, 10, 16, 10)
        lay.setSpacing(14)
        pic = QtWidgets.QLabel()
        pic.setPixmap(svg_icon(icon).pixmap(QtCore.QSize(30, 30), self.devicePixelRatioF()))
        pic.setFixedSize(32, 32)
        text = QtWidgets.QLabel(f"<b style='font-size:11pt'>{title}</b><br>"
                                f"<span style='color:#a7adb7'>{detail}</span>")
        text.setTextFormat(QtCore.Qt.TextFormat.RichText)
        text.setWordWrap(True)  # a narrow central area (docks open) wraps, never clips
        text.setSizePolicy(QtWidgets.QSizePolicy.Policy.Expanding, QtWidgets.QSizePolicy.Policy.Preferred)
        for w in (pic, text):
            w.setAttribute(QtCore.Qt.WidgetAttribute.WA_TransparentForMouseEvents)
            lay.addWidget(w)
        policy = QtWidgets.QSizePolicy(QtWidgets.QSizePolicy.Policy.Expanding,
                                       QtWidgets.QSizePolicy.Policy.Minimum)
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)

    def sizeHint(self) -> QtCore.QSize:
        hint = self.layout().sizeHint()
        return QtCore.QSize(hint.width(), max(62, hint.height()))

    def minimumSizeHint(self) -> QtCore.QSize:
        return QtCore.QSize(240, 62)

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return max(62, self.layout().totalHeightForWidth(width))


class RecentItem(QtWidgets.QPushButton):
    """One recent project: its folder name, then where it is in grey."""

    def __init__(self, name: str, where: str, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("RecentItem")
        self.setAccessibleName(name)
        lay = QtWidgets.QHBoxLayout(self)
        lay.setContentsMargins(8, 5, 8, 5)
        lay.setSpacing(10)
        pic = QtWidgets.QLabel()
        pic.setPixmap(svg_icon("open-project").pixmap(QtCore.QSize(16, 16), self.devicePixelRatioF()))
        self.name_label = QtWidgets.QLabel(name)
        self.where_label = QtWidgets.QLabel(where)
        for w in (pic, self.name_label, self.where_label):
            w.setAttribute(QtCore.Qt.WidgetAttribute.WA_TransparentForMouseEvents)
            lay.addWidget(w)
        lay.addStretch(1)
        self.setMinimumHeight(30)
        self.set_present(True)

    def set_present(self, present: bool) -> None:
        """A project folder that is gone is shown, greyed out, and cannot be clicked."""
        self.setEnabled(present)
        self.name_label.setStyleSheet(f"color: {'#e2e4e8' if present else '#6a6e75'};")
        self.where_label.setStyleSheet(f"color: {'#858b94' if present else '#5b5f66'};")

    def sizeHint(self) -> QtCore.QSize:
        return self.layout().sizeHint()


STYLE = """
QWidget#StartPage { background: #232427; }
QPushButton#ActionCard {
    background: #2f3136; border: 1px solid #3c3f45; border-radius: 8px; text-align: left;
}
QPushButton#ActionCard:hover { background: #363940; border-color: #3fd4bd; }
QPushButton#ActionCard:pressed { background: #2a2c30; }
QPushButton#ActionCard:focus { border-color: #3574c4; }
QPushButton#RecentItem {
    background: transparent; border: none; border-radius: 4px; text-align: left; padding: 5px 8px;
    color: #dedede;
}
QPushButton#RecentItem:hover { background: #2f3136; }
QLabel#SectionTitle { color: #8b919b; font-weight: bold; letter-spacing: 1px; }
"""


class StartPage(QtWidgets.QWidget):
    open_folder_requested = QtCore.Signal()
    open_project_requested = QtCore.Signal(str)
    open_demo_requested = QtCore.Signal()

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("StartPage")
        self.setAttribute(QtCore.Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setStyleSheet(STYLE)

        logo = QtWidgets.QLabel()
        logo.setPixmap(svg_icon(APP_ICON).pixmap(QtCore.QSize(64, 64), self.devicePixelRatioF()))
        logo.setFixedSize(64, 64)
        title = QtWidgets.QLabel(f"<span style='font-size:22pt; font-weight:600'>segstudio</span>"
                                 f"&nbsp;&nbsp;<span style='color:#8b919b'>{__version__}</span>")
        self.tagline = QtWidgets.QLabel(TAGLINE)
        self.tagline.setWordWrap(True)
        self.tagline.setStyleSheet("color: #b9bec6;")
        head = QtWidgets.QHBoxLayout()
        head.setSpacing(16)
        head.addWidget(logo, 0, QtCore.Qt.AlignmentFlag.AlignTop)
        head_text = QtWidgets.QVBoxLayout()
        head_text.setSpacing(4)
        head_text.addWidget(title)
        head_text.addWidget(self.tagline)
        head.addLayout(head_text, 1)

        self.folder_button = ActionCard(
            "open-folder", "Open a folder of images…",
            "Images with or without masks; the files stay where they are")
        self.project_button = ActionCard(
            "open-project", "Open a project…", "A folder that holds a segstudio.db")
        self.demo_button = ActionCard(
            "demo", "Open the demo project",
            "32 classes, about 99% background: made in seconds, ready to train")
        self.folder_button.clicked.connect(self._folder_clicked)
        self.project_button.clicked.connect(self._project_clicked)
        self.demo_button.clicked.connect(self.open_demo_requested)

        recent_title = QtWidgets.QLabel("RECENT PROJECTS")
        recent_title.setObjectName("SectionTitle")
        self.recent_box = QtWidgets.QVBoxLayout()
        self.recent_box.setSpacing(0)
        self.recent_buttons: list[RecentItem] = []
        self.no_recent = QtWidgets.QLabel("None yet: the projects you open are listed here.")
        self.no_recent.setStyleSheet("color: #7d828a; padding: 5px 8px;")
        self.recent_box.addWidget(self.no_recent)

        hint = QtWidgets.QLabel("New here? Open the demo project. <b>F1</b> lists the keyboard shortcuts; "
                                "<b>Help ▸ How imbalance is handled</b> explains the class weights, losses "
                                "and per-class IoU.")
        hint.setWordWrap(True)
        hint.setStyleSheet("color: #7d828a;")

        column = QtWidgets.QVBoxLayout()
        column.setSpacing(10)
        column.addLayout(head)
        column.addSpacing(18)
        for b in (self.folder_button, self.project_button, self.demo_button):
            column.addWidget(b)
        column.addSpacing(18)
        column.addWidget(recent_title)
        column.addLayout(self.recent_box)
        column.addSpacing(18)
        column.addWidget(hint)
        inner = QtWidgets.QWidget()
        inner.setLayout(column)
        self._inner = inner

        outer = QtWidgets.QVBoxLayout(self)
        outer.addStretch(1)
        row = QtWidgets.QHBoxLayout()
        row.addStretch(1)
        row.addWidget(inner, 0)
        row.addStretch(1)
        outer.addLayout(row)
        outer.addStretch(2)
        self.set_recent([])

    def resizeEvent(self, ev: QtGui.QResizeEvent) -> None:
        # the column is as wide as the page allows, up to 640 px: cards wrap rather than clip
        self._inner.setFixedWidth(max(280, min(640, ev.size().width() - 48)))
        super().resizeEvent(ev)

    # -- state the window pushes in ---------------------------------------------------------
    def set_recent(self, paths: list[str]) -> None:
        """Show up to MAX_SHOWN_RECENT projects, newest first; missing folders are greyed out."""
        for b in self.recent_buttons:
            self.recent_box.removeWidget(b)
            b.deleteLater()
        self.recent_buttons = []
        for p in paths[:MAX_SHOWN_RECENT]:
            path = Path(p)
            exists = path.is_dir()
            b = RecentItem(path.name or str(p), self._short(path) + ("" if exists else "   (missing)"))
            b.setToolTip(str(p))
            b.setProperty("project_path", str(p))
            b.set_present(exists)
            b.setCursor(QtCore.Qt.CursorShape.PointingHandCursor)
            b.clicked.connect(lambda _=False, p=str(p): self._recent_clicked(p))
            self.recent_box.addWidget(b)
            self.recent_buttons.append(b)
        self.no_recent.setVisible(not self.recent_buttons)

    @staticmethod
    def _short(path: Path) -> str:
        parent = path.parent
        try:
            return "~/" + str(parent.relative_to(Path.home()))
        except ValueError:
            return str(parent)

    # -- emit ----------------------------------------------------------------------------------
    def _folder_clicked(self) -> None:
        self.open_folder_requested.emit()

    def _project_clicked(self) -> None:
        self.open_project_requested.emit("")

    def _recent_clicked(self, path: str) -> None:
        self.open_project_requested.emit(path)
