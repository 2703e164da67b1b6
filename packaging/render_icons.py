"""Render the application icon's PNG sizes (and .ico/.icns inputs) from its SVG source.

    QT_QPA_PLATFORM=offscreen .venv/bin/python packaging/render_icons.py

Writes segstudio/resources/icons/hicolor/<N>x<N>/apps/segstudio.png for N in APP_ICON_SIZES.
The PNGs are committed; rerun this after editing the SVG. Uses PySide6's QSvgRenderer, so it
needs no cairo.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6 import QtCore, QtGui, QtSvg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from segstudio.resources import APP_ICON, APP_ICON_SIZES, icon_path  # noqa: E402


def render(svg: Path, size: int) -> QtGui.QImage:
    renderer = QtSvg.QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"cannot parse {svg}")
    image = QtGui.QImage(size, size, QtGui.QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(QtCore.Qt.GlobalColor.transparent)
    painter = QtGui.QPainter(image)
    painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QtGui.QPainter.RenderHint.SmoothPixmapTransform)
    renderer.render(painter)
    painter.end()
    return image.convertToFormat(QtGui.QImage.Format.Format_ARGB32)


def main() -> int:
    QtGui.QGuiApplication(sys.argv[:1])
    svg = icon_path(APP_ICON)
    base = svg.parents[2]  # icons/hicolor
    for size in APP_ICON_SIZES:
        out = base / f"{size}x{size}" / "apps" / f"{APP_ICON}.png"
        out.parent.mkdir(parents=True, exist_ok=True)
        if not render(svg, size).save(str(out), "PNG"):
            raise SystemExit(f"cannot write {out}")
        print(out.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
