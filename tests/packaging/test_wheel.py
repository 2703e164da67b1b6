"""The wheel, installed outside the repo, starts: ``--version``, ``demo``, ``gui --screenshot``.

Cheapest honest set-up: the wheel is built from a copy of the package sources (so no stale
``build/`` or ``*.egg-info`` of the checkout can leak into it) by the PEP 517 front end, then
installed with ``pip install --no-deps`` into a fresh virtual environment in a temp folder.
That venv gets its third-party dependencies (TensorFlow, PySide6, ...: ~3 GB, which a clean
install would download on every CI run) through one ``.pth`` line naming the test venv's
site-packages. Lines in a ``.pth`` file only append to ``sys.path`` and do not run the
``.pth`` files found there, so the checkout's editable install of segstudio stays inactive,
and the venv's own site-packages (holding the wheel's segstudio) comes first anyway. The
commands run from a temp cwd with a clean environment, and the test asserts that segstudio
was imported from the fresh venv.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from importlib import metadata
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
TIMEOUT = 240


def _run(cmd: list[str], *, cwd: Path, env: dict[str, str] | None = None,
         timeout: int = TIMEOUT) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, (
        f"{' '.join(map(str, cmd))} exited {proc.returncode}\n"
        f"--- stdout ---\n{proc.stdout[-4000:]}\n--- stderr ---\n{proc.stderr[-4000:]}")
    return proc


def _has_distribution(name: str) -> bool:
    # not find_spec: the checkout's ignored build/ folder would pass for the package
    try:
        metadata.distribution(name)
    except metadata.PackageNotFoundError:
        return False
    return True


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the wheel from a copy of pyproject.toml, README.md and segstudio/."""
    root = tmp_path_factory.mktemp("wheel")
    src = root / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        if (REPO / name).exists():
            shutil.copy2(REPO / name, src / name)
    shutil.copytree(REPO / "segstudio", src / "segstudio",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    out = root / "dist"
    if _has_distribution("build"):
        cmd = [sys.executable, "-m", "build", "--wheel", "--outdir", str(out), str(src)]
    else:  # the same PEP 517 isolated build through pip, until `build` is in the dev extra
        cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--wheel-dir", str(out), str(src)]
    _run(cmd, cwd=root, timeout=300)
    wheels = sorted(out.glob("segstudio-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


def test_wheel_contains_resources_and_migrations(wheel: Path) -> None:
    from segstudio.resources import APP_ICON_SIZES, TOOL_ICONS

    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {
        "segstudio/resources/__init__.py",
        "segstudio/resources/segstudio.desktop",
        "segstudio/resources/io.github.segstudio.segstudio.metainfo.xml",
        "segstudio/resources/icons/hicolor/scalable/apps/segstudio.svg",
        "segstudio/store/migrations/env.py",
        "segstudio/store/migrations/versions/0001_initial.py",
        "segstudio/launcher.py",
    }
    expected |= {f"segstudio/resources/icons/hicolor/{s}x{s}/apps/segstudio.png" for s in APP_ICON_SIZES}
    expected |= {f"segstudio/resources/icons/tools/{t}.svg" for t in TOOL_ICONS}
    missing = expected - names
    assert not missing, f"missing from {wheel.name}: {sorted(missing)}"
    # every migration the checkout has is in the wheel
    for f in (REPO / "segstudio/store/migrations/versions").glob("*.py"):
        assert f"segstudio/store/migrations/versions/{f.name}" in names
    assert not [n for n in names if n.startswith(("tests/", "benchmarks/", "packaging/"))]
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "segstudio = segstudio.launcher:main" in text


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str], Path]:
    """A fresh venv outside the repo with the wheel installed; its env; a temp cwd."""
    root = tmp_path_factory.mktemp("venv")
    venv = root / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=root)
    vpy = venv / "bin" / "python"
    purelib = Path(_run([str(vpy), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                        cwd=root).stdout.strip())
    deps = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (purelib / "zz_segstudio_test_deps.pth").write_text("".join(f"{d}\n" for d in sorted(deps)))
    # pip of the test venv installs into the fresh venv (pip >= 22.3: --python)
    _run([sys.executable, "-m", "pip", "--python", str(vpy), "install", "--no-deps", "--no-index",
          "--quiet", str(wheel)], cwd=root)
    cwd = root / "work"
    cwd.mkdir()
    env = {k: v for k, v in os.environ.items()
           if k not in {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "DISPLAY", "WAYLAND_DISPLAY"}}
    env.update(PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}", HOME=str(root / "home"),
               XDG_CONFIG_HOME=str(root / "config"), XDG_CACHE_HOME=str(root / "cache"),
               QT_QPA_PLATFORM="offscreen", TF_CPP_MIN_LOG_LEVEL="2")
    (root / "home").mkdir()
    return venv, env, cwd


def test_installed_wheel_imports_from_the_venv(installed: tuple[Path, dict[str, str], Path]) -> None:
    venv, env, cwd = installed
    code = ("import segstudio, segstudio.resources as r; print(segstudio.__file__); "
            "print(r.icon_path('segstudio', 16)); print(r.resource_path('segstudio.desktop'))")
    out = _run([str(venv / "bin" / "python"), "-c", code], cwd=cwd, env=env).stdout.split()
    print("segstudio imported from", out[0])
    for path in out:
        assert Path(path).is_relative_to(venv), f"{path} is not inside the fresh venv {venv}"
        assert not Path(path).is_relative_to(REPO)
        assert Path(path).is_file()


def test_installed_console_script_runs(installed: tuple[Path, dict[str, str], Path]) -> None:
    venv, env, cwd = installed
    exe = venv / "bin" / "segstudio"
    assert exe.is_file(), "the wheel's console script was not installed"
    version = _run([str(exe), "--version"], cwd=cwd, env=env).stdout
    from segstudio import __version__

    assert version.splitlines()[0] == f"segstudio {__version__}"
    for name in ("TensorFlow", "Keras", "Qt (PySide6)"):
        assert name in version

    demo = cwd / "demo"
    _run([str(exe), "demo", str(demo), "--n", "5"], cwd=cwd, env=env)
    assert (demo / "segstudio.db").is_file()
    # the images were really imported (a missing codec once made this 0 with exit status 0)
    stats = json.loads(_run([str(exe), "stats", str(demo), "--json"], cwd=cwd, env=env).stdout)
    assert stats["images"] == 5 and stats["labelled_images"] == 5
    assert sum(c["pixels"] for c in stats["classes"]) == 5 * 256 * 256

    shot = cwd / "window.png"
    proc = _run([str(exe), "gui", str(demo), "--screenshot", str(shot)], cwd=cwd, env=env)
    assert shot.is_file() and shot.stat().st_size > 1000, proc.stdout + proc.stderr
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    from PIL import Image

    with Image.open(shot) as im:
        assert im.width >= 800 and im.height >= 500
