# Two commands for a fresh machine with Python 3.11+:
#   make run    install into .venv and serve the API on SQLite (hotline.db), http://127.0.0.1:8000
#   make test   install into .venv and run the test suite (SQLite; set
#               HOTLINE_TEST_DATABASE_URL=postgresql+asyncpg://USER@HOST:5432/postgres for PostgreSQL)
PYTHON ?= python3
VENV   ?= .venv
HOST   ?= 127.0.0.1
PORT   ?= 8000
WORKERS ?= 1
BIN     = $(VENV)/bin

.PHONY: run test lint clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ needed, found " + sys.version'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.run-deps: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.test-deps: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.run-deps

run: $(VENV)/.run-deps
	$(BIN)/hotline serve --host $(HOST) --port $(PORT) --workers $(WORKERS)

test: $(VENV)/.test-deps
	$(BIN)/python -m pytest

lint: $(VENV)/.test-deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

clean:
	rm -rf $(VENV) hotline.db hotline.db-wal hotline.db-shm .pytest_cache .hypothesis
