# Everything a newcomer needs: `make demo` and `make test` set up .venv themselves.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HYPOTHESIS_PROFILE ?= ci

.PHONY: demo test lint typecheck pytest nightly bench clean help

help:
	@echo "make demo   - set up .venv and run the demo on an embedded SQLite store"
	@echo "make test   - set up .venv with dev extras; ruff, mypy --strict, pytest"
	@echo "make nightly - the test suite with the deep hypothesis profile"
	@echo "make bench  - run the benchmarks and rewrite docs/performance.md"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[reports,bankfeeds]'
	@touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@ $(VENV)/.installed

demo: $(VENV)/.installed
	$(BIN)/dpledger demo

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests examples benchmarks
	$(BIN)/ruff format --check src tests examples benchmarks

typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy --strict src

pytest: $(VENV)/.installed-dev
	HYPOTHESIS_PROFILE=$(HYPOTHESIS_PROFILE) $(BIN)/python -m pytest

test: lint typecheck pytest

bench: $(VENV)/.installed-dev
	$(BIN)/python benchmarks/bench_ledger.py docs/performance.md

nightly:
	$(MAKE) pytest HYPOTHESIS_PROFILE=nightly

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
