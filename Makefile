# releasebot — common tasks. `make demo` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install test lint format typecheck check demo demo-report seed-min seed-demo bench bench-ack clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

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

bench: $(STAMP)
	$(BIN)/python -m scripts.bench.bench_core
	$(BIN)/python -m scripts.bench.bench_ack
	$(BIN)/python -m scripts.bench.bench_digest

bench-ack: $(STAMP)
	$(BIN)/python -m scripts.bench.bench_ack

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache .hypothesis
