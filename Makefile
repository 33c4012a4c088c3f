# releasebot — common tasks. `make demo` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install lock test lint format typecheck check demo demo-report seed-min seed-demo bench bench-ack bench-api bench-scale clean

# Dependencies come only from requirements-dev.lock (exact versions, every hash checked); the
# project itself is then installed editable without dependencies, built by the setuptools that
# the lock pins. `pip check` fails if pyproject.toml names something the lock lacks: `make lock`.
$(STAMP): requirements-dev.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements-dev.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	$(BIN)/python -m pip check
	touch $(STAMP)

install: $(STAMP)

# Regenerate requirements-dev.lock (runtime + the dev extra) and requirements.lock (runtime, for
# the Dockerfile; same versions) from pyproject.toml, with hashes, for Python 3.11 on Linux.
# Existing pins are kept unless pyproject.toml rules them out; `make lock LOCK_ARGS=--upgrade`
# moves everything to the newest allowed version (or LOCK_ARGS="--upgrade-package NAME").
# pip-tools runs from a throwaway venv: it is not a project dependency.
PIP_TOOLS ?= pip-tools==7.6.2
LOCK_ARGS ?=
LOCK_FLAGS := --quiet --generate-hashes --allow-unsafe --strip-extras --all-build-deps \
	--no-emit-index-url --no-emit-find-links $(LOCK_ARGS)

lock:
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	$(PYTHON) -m venv "$$tmp/venv" && \
	"$$tmp/venv/bin/python" -m pip install --quiet "$(PIP_TOOLS)" && \
	export CUSTOM_COMPILE_COMMAND="make lock" && \
	"$$tmp/venv/bin/pip-compile" $(LOCK_FLAGS) --extra dev -o requirements-dev.lock pyproject.toml && \
	"$$tmp/venv/bin/pip-compile" $(LOCK_FLAGS) -c requirements-dev.lock -o requirements.lock pyproject.toml

test: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

check: lint test

demo: $(STAMP)
	$(BIN)/python -m bot console

seed-min: $(STAMP)
	$(BIN)/python -m scripts.seed_minimal

seed-demo: $(STAMP)
	$(BIN)/python -m scripts.seed_demo_data

demo-report: $(STAMP)
	$(BIN)/python -m scripts.demo_report

# Each benchmark runs; the ack benchmark's exit code (1: a target missed) is make's.
bench: $(STAMP)
	$(BIN)/python -m scripts.bench.bench_core
	$(BIN)/python -m scripts.bench.bench_ack; status=$$?; \
	$(BIN)/python -m scripts.bench.bench_digest && exit $$status

# Issue 10's ack table: `status`, `list`, an Approve click and a modal submission at
# concurrency 8, 32 and 64 against a bare Bolt app, the bot, the bare app and the load client
# each in its own process (about 90 s); exits 1 when a p99 is over 1.5x the bare app's.
# Quicker: make bench-ack ACK_ARGS=--quick; ACK_ARGS="--kinds approve --profile approve".
ACK_ARGS ?=
bench-ack: $(STAMP)
	$(BIN)/python -m scripts.bench.bench_ack $(ACK_ARGS)

# Issue 11's API table: GET …/summary and a gate result POST at concurrency 16 against a bare
# aiohttp app, the bot, the bare app and the load client each in its own process (about 2
# minutes); exits 1 when a p99 is over its target times the bare app's (reads 9x, changes 60x).
# Quicker: make bench-api API_ARGS=--quick; API_ARGS="--kinds gate_result --profile gate_result".
API_ARGS ?=
bench-api: $(STAMP)
	$(BIN)/python -m scripts.bench.bench_api $(API_ARGS)

# Issue 10's growth table at 1,000 / 10,000 / 50,000 releases (about 4 minutes); exits 1
# when a target is missed. Quicker: make bench-scale SCALE_ARGS="--sizes 1000 5000".
SCALE_ARGS ?=
bench-scale: $(STAMP)
	$(BIN)/python -m scripts.bench.bench_scale $(SCALE_ARGS)

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache .hypothesis
