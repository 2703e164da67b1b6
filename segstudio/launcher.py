"""Entry point: ``segstudio`` alone or ``segstudio gui`` opens the app; anything else is the CLI.

This is the only module that imports ``segstudio.qt`` (the CLI stays usable without a display).
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Sequence

from segstudio.cli import build_parser, command_names
from segstudio.cli import main as cli_main

NO_DISPLAY_HELP = (
    "segstudio: no display found (DISPLAY/WAYLAND_DISPLAY unset), so the window cannot open.\n"
    "Use the headless commands instead, e.g.:\n"
    "  segstudio stats PROJECT        per-class pixel statistics\n"
    "  segstudio weights PROJECT      suggested class weights\n"
    "  segstudio train PROJECT --out model.keras\n"
    "or run under a virtual display: xvfb-run segstudio gui PROJECT\n"
    "(--screenshot works without a display: it renders offscreen.)"
)


def has_display() -> bool:
    if sys.platform in ("win32", "darwin"):
        return True
    return bool(
        os.environ.get("DISPLAY")
        or os.environ.get("WAYLAND_DISPLAY")
        or os.environ.get("QT_QPA_PLATFORM") in {"offscreen", "minimal", "vnc"}
    )


def _debian_package(soname: str) -> str:
    """libxcb-icccm.so.4 -> libxcb-icccm4; libxkbcommon-x11.so.0 -> libxkbcommon-x11-0."""
    name, _, version = soname.partition(".so.")
    version = version.split(".")[0]
    return f"{name}-{version}" if name[-1:].isdigit() else f"{name}{version}"


def missing_x11_libraries() -> list[str]:
    """Debian package names of the system libraries Qt's X11 plugin needs but cannot find.

    Qt only says "could not load the xcb platform plugin" and aborts; this names them.
    """
    if not sys.platform.startswith("linux") or os.environ.get("QT_QPA_PLATFORM"):
        return []
    if os.environ.get("WAYLAND_DISPLAY") or not os.environ.get("DISPLAY"):
        return []
    import importlib.util
    import shutil
    import subprocess
    from ctypes.util import find_library
    from pathlib import Path

    missing = [] if find_library("xcb-cursor") else ["libxcb-cursor0"]  # dlopen'ed by Qt
    spec = importlib.util.find_spec("PySide6")
    plugin = Path(spec.origin).parent / "Qt/plugins/platforms/libqxcb.so" if spec and spec.origin else None
    if plugin and plugin.exists() and shutil.which("ldd"):
        out = subprocess.run(["ldd", str(plugin)], capture_output=True, text=True).stdout
        for soname in re.findall(r"^\s*(\S+) => not found", out, flags=re.M):
            pkg = _debian_package(soname)
            if pkg not in missing:
                missing.append(pkg)
    return missing


def _parse_size(text: str | None) -> tuple[int, int] | None:
    if not text:
        return None
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise SystemExit(f"segstudio gui: --size must look like 1400x900, got {text!r}") from None
    return w, h


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if (
        args_list
        and not args_list[0].startswith("-")
        and args_list[0] not in command_names()
        and os.path.isdir(args_list[0])
    ):
        # `segstudio FOLDER`: the desktop entry's Exec=segstudio %F, or a folder dropped on it
        args_list = ["gui", args_list[0]]
    if args_list and args_list[0] != "gui":
        return cli_main(args_list)
    args = build_parser().parse_args(args_list or ["gui"])
    if args.screenshot and not has_display():
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    if not has_display():
        print(NO_DISPLAY_HELP, file=sys.stderr)
        return 3
    missing = missing_x11_libraries()
    if missing:  # Qt would abort with a cryptic plugin error
        libs = " ".join(missing)
        print(
            f"segstudio: Qt needs these system libraries to open an X11 window: {libs}\n"
            f"Debian/Ubuntu: sudo apt install {libs}   (or use the headless commands:"
            " segstudio --help)",
            file=sys.stderr,
        )
        return 3
    try:
        from segstudio.qt.app import run_gui
    except ImportError as e:
        print(f"segstudio: the desktop app cannot start ({e}).", file=sys.stderr)
        return 3
    return run_gui(args.project, args.screenshot, _parse_size(args.size), getattr(args, "workspace", None))


if __name__ == "__main__":
    raise SystemExit(main())
