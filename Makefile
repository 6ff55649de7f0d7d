# o2c: the two commands a new user needs are `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin
STAMP = $(VENV)/.installed
PYTEST_ARGS ?= -n 2

.PHONY: demo test test-postgres lint format bench install clean-demo

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c requirements.lock -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

## Set up everything, load the demo data and serve on http://127.0.0.1:8000
# The shipped ECB rates end on 2025-05-09, so the demo accepts old rates for today's work.
demo: export O2C_FX_MAX_AGE_DAYS ?= 1000
demo: $(STAMP)
	$(BIN)/o2c demo setup
	$(BIN)/o2c scheduler & scheduler=$$!; trap 'kill $$scheduler' EXIT INT TERM; \
	$(BIN)/o2c runserver 127.0.0.1:8000

## Run the whole test suite (SQLite by default; set O2C_DATABASE_URL for PostgreSQL)
test: $(STAMP)
	$(BIN)/ruff check src benchmarks conftest.py
	$(BIN)/ruff format --check src benchmarks conftest.py
	$(BIN)/pytest $(PYTEST_ARGS)

test-postgres: $(STAMP)
	O2C_DATABASE_URL=postgres://postgres@127.0.0.1:5432/o2c $(BIN)/pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src benchmarks conftest.py

format: $(STAMP)
	$(BIN)/ruff format src benchmarks conftest.py
	$(BIN)/ruff check --fix src benchmarks conftest.py

bench: $(STAMP)
	$(BIN)/python benchmarks/import_receivables.py
