# The two commands of the README. Both create .venv (Python 3.11) and install what they need into it.
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
CONFIG ?= configs/jet_dense.yaml
PYTEST_ARGS ?=

.PHONY: run test lint install clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[gen,dev]"

run: install  ## install, then train + emit + C-simulate + verify the dense jet tagger on the embedded jets
	$(BIN)/triggernn run $(CONFIG)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: lint  ## install, lint, then the test suite (slow tests excluded; `make test PYTEST_ARGS="-m ''"` for all)
	$(BIN)/python -m pytest -m "not slow" $(PYTEST_ARGS)

clean:
	rm -rf hls_projects/*/ runs/ .pytest_cache
