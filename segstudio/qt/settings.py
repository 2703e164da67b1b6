"""Persistent GUI settings (QSettings, INI format): geometry, dock layout, recent projects."""

from __future__ import annotations

from pathlib import Path

from PySide6 import QtCore

MAX_RECENT = 8


def app_settings() -> QtCore.QSettings:
    return QtCore.QSettings(
        QtCore.QSettings.Format.IniFormat, QtCore.QSettings.Scope.UserScope, "segstudio", "segstudio"
    )


def recent_projects() -> list[str]:
    value = app_settings().value("recent_projects", [])
    if isinstance(value, str):
        value = [value]
    return [p for p in (value or []) if Path(p).is_dir()]


def add_recent_project(folder: str | Path) -> list[str]:
    path = str(Path(folder).expanduser().resolve())
    recent = [path] + [p for p in recent_projects() if p != path]
    recent = recent[:MAX_RECENT]
    app_settings().setValue("recent_projects", recent)
    return recent
