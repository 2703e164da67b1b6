"""Package data: the application icon, tool icons, desktop entry and AppStream metainfo.

Shared by the GUI, the CLI and packaging, so it imports nothing but the standard library
(no Qt). Files are found with :mod:`importlib.resources`, which works for a source checkout,
an installed wheel and a PyInstaller bundle alike.

Layout::

    icons/hicolor/scalable/apps/segstudio.svg     application icon (source)
    icons/hicolor/<N>x<N>/apps/segstudio.png      renders, N in APP_ICON_SIZES
    icons/tools/<name>.svg                        tool bar icons, TOOL_ICONS + PAGE_ICONS + STYLE_ICONS
    segstudio.desktop                             freedesktop desktop entry
    io.github.segstudio.segstudio.metainfo.xml    AppStream metainfo
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

APP_ID = "io.github.segstudio.segstudio"
APP_ICON = "segstudio"
APP_ICON_SIZES = (16, 24, 32, 48, 64, 128, 256)
TOOL_ICONS = ("brush", "eraser", "fill", "polygon", "wand", "picker", "accept-brush", "accept-lasso", "train", "predict", "export",
              "undo", "redo", "save")
PAGE_ICONS = ("open-folder", "open-project", "demo")  # start page buttons, same style
STYLE_ICONS = ("check",)  # drawn by the theme's style sheet (a checked box's mark)
DESKTOP_FILE = "segstudio.desktop"
METAINFO_FILE = f"{APP_ID}.metainfo.xml"


def resource_path(name: str) -> Path:
    """Path of the resource ``name`` (``/``-separated, relative to this package).

    Raises ``FileNotFoundError`` when it does not exist, so a missing file in a wheel or a
    bundle is an error at the call, not a blank icon later.
    """
    root = resources.files(__name__)
    target = root.joinpath(*[part for part in name.split("/") if part])
    path = Path(str(target))
    if not path.exists():
        raise FileNotFoundError(f"segstudio resource not found: {name} (looked in {path})")
    return path


def icon_path(name: str, size: int | None = None) -> Path:
    """Path of an icon.

    ``icon_path("segstudio")`` is the scalable application icon; with ``size`` (one of
    ``APP_ICON_SIZES``) it is the PNG render of that size. Any other name is a tool icon
    (``TOOL_ICONS``, ``PAGE_ICONS``), an SVG.
    """
    if name == APP_ICON:
        if size is None:
            return resource_path(f"icons/hicolor/scalable/apps/{APP_ICON}.svg")
        if size not in APP_ICON_SIZES:
            raise FileNotFoundError(f"no {size}px render of the segstudio icon; sizes: {APP_ICON_SIZES}")
        return resource_path(f"icons/hicolor/{size}x{size}/apps/{APP_ICON}.png")
    if size is not None:
        raise ValueError("tool icons are SVG only; pass no size")
    return resource_path(f"icons/tools/{name}.svg")


def app_icon_paths() -> list[Path]:
    """The scalable icon and every PNG render (for a QIcon with all sizes, or an installer)."""
    return [icon_path(APP_ICON)] + [icon_path(APP_ICON, s) for s in APP_ICON_SIZES]
