# Two entry points for a fresh machine: `make demo` and `make test` (README).
# Both set up what is missing first (apt: libLLVM >= 16 for Dr.Jit's CPU backend; pip: .venv) and are
# quick when everything is already there.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
LLVM := /usr/lib/x86_64-linux-gnu/libLLVM-19.so
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
EXAMPLE := examples/living_room
export DRJIT_LIBLLVM_PATH ?= $(LLVM)
export PYTHONUNBUFFERED := 1

.PHONY: setup demo test bench extension clean

setup: $(STAMP) $(LLVM)

$(LLVM):
	@echo "== installing libllvm19 (Dr.Jit's CPU backend needs libLLVM >= 16)"
	$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq libllvm19

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found; bpy 5.0.1 needs Python 3.11 (set PYTHON=...)"; exit 2; }
	@[ -x $(PY) ] || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test,learned]'
	@touch $(STAMP)

demo: setup
	$(VENV)/bin/photo2scene reconstruct $(EXAMPLE)/photo.png --estimates $(EXAMPLE)/estimates \
		-o out/demo.bundle --blend out/demo.blend --overwrite
	@echo ""
	@echo "Blender scene: $$(pwd)/out/demo.blend"
	@echo "Report:        $$(pwd)/out/demo.bundle/report/index.html"

test: setup
	$(PY) -m pytest -q --durations=15

bench: setup
	$(VENV)/bin/photo2scene bench room

extension: setup
	$(PY) blender_addon/tools/build_extension.py --out-dir dist

clean:
	rm -rf out build dist *.egg-info
