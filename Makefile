# VocalBaby developer tasks (GNU make). `make` lists them.

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
WEB := vocalbaby_annotate/web
# How to run uv; .ci/run passes `UV="python3 -m uv"` when uv is installed but not on PATH.
UV ?= uv
export UV  # tests/install builds the wheel and fresh venvs with it

# Telemetry off for everything started from here.
export BENTOML_DO_NOT_TRACK := true
export DAGSTER_DISABLE_TELEMETRY := 1
# One artifacts folder and one Dagster instance for the CLI runs and the UI.
export VOCALBABY_ARTIFACTS_URI ?= $(CURDIR)/artifacts
DAGSTER_HOME_DIR := $(CURDIR)/.dagster_home

# pip arguments equivalent to `uv sync --all-extras`: the project with every extra, and the
# dev dependency group, all read from pyproject.toml.
PIP_ARGS_PY := import tomllib; p = tomllib.load(open("pyproject.toml", "rb")); \
	extras = ",".join(p["project"].get("optional-dependencies", {})); \
	print("-e", f".[{extras}]", *p["dependency-groups"]["dev"], sep="\0", end="")

.PHONY: help venv vendor-web bento-requirements test lint format demo dev serve dagster-home bench clean

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  %-8s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

venv: $(STAMP) ## Create/update .venv (uv sync --locked from uv.lock; pip if uv is missing)

$(STAMP): pyproject.toml uv.lock
	@if $(UV) --version >/dev/null 2>&1; then \
		echo "+ $(UV) sync --frozen --all-extras"; \
		$(UV) sync --frozen --all-extras; \
	else \
		echo "uv not found: installing with pip (not pinned by uv.lock)"; \
		python3 -m venv $(VENV); \
		$(BIN)/python -c '$(PIP_ARGS_PY)' | xargs -0 $(BIN)/python -m pip install; \
	fi
	touch $@

vendor-web: venv ## Refresh the vendored wavesurfer.js from npm (maintainers; see scripts/vendor_web.py)
	npm ci --prefix $(WEB) --no-audit --no-fund
	$(BIN)/python scripts/vendor_web.py

bento-requirements: ## Re-export the Bento's packages (deploy/bento/requirements.txt) from uv.lock
	$(UV) export --frozen --no-dev --no-emit-project --no-hashes --no-header --extra service \
		--quiet -o deploy/bento/requirements.txt

lint: venv ## ruff check + ruff format --check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: venv ## ruff format + ruff check --fix
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: venv lint ## Lint, then the whole pytest suite (unit + integration + browser)
	$(BIN)/python -m pytest -q

demo: venv dagster-home ## Train on the synthetic demo data: every asset, then the summary
	DAGSTER_HOME=$(DAGSTER_HOME_DIR) $(BIN)/vocalbaby-pipeline train
	@echo "Browse the run and its assets: make dev    (Dagster UI on http://127.0.0.1:3001)"
	@echo "Serve the registered model:    make serve  (API on http://127.0.0.1:3000)"

dev: venv dagster-home ## Dagster UI + daemon on http://127.0.0.1:3001 (DAGSTER_HOME=.dagster_home)
	DAGSTER_HOME=$(DAGSTER_HOME_DIR) $(BIN)/dagster dev -w workspace.yaml -h 127.0.0.1 -p 3001

serve: venv ## Serve vocalbaby:latest on http://127.0.0.1:3000, logging predictions for drift
	VOCALBABY_PREDICTION_LOG_URI=$${VOCALBABY_PREDICTION_LOG_URI:-$(VOCALBABY_ARTIFACTS_URI)/prediction_log} \
		$(BIN)/bentoml serve vocalbaby_service.service:VocalBaby --host 127.0.0.1 --port 3000

dagster-home:
	mkdir -p $(DAGSTER_HOME_DIR)
	cp dagster.yaml $(DAGSTER_HOME_DIR)/dagster.yaml

bench: venv ## Feature-extraction benchmark (benchmarks/features.py)
	$(BIN)/python benchmarks/features.py

clean: ## Remove .venv, artifacts/, .dagster_home/ and tool caches
	rm -rf $(VENV) artifacts .dagster_home .pytest_cache .ruff_cache test-artifacts $(WEB)/node_modules
