"""Versions for ``--version`` and the about box, read from package metadata (no heavy imports)."""

from __future__ import annotations

import platform
from importlib import metadata

from segstudio import __version__


def _dist_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def versions() -> dict[str, str]:
    return {
        "segstudio": __version__,
        "Python": platform.python_version(),
        "TensorFlow": _dist_version("tensorflow"),
        "Keras": _dist_version("keras"),
        "Qt (PySide6)": _dist_version("PySide6") if _dist_version("PySide6") != "not installed"
        else _dist_version("PySide6-Essentials"),
        "pyqtgraph": _dist_version("pyqtgraph"),
        "NumPy": _dist_version("numpy"),
    }


def version_lines() -> list[str]:
    v = versions()
    return [f"segstudio {v.pop('segstudio')}"] + [f"  {k} {val}" for k, val in v.items()]
