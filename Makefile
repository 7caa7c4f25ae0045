# The two commands a newcomer needs: `make run` and `make test`. Everything else is a helper of those.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 7071
DATA_DIR ?= .local
export PORT DATA_DIR

.PHONY: run run-emulators test lint typecheck unit bench emulators clean infra-scan

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Stamp files: reinstall only when a requirements file changes.
$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.runtime

## Serve the app on http://127.0.0.1:$(PORT)/api with embedded backends (SQLite under $(DATA_DIR)).
run: $(VENV)/.runtime
	@echo "video-signaling on http://127.0.0.1:$(PORT)/api  (data in $(DATA_DIR); Ctrl-C stops)"
	@echo "try: curl -s -H 'Authorization: Bearer dev:alice' http://127.0.0.1:$(PORT)/api/meetings"
	@$(BIN)/python -m devhost serve --port $(PORT)

## The same app on Azurite and the Cosmos DB emulator (the Azure adapters), started and stopped with it.
run-emulators: $(VENV)/.runtime node_modules/.installed
	@echo "video-signaling on http://127.0.0.1:$(PORT)/api, on Azurite and the Cosmos DB emulator (Ctrl-C stops)"
	@$(BIN)/python -m devhost serve --port $(PORT) --emulators

# The emulators the contract tests run against (Azurite, a Cosmos DB emulator), pinned in package-lock.json.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

emulators: node_modules/.installed

## Lint, type-check and run every test (the contract suites start and stop their own emulators).
test: $(VENV)/.dev emulators lint typecheck unit
# The Bicep in infra/: checkov (offline); the project's own infra checks are tests/infra, run by `unit`.
test: infra-scan

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.dev
	$(BIN)/mypy

unit: $(VENV)/.dev emulators
	$(BIN)/python -m pytest

# checkov pins old versions of packages the app uses, so it gets a venv of its own, reinstalled only when
# its pin changes (the stamp file, as for .venv). It lives inside .venv so that everything that already
# leaves .venv out (git, ruff, .funcignore, so the deployment package) leaves it out too.
CHECKOV_VENV := $(VENV)/checkov
$(CHECKOV_VENV)/.installed: infra/requirements-checkov.txt
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(CHECKOV_VENV)/bin/python -m pip install --quiet -r infra/requirements-checkov.txt
	touch $@

## Scan infra/ with checkov (Bicep, offline): no failed check, every skip justified and still needed.
infra-scan: $(CHECKOV_VENV)/.installed
	$(CHECKOV_VENV)/bin/python tests/infra/checkov_gate.py $(CHECKOV_VENV)/bin/checkov infra

## Benchmarks: they print ratios measured side by side in one run.
bench: $(VENV)/.dev emulators
	$(BIN)/python -m bench.cold_start
	$(BIN)/python -m bench.api
	$(BIN)/python -m bench.store_ops
	$(BIN)/python -m bench.summary
	$(BIN)/python -m bench.pipeline

clean:
	rm -rf $(VENV) node_modules .mypy_cache .ruff_cache .pytest_cache
