"""The launcher: folder arguments, and naming the system libraries Qt's X11 plugin lacks."""

import pytest

from segstudio import launcher


@pytest.mark.parametrize(
    ("soname", "package"),
    [
        ("libxcb-icccm.so.4", "libxcb-icccm4"),
        ("libxcb-keysyms.so.1", "libxcb-keysyms1"),
        ("libxkbcommon-x11.so.0", "libxkbcommon-x11-0"),
        ("libxcb-cursor.so.0.0.0", "libxcb-cursor0"),
    ],
)
def test_debian_package_names(soname, package):
    assert launcher._debian_package(soname) == package


def test_no_x11_check_offscreen_or_without_display(monkeypatch):
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    assert launcher.missing_x11_libraries() == []
    monkeypatch.delenv("QT_QPA_PLATFORM")
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert launcher.missing_x11_libraries() == []


def test_missing_libraries_stop_the_window_with_a_clear_message(monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(launcher, "has_display", lambda: True)
    monkeypatch.setattr(launcher, "missing_x11_libraries", lambda: ["libxcb-icccm4"])
    assert launcher.main(["gui", str(tmp_path)]) == 3
    err = capsys.readouterr().err
    assert "libxcb-icccm4" in err and "apt install" in err


def test_a_folder_argument_opens_the_window(monkeypatch, tmp_path):
    seen = {}
    monkeypatch.setattr(launcher, "has_display", lambda: True)
    monkeypatch.setattr(launcher, "missing_x11_libraries", lambda: [])

    import segstudio.qt.app as app

    monkeypatch.setattr(app, "run_gui", lambda project, shot, size, workspace=None: seen.setdefault("p", project) and 0)
    assert launcher.main([str(tmp_path)]) == 0
    assert seen["p"] == str(tmp_path)
