# Agora — every target sets up the environment it needs from the lock file.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.8
STAMP := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help setup demo test test-fast bench lint clean lock browser

help: ## show this help
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(BIN)/uv pip sync --python $(BIN)/python --quiet --compile-bytecode requirements.lock
	$(BIN)/uv pip install --python $(BIN)/python --quiet --no-deps -e .
	@touch $(STAMP)

# dbt's manifest, prepared once by the set-up (nothing parses dbt at import time)
target/manifest.json: $(STAMP) dbt_project.yml $(shell find models macros data-tests -type f 2>/dev/null)
	AGORA_WAREHOUSE=:memory: DBT_SEND_ANONYMOUS_USAGE_STATS=false $(BIN)/agora-dbt parse --quiet --project-dir . --profiles-dir . --target-path target

setup: $(STAMP) target/manifest.json ## create .venv from requirements.lock, prepare the dbt manifest

demo: setup ## simulate six microsites and land everything in a fresh home (./.agora)
	$(BIN)/agora demo

test: setup browser ## run the whole test suite (unit, slow and integration)
	$(BIN)/python -m pytest -n 2 --dist loadgroup

test-fast: setup ## the quick subset for the edit loop
	$(BIN)/python -m pytest -m "not slow and not integration" -x -q

bench: setup ## run the benchmarks, write benchmarks/results.md
	$(BIN)/python -m benchmarks.run

lint: setup ## ruff lint + format check, mypy
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/mypy pipelines catalog

browser: ## headless Chromium for the tests that look at pages (Debian's package)
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }

lock: ## re-resolve requirements.lock from pyproject.toml (needs network)
	@test -x $(BIN)/uv || { $(PYTHON) -m venv $(VENV) && $(BIN)/python -m pip install --quiet uv==$(UV_VERSION); }
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 -o requirements.lock

clean: ## remove the virtual environment, caches and the default home
	rm -rf $(VENV) .agora .pytest_cache .ruff_cache .mypy_cache target logs
