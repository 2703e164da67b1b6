"""QIcons from segstudio.resources: the application icon and the tool/page icons.

The window sets ``app_icon()`` as the application's window icon (taskbar, title bar, alt-tab)
and ``QGuiApplication.setDesktopFileName("segstudio")`` so Wayland compositors match the
window to the installed desktop entry and its icon.
"""

from __future__ import annotations

import sys

from PySide6 import QtCore, QtGui

from segstudio.resources import APP_ICON, APP_ICON_SIZES, icon_path


def svg_icon(name: str) -> QtGui.QIcon:
    """A tool/page icon (``TOOL_ICONS``, ``PAGE_ICONS``); empty, with a warning, if a broken
    install lacks the file, so a missing icon never stops the app."""
    try:
        return QtGui.QIcon(str(icon_path(name)))
    except FileNotFoundError as e:
        print(f"segstudio: {e}", file=sys.stderr)
        return QtGui.QIcon()


def app_icon() -> QtGui.QIcon:
    """The application icon with every PNG render (crisp at 16-256 px) and the SVG above."""
    icon = QtGui.QIcon()
    try:
        for size in APP_ICON_SIZES:
            icon.addFile(str(icon_path(APP_ICON, size)), QtCore.QSize(size, size))
        icon.addFile(str(icon_path(APP_ICON)))
    except FileNotFoundError as e:
        print(f"segstudio: {e}", file=sys.stderr)
    return icon
