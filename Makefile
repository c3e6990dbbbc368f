# Everything a newcomer needs: `make demo` and `make test` set up .venv themselves.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HYPOTHESIS_PROFILE ?= ci

.PHONY: demo test lint typecheck pytest nightly bench bench-quick peers clean help

help:
	@echo "make demo   - set up .venv and run the demo on an embedded SQLite store"
	@echo "make test   - set up .venv with dev extras; ruff, mypy --strict, pytest"
	@echo "make nightly - the test suite with the deep hypothesis profile"
	@echo "make bench  - run the benchmarks and rewrite docs/performance.md"
	@echo "make bench-quick - a small council's year against ledger, hledger, bean-check (< 2 min)"

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

# The council years against ledger-cli, hledger and beancount (Debian packages ledger, hledger).
PEERS := ledger hledger
BENCH_STORES ?= bench/stores

peers:
	@for tool in $(PEERS); do command -v $$tool >/dev/null || missing="$$missing $$tool"; done; \
	if [ -n "$$missing" ]; then sudo -n apt-get install -y $$missing || apt-get install -y $$missing; fi

bench: $(VENV)/.installed-dev peers
	$(BIN)/python benchmarks/bench_ledger.py docs/performance.md
	$(BIN)/python benchmarks/bench_council.py --presets a400,a800,coventry,leicester --reps 2 \
		--stores $(BENCH_STORES) --doc docs/performance.md --json bench/results.json

bench-quick: $(VENV)/.installed-dev peers
	$(BIN)/python benchmarks/bench_council.py --presets tiny,small --reps 2 \
		--doc bench/quick.md --json bench/quick.json

nightly:
	$(MAKE) pytest HYPOTHESIS_PROFILE=nightly

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
