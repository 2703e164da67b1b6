#!/usr/bin/env bash
# Smoke test of the built bundle, offscreen: --version, demo (and that its images were really
# imported), a one-epoch train of a tiny U-Net, SavedModel export (SMOKE_ONNX=1: ONNX too),
# predict, gui --screenshot.
#
#   bash packaging/smoke.sh [dist/segstudio/segstudio]
#
# Runs from a temporary folder outside the repo, so nothing can come from the source tree.
# Prints the time each step took; exits non-zero on the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$(realpath "${1:-dist/segstudio/segstudio}")
[ -x "$BIN" ] || { echo "smoke.sh: no executable at $BIN; build it with: bash packaging/build.sh" >&2; exit 2; }
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
export QT_QPA_PLATFORM=offscreen TF_CPP_MIN_LOG_LEVEL=2
unset DISPLAY WAYLAND_DISPLAY
# a fresh per-user config: no recent projects or saved window state from this machine
export XDG_CONFIG_HOME="$WORK/config" XDG_CACHE_HOME="$WORK/cache" HOME="$WORK/home"
mkdir -p "$HOME"

step() {
    local name=$1; shift
    local t0 t1 rc
    t0=$(date +%s.%N)
    set +e
    "$@" >"$WORK/$name.log" 2>&1
    rc=$?
    set -e
    t1=$(date +%s.%N)
    printf '%-12s rc=%d  %6.2f s\n' "$name" "$rc" "$(awk "BEGIN{print $t1 - $t0}")"
    if [ "$rc" -ne 0 ]; then
        echo "---- $name output ----"; tail -n 40 "$WORK/$name.log"; exit 1
    fi
}

step version "$BIN" --version
grep -q "^segstudio " "$WORK/version.log" || { echo "--version printed no 'segstudio X.Y'"; cat "$WORK/version.log"; exit 1; }
sed 's/^/    /' "$WORK/version.log"
step demo "$BIN" demo "$WORK/demo" --n 5
[ -f "$WORK/demo/segstudio.db" ] || { echo "demo wrote no segstudio.db"; exit 1; }
step stats "$BIN" stats "$WORK/demo" --json
# a bundle missing an image codec still "succeeds" with 0 images imported: check the count
grep -q '"images": 5' "$WORK/stats.log" || { echo "the demo project has not 5 images:"; head -5 "$WORK/stats.log"; exit 1; }
step train "$BIN" train "$WORK/demo" --epochs 1 --steps-per-epoch 2 --batch 2 --crop 64 --filters 4 \
    --depth 2 --out "$WORK/model.keras"
[ -s "$WORK/model.keras" ] || { echo "train wrote no model"; exit 1; }
step export "$BIN" export "$WORK/model.keras" --format savedmodel --out "$WORK/savedmodel"
[ -f "$WORK/savedmodel/saved_model.pb" ] || { echo "export wrote no SavedModel"; exit 1; }
if [ -n "${SMOKE_ONNX:-}" ]; then  # needs the [onnx] extra in the build venv
    step onnx "$BIN" export "$WORK/model.keras" --format onnx --out "$WORK/model.onnx"
    [ -s "$WORK/model.onnx" ] || { echo "export wrote no ONNX model"; exit 1; }
fi
step predict "$BIN" predict "$WORK/model.keras" "$WORK/demo/images" --out "$WORK/pred"
[ "$(ls "$WORK/pred" | grep -c '\.png$')" = 5 ] || { echo "predict did not write 5 class maps"; ls "$WORK/pred"; exit 1; }
step gui "$BIN" gui "$WORK/demo" --screenshot "$WORK/window.png"
[ -s "$WORK/window.png" ] || { echo "gui --screenshot wrote no PNG"; exit 1; }
head -c 8 "$WORK/window.png" | od -An -c | grep -q "P   N   G" || { echo "window.png is not a PNG"; exit 1; }
if [ -n "${SMOKE_KEEP:-}" ]; then cp "$WORK/window.png" "$SMOKE_KEEP"; echo "screenshot kept: $SMOKE_KEEP"; fi
echo "smoke OK: $BIN ($(du -sh "$(dirname "$BIN")" | cut -f1))"
