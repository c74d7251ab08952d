# Reclaim: `make run` serves a development instance, `make test` runs every check.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
PYTHON ?= python3

# Use the local PostgreSQL for the PostgreSQL suite when one answers (CI requires it).
RECLAIM_TEST_POSTGRES_URL ?= $(shell pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null && echo postgresql://postgres@127.0.0.1:5432/test)
export RECLAIM_TEST_POSTGRES_URL
# Likewise the local Redis for the Redis queue test.
RECLAIM_TEST_REDIS_URL ?= $(shell redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && echo redis://127.0.0.1:6379/15)
export RECLAIM_TEST_REDIS_URL

DEV := RECLAIM_ENVIRONMENT=development
# The demo's hotline: the Ministry of Health and Welfare's sexual-image line (daily 09:00-22:00).
DEMO_HOTLINE := RECLAIM_HOTLINE_PHONE=02-6605-7373 RECLAIM_HOTLINE_HOURS="每天 09:00–22:00" RECLAIM_HOTLINE_HOURS_EN="daily 09:00–22:00"

.PHONY: run test install install-test lint typecheck pytest bench clean

$(BIN)/.installed: pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $@

$(BIN)/.installed-test: $(BIN)/.installed pyproject.toml
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(BIN)/.installed

install-test: $(BIN)/.installed-test
	./scripts/install-test-deps

run: install
	@mkdir -p var
	$(DEV) $(BIN)/reclaim db upgrade
	$(DEV) $(BIN)/reclaim demo --synthetic-history 12
	$(DEV) $(DEMO_HOTLINE) $(BIN)/reclaim serve

lint: $(BIN)/.installed-test
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/lint-imports

typecheck: $(BIN)/.installed-test
	$(BIN)/mypy

# One worker per core (pytest-xdist); every test is independent of the others' order.
pytest: install-test
	$(BIN)/pytest -n auto

test: install-test lint typecheck pytest

bench: install
	$(BIN)/pip install --quiet -e '.[bench]'
	$(BIN)/python benchmarks/matching.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
