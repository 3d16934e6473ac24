# launchplan: `make sandbox` (the main job) and `make test` work on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
POLICY_STAMP := policy/venv/.installed
HEROKU_CLI := tools/heroku-cli
HEROKU_CLI_STAMP := $(HEROKU_CLI)/node_modules/.installed

.PHONY: setup sandbox plan test soak lint check bench engine heroku-cli clean

setup: $(STAMP) $(POLICY_STAMP)

# Re-installs only when the pinned list or the package metadata changes.
$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

# The policy pack runs in its own virtualenv, as a self-contained pack does (policy/PulumiPolicy.yaml).
$(POLICY_STAMP): policy/requirements.txt pyproject.toml
	test -x policy/venv/bin/python || $(PYTHON) -m venv policy/venv
	cd policy && venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $(POLICY_STAMP)

## The main job: the sandbox stack applied locally on the offline engine, against API emulators.
sandbox: setup engine
	$(BIN)/launchplan sandbox up

## Render the production stack offline (no engine, no credentials, no network).
plan: setup
	$(BIN)/launchplan plan production

## Every test: unit tests, and integration tests that run the offline engine (and the official Heroku CLI).
test: setup engine heroku-cli
	$(BIN)/pytest

## The 20-seed convergence soak of issue 10, on the Vercel part and on the whole sandbox stack, from a
## random first seed (shown in the test ids; rerun one with LAUNCHPLAN_SOAK_FIRST_SEED). About 50 minutes.
SOAK_FIRST_SEED ?= $(shell python3 -c 'import random; print(random.randrange(1, 2**30))')
soak: setup engine
	LAUNCHPLAN_SOAK_SEEDS=20 LAUNCHPLAN_SOAK_FIRST_SEED=$(SOAK_FIRST_SEED) \
	  $(BIN)/pytest -v tests/integration/test_partial_failures.py -k random_503s

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/mypy policy  # a second run: the pack's __main__ would clash with the program's

check: lint test

bench: setup
	$(BIN)/python -m benchmarks.bench_plan

## The offline Pulumi engine (CLI, language host, random, vercel, heroku and postgresql plugins) into .engine/bin.
engine:
	bash tools/engine/build.sh

## The official Heroku CLI, pinned in tools/heroku-cli/package-lock.json, into tools/heroku-cli/node_modules
## (never globally): the sandbox tests point it at the emulators. Reinstalled only when the lock changes.
heroku-cli: $(HEROKU_CLI_STAMP)

$(HEROKU_CLI_STAMP): $(HEROKU_CLI)/package.json $(HEROKU_CLI)/package-lock.json
	cd $(HEROKU_CLI) && npm ci --no-audit --no-fund --ignore-scripts
	touch $(HEROKU_CLI_STAMP)

clean:
	rm -rf $(VENV) policy/venv .pytest_cache .mypy_cache .ruff_cache *.egg-info
