# fleetgate: `make run` serves on SQLite, `make test` runs lint, type check and every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test lint typecheck pytest bench screenshots clean

$(STAMP): pyproject.toml engines/whatsapp/pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]' -e engines/whatsapp
	touch $(STAMP)

# Local development: webhooks may go to receivers on this machine (off by default, see
# docs/security.md); a production deployment leaves FLEETGATE_DELIVERY__ALLOW_LOOPBACK unset.
run: $(STAMP)
	FLEETGATE_DELIVERY__ALLOW_LOOPBACK=true $(BIN)/fleetgate serve

lint: $(STAMP)
	$(BIN)/ruff check src tests bench engines
	$(BIN)/ruff format --check src tests bench engines
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

# Two workers, a test file each at a time: the suite waits on servers and databases more than it
# computes, so it takes about half as long (PYTEST_WORKERS=0 runs it in one process). Three were
# slower here (20 min 52 s against 18 min 15 s for the whole suite).
PYTEST_WORKERS ?= 2

# Line coverage of src/fleetgate (subprocesses included), failing under 95 % (pyproject.toml,
# [tool.coverage.*]). Running a few tests with PYTEST_ARGS? Add COVERAGE= to leave it out.
COVERAGE ?= --cov --cov-report=term-missing:skip-covered

pytest: $(STAMP)
	$(BIN)/pytest -q -n $(PYTEST_WORKERS) --dist loadfile $(COVERAGE) $(PYTEST_ARGS)

test: lint typecheck pytest

bench: $(STAMP)
	$(BIN)/python -m bench.run_all

# PNGs of the console's main pages into docs/console/ (Debian's Chromium, see docs/console.md).
screenshots: $(STAMP)
	$(BIN)/python -m tests.api.console.screenshots docs/console

clean:
	rm -rf $(VENV) fleetgate-data .pytest_cache .mypy_cache .ruff_cache
