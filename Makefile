# The two commands a newcomer needs: `make run` and `make test`. Everything else is a helper of those.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 7071
DATA_DIR ?= .local
# The captions service (live captions' WebSocket) that `make run` starts beside the app.
CAPTIONS_PORT ?= 7072
export PORT DATA_DIR

.PHONY: run run-emulators test lint typecheck unit bench emulators node-realtime clean infra-scan web web-check fuzz \
	e2e e2e-tools

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

## Serve the web client on http://127.0.0.1:$(PORT)/ and the app under /api, with embedded backends.
run: $(VENV)/.runtime web
	@echo "video-signaling on http://127.0.0.1:$(PORT)/ (API under /api; data in $(DATA_DIR); Ctrl-C stops)"
	@echo "try: curl -s -H 'Authorization: Bearer dev:alice' http://127.0.0.1:$(PORT)/api/meetings"
	@echo "live captions: the captions service on ws://127.0.0.1:$(CAPTIONS_PORT) (CAPTIONS_PORT)"
	@$(BIN)/python -m devhost serve --port $(PORT) --captions-port $(CAPTIONS_PORT)

## The same app on Azurite and the Cosmos DB emulator (the Azure adapters), started and stopped with it.
run-emulators: $(VENV)/.runtime node_modules/.installed web
	@echo "video-signaling on http://127.0.0.1:$(PORT)/api, on Azurite and the Cosmos DB emulator (Ctrl-C stops)"
	@$(BIN)/python -m devhost serve --port $(PORT) --emulators

# The emulators the contract tests run against (Azurite, a Cosmos DB emulator), pinned in package-lock.json.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

emulators: node_modules/.installed

# The real @azure/web-pubsub-client the realtime tests run against devhost's endpoint, pinned in its lock.
tests/node_realtime/node_modules/.installed: tests/node_realtime/package.json tests/node_realtime/package-lock.json
	cd tests/node_realtime && npm ci --no-audit --no-fund --loglevel=error
	touch $@

node-realtime: tests/node_realtime/node_modules/.installed

# The web client (web/): Node 20.19 or newer builds it; `make run` serves web/dist.
WEB_SOURCES := $(shell find web/src web/public -type f 2>/dev/null) web/index.html web/auth-redirect.html web/vite.config.ts web/tsconfig.json
web/node_modules/.installed: web/package.json web/package-lock.json
	@node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)' 2>/dev/null || { echo "make: the web client needs Node.js 20.19 or newer with npm (found: $$(node --version 2>/dev/null || echo none)); install it, e.g. apt-get install nodejs npm or from nodejs.org"; exit 1; }
	cd web && npm ci --no-audit --no-fund --loglevel=error
	touch $@

web/dist/index.html: web/node_modules/.installed $(WEB_SOURCES)
	cd web && npm run --silent build

web: web/dist/index.html

# The committed API client must be the one the app's OpenAPI document generates, then the client's own
# checks: types, lint, format, unit and component tests.
web-check: $(VENV)/.dev web/node_modules/.installed
	$(BIN)/python -m devhost openapi --out web/openapi.json
	cd web && npm run --silent api:generate >/dev/null
	@git diff --exit-code --stat -- web/openapi.json web/src/api/schema.d.ts || { echo "make: web/openapi.json or web/src/api/schema.d.ts was out of date with the API: regenerated, commit them"; exit 1; }
	cd web && npm run --silent typecheck && npm run --silent lint && npm run --silent format:check && npm run --silent test

## Lint, type-check and run every test (the contract suites start and stop their own emulators).
test: $(VENV)/.dev emulators lint typecheck unit web-check e2e
# The Bicep in infra/: checkov (offline); the project's own infra checks are tests/infra, run by `unit`.
test: infra-scan

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.dev
	$(BIN)/mypy

unit: $(VENV)/.dev emulators node-realtime
	$(BIN)/python -m pytest

# The browser tests (web/e2e, Playwright) drive the system's Chromium: Playwright never downloads one
# (exported to every recipe, npm ci included).
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1
E2E_CHROMIUM := $(firstword $(CHROMIUM_PATH) $(wildcard /usr/bin/chromium /usr/bin/chromium-browser /usr/bin/google-chrome))

# What the browser tests need besides Node: Chromium, and espeak-ng and ffmpeg to make the recording the
# scenario uploads. Installed with apt-get where that is possible (root on Debian/Ubuntu, as CI runs).
e2e-tools:
	@missing=""; [ -x "$(E2E_CHROMIUM)" ] || missing="chromium"; \
	for tool in espeak-ng ffmpeg ffprobe; do command -v $$tool >/dev/null || missing="$$missing $$tool"; done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "make: the browser tests need $${missing# }: apt-get install chromium espeak-ng ffmpeg"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium espeak-ng ffmpeg >/dev/null; \
	else \
		echo "make: the browser tests need: $${missing# } (not found). Install them, e.g. on Debian/Ubuntu:"; \
		echo "      sudo apt-get install chromium espeak-ng ffmpeg"; \
		echo "      (elsewhere: Chromium or Google Chrome, with CHROMIUM_PATH=/path/to/it; espeak-ng; ffmpeg)"; \
		exit 1; \
	fi

## The browser tests: the built client and the app served by devhost, in headless Chromium (web/e2e).
## Screenshots, traces of failures and devhost's log go to web/test-results/.
e2e: $(VENV)/.runtime web e2e-tools
	cd web && npm run --silent e2e

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

## Fuzz the API deeper than `make test` does: schemathesis, every check and phase, on devhost (minutes).
FUZZ_EXAMPLES ?= 200
fuzz: $(VENV)/.dev
	$(BIN)/python -m tests.fuzz.run --max-examples $(FUZZ_EXAMPLES)

## Benchmarks: they print ratios measured side by side in one run.
bench: $(VENV)/.dev emulators web e2e-tools
	$(BIN)/python -m bench.cold_start
	$(BIN)/python -m bench.api
	$(BIN)/python -m bench.store_ops
	$(BIN)/python -m bench.summary
	$(BIN)/python -m bench.notes_quality
	$(BIN)/python -m bench.evidence
	$(BIN)/python -m bench.search
	$(BIN)/python -m bench.pipeline
	$(BIN)/python -m bench.turnaround
	$(BIN)/python -m bench.offline_wer
	$(BIN)/python -m bench.realtime
	# Live captions: a word's end to the caption at a participant's client; an hour's call's end to its notes.
	$(BIN)/python -m bench.captions
	# The same latency in a browser: a stored change (PATCH) until the other user's page shows it.
	cd web && npm run --silent e2e -- e2e/live.spec.ts --grep latency
	$(BIN)/python -m bench.web_bundle
	$(BIN)/python -m bench.attacks

clean:
	rm -rf $(VENV) node_modules tests/node_realtime/node_modules .mypy_cache .ruff_cache .pytest_cache web/node_modules web/dist \
		web/test-results
