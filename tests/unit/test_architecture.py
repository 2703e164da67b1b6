"""The dependency rule of DESIGN.md as import-linter contracts (configured in pyproject.toml)."""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_import_contracts_hold():
    exe = shutil.which("lint-imports") or str(Path(sys.executable).with_name("lint-imports"))
    result = subprocess.run([exe, "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout, result.stdout


def test_core_imports_without_heavy_packages():
    code = (
        "import sys, segstudio.core.classes, segstudio.core.metrics, segstudio.core.weights, "
        "segstudio.core.stats, segstudio.core.demo\n"
        "bad = {'PySide6', 'tensorflow', 'keras', 'sqlalchemy', 'PIL'} & set(sys.modules)\n"
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, timeout=60)
