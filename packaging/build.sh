#!/usr/bin/env bash
# Build the one-folder Linux bundle: dist/segstudio/segstudio (GUI + CLI).
#
#   bash packaging/build.sh            # uses the repo's .venv (make test / make run create it)
#   PYTHON=/path/to/python bash packaging/build.sh
#   DIST=build/other bash packaging/build.sh       # another output folder
#   STRIP_TF=0 bash packaging/build.sh              # keep TensorFlow's symbol tables (+233 MB)
#
# PyInstaller (and its hooks) are installed into build/pyinstaller-pkgs with `pip --target`
# and put on PYTHONPATH for this build only, so the app's venv is not changed. The bundle is
# built from the packages that venv has installed: what runs there is what gets frozen.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
PYTHON=${PYTHON:-$ROOT/.venv/bin/python}
PYI_DIR=${PYI_DIR:-$ROOT/build/pyinstaller-pkgs}
PYINSTALLER_VERSION=${PYINSTALLER_VERSION:->=6.10}

if [ ! -x "$PYTHON" ]; then
    echo "build.sh: no Python at $PYTHON; run 'make test' (or 'make run') first to create .venv" >&2
    exit 2
fi
"$PYTHON" -c "import segstudio, tensorflow, keras, PySide6" || {
    echo "build.sh: $PYTHON lacks segstudio or its dependencies; run: $PYTHON -m pip install -e ." >&2
    exit 2
}
if [ ! -d "$PYI_DIR/PyInstaller" ]; then
    echo "Installing PyInstaller into $PYI_DIR"
    "$PYTHON" -m pip install --quiet --target "$PYI_DIR" "pyinstaller$PYINSTALLER_VERSION"
fi
export PYTHONPATH="$PYI_DIR${PYTHONPATH:+:$PYTHONPATH}"
DIST=${DIST:-dist}
rm -rf "$DIST/segstudio"
start=$(date +%s)
nice -n "${NICE:-10}" "$PYTHON" -m PyInstaller --noconfirm --clean \
    --distpath "$DIST" --workpath "build/pyinstaller-$(basename "$DIST")" packaging/segstudio.spec
# libtensorflow_cc/_framework carry 233 MB of symbol tables that nothing needs at run time.
# Only these two: stripping every library (PyInstaller's strip=True) breaks numpy's OpenBLAS.
if [ "${STRIP_TF:-1}" = 1 ] && command -v strip >/dev/null; then
    for lib in "$DIST"/segstudio/_internal/tensorflow/libtensorflow_cc.so.* \
               "$DIST"/segstudio/_internal/tensorflow/libtensorflow_framework.so.*; do
        if [ -f "$lib" ] && [ ! -L "$lib" ]; then
            nice -n "${NICE:-10}" strip --strip-unneeded "$lib"
        fi
    done
fi
end=$(date +%s)
echo "Built $DIST/segstudio in $((end - start)) s: $(du -sh "$DIST/segstudio" | cut -f1)"
echo "Try it: bash packaging/smoke.sh $DIST/segstudio/segstudio"
