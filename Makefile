# dqgate developer entry points. Every target creates and uses the project virtualenv
# at .venv/ (PYTHON picks the interpreter that creates it; 3.11+).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_COUNT ?= 50000
PYTEST_ARGS ?=

.PHONY: all venv install kafka-jars test test-unit test-integration parity demo demo-offline \
        lint typecheck bench clean

all: test

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@if $(BIN)/python -c "import pyarrow" 2>/dev/null; then \
	  echo "pyarrow is installed in $(VENV): it changes pandas' regex engine and GX verdicts; remove it" >&2; exit 1; fi
	touch $(STAMP)

venv install: $(STAMP)

## The Kafka broker's jars (Maven Central, into the git-ignored .kafka/jars)
kafka-jars: $(STAMP)
	$(BIN)/dqgate kafka fetch

## All tests: unit, parity and integration. The pytest session starts a real broker
## (the same code as `dqgate kafka start`) on a temporary data dir and stops it at the end.
test: $(STAMP) kafka-jars
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-unit: $(STAMP)
	$(BIN)/python -m pytest tests/unit $(PYTEST_ARGS)

test-integration: $(STAMP) kafka-jars
	$(BIN)/python -m pytest -m integration $(PYTEST_ARGS)

parity: $(STAMP)
	$(BIN)/python -m pytest -m parity -s $(PYTEST_ARGS)

## The README's first command: the gate on generated data from the mission story.
## (Until the streaming gate lands: offline validation of generated records.)
demo: $(STAMP)
	mkdir -p .demo
	$(BIN)/dqgate demo generate --count $(DEMO_COUNT) --seed 7 --out .demo/records.jsonl \
	  --report .demo/injected.json
	$(BIN)/dqgate validate --suite expectations/incident_reports.json .demo/records.jsonl \
	  --clean .demo/clean.jsonl --quarantine .demo/quarantine.jsonl \
	  --verdicts .demo/verdicts.jsonl --summary-json .demo/summary.json; test $$? -le 1
	@echo "injected defects: .demo/injected.json; verdicts: .demo/verdicts.jsonl"

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

## Benchmarks (not tests): results go to bench/README.md by hand.
bench: $(STAMP)
	$(BIN)/python bench/bench_validate.py

clean:
	rm -rf $(VENV) .kafka .dqgate .demo .pytest_cache .mypy_cache .ruff_cache
