# The README's two set-up commands: `make run` and `make test`. Each builds .venv if needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO := demo
# Re-install when the package metadata (or this file's install line) changes.
STAMP_APP := $(VENV)/.stamp-app
STAMP_DEV := $(VENV)/.stamp-dev

.PHONY: run test demo lint bench clean package xcb-libs

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The app installs the optional ONNX extra too, so Export offers ONNX after `make run`.
$(STAMP_APP): pyproject.toml Makefile | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[onnx]"
	touch $@

# Tests install the optional ONNX extra too, so the ONNX export is tested, not skipped.
$(STAMP_DEV): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev,onnx]"
	touch $@ $(STAMP_APP)

$(DEMO)/segstudio.db: | $(STAMP_APP)
	$(BIN)/segstudio demo $(DEMO)

demo: $(STAMP_APP) $(DEMO)/segstudio.db

# Qt's X11 plugin needs a few xcb libraries that minimal systems lack (Qt >= 6.5 also
# libxcb-cursor0). Install them when we can (root + apt); otherwise the app names them.
QT_XCB_DEBS := libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0 \
	libxcb-xkb1 libxkbcommon-x11-0 libxcb-shape0 libxcb-randr0 libxcb-xinerama0
xcb-libs:
	@if [ -n "$$DISPLAY" ] && [ -z "$$WAYLAND_DISPLAY" ] && [ "$$(id -u)" = 0 ] \
		&& command -v apt-get >/dev/null && command -v dpkg-query >/dev/null \
		&& ! dpkg-query -W $(QT_XCB_DEBS) >/dev/null 2>&1; then \
		echo "Installing the xcb libraries Qt needs for X11 windows"; \
		apt-get install -y -qq $(QT_XCB_DEBS) >/dev/null 2>&1 || \
		{ apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq $(QT_XCB_DEBS) >/dev/null; }; \
	fi

run: $(STAMP_APP) $(DEMO)/segstudio.db xcb-libs
	@if [ -n "$$DISPLAY$$WAYLAND_DISPLAY" ]; then \
		$(BIN)/segstudio gui $(DEMO); \
	else \
		echo "No display (DISPLAY/WAYLAND_DISPLAY unset): the window cannot open here."; \
		echo "Running the headless demo pipeline instead; see README 'Headless commands'."; \
		$(BIN)/segstudio stats $(DEMO) && $(BIN)/segstudio weights $(DEMO) --scheme sqrt && \
		QT_QPA_PLATFORM=offscreen $(BIN)/segstudio gui $(DEMO) --screenshot $(DEMO)/window.png && \
		echo "A screenshot of the window is in $(DEMO)/window.png; open the app with: xvfb-run make run"; \
	fi

test: $(STAMP_DEV)
	QT_QPA_PLATFORM=offscreen TF_CPP_MIN_LOG_LEVEL=2 $(BIN)/python -m pytest

lint: $(STAMP_DEV)
	$(BIN)/ruff check segstudio tests benchmarks packaging
	$(BIN)/lint-imports

# Each benchmark prints ours-vs-baseline ratios measured side by side in one run.
bench: $(STAMP_DEV)
	$(BIN)/python benchmarks/bench_index.py
	QT_QPA_PLATFORM=offscreen $(BIN)/python benchmarks/bench_paint.py
	$(BIN)/python benchmarks/bench_train_step.py
	$(BIN)/python benchmarks/bench_predict.py
	QT_QPA_PLATFORM=offscreen $(BIN)/python benchmarks/bench_ui_latency.py
	$(BIN)/python benchmarks/bench_quality.py

# One-folder PyInstaller bundle in dist/segstudio/, then its offscreen smoke test
# (see packaging/README.md; minutes, and about 1.6 GB on disk).
package: $(STAMP_APP)
	PYTHON=$(abspath $(BIN)/python) bash packaging/build.sh
	bash packaging/smoke.sh dist/segstudio/segstudio

clean:
	rm -rf $(VENV) $(DEMO) build dist *.egg-info .pytest_cache
