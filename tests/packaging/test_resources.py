"""Package data: every icon, the desktop entry and the metainfo exist, parse and validate."""

from __future__ import annotations

import configparser
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest
from PIL import Image

from segstudio import resources as r


def test_app_icon_renders_have_their_sizes() -> None:
    assert r.icon_path("segstudio").suffix == ".svg"
    for size in r.APP_ICON_SIZES:
        with Image.open(r.icon_path("segstudio", size)) as im:
            assert im.size == (size, size)
            assert im.mode == "RGBA"
            alpha = im.getchannel("A")
            assert alpha.getpixel((0, 0)) == 0, "corners are transparent (rounded tile)"
            assert alpha.getpixel((size // 2, size // 2)) == 255


def test_every_svg_parses_with_a_viewbox() -> None:
    svgs = [r.icon_path("segstudio")] + [r.icon_path(name) for name in r.TOOL_ICONS + r.PAGE_ICONS]
    for svg in svgs:
        root = ET.parse(svg).getroot()
        assert root.tag == "{http://www.w3.org/2000/svg}svg", svg
        assert root.get("viewBox"), svg


def test_missing_resources_are_errors() -> None:
    with pytest.raises(FileNotFoundError):
        r.icon_path("no-such-tool")
    with pytest.raises(FileNotFoundError):
        r.icon_path("segstudio", 17)
    with pytest.raises(FileNotFoundError):
        r.resource_path("nothing/here.txt")


def test_resources_module_imports_no_qt() -> None:
    code = ("import sys, segstudio.resources as r; r.app_icon_paths(); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in {'PySide6', 'pyqtgraph', 'tensorflow'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_desktop_entry_fields() -> None:
    cp = configparser.ConfigParser(interpolation=None)
    cp.optionxform = str
    cp.read(r.resource_path(r.DESKTOP_FILE))
    entry = cp["Desktop Entry"]
    assert entry["Type"] == "Application"
    assert entry["Exec"] == "segstudio %F"
    assert entry["Icon"] == r.APP_ICON
    assert entry["Terminal"] == "false"
    assert {"Graphics", "Science"} <= set(entry["Categories"].strip(";").split(";"))


def test_metainfo_names_the_desktop_entry_and_icon() -> None:
    root = ET.parse(r.resource_path(r.METAINFO_FILE)).getroot()
    assert root.findtext("id") == r.APP_ID
    assert root.find("launchable").text == r.DESKTOP_FILE
    assert root.findtext("icon") == r.APP_ICON
    from segstudio import __version__

    assert root.find("releases/release").get("version") == __version__


@pytest.mark.skipif(shutil.which("desktop-file-validate") is None,
                    reason="desktop-file-validate not installed (Debian: desktop-file-utils)")
def test_desktop_file_validate() -> None:
    proc = subprocess.run(["desktop-file-validate", str(r.resource_path(r.DESKTOP_FILE))],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "error" not in proc.stdout.lower()


@pytest.mark.skipif(shutil.which("appstreamcli") is None,
                    reason="appstreamcli not installed (Debian: appstream)")
def test_appstreamcli_validate() -> None:
    proc = subprocess.run(["appstreamcli", "validate", "--no-net", str(r.resource_path(r.METAINFO_FILE))],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
