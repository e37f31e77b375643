# dqgate developer entry points. Every target creates and uses the project virtualenv
# at .venv/ (PYTHON picks the interpreter that creates it; 3.11+).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_COUNT ?= 50000
PYTEST_ARGS ?=
DEMO_ARGS ?=

.PHONY: all venv install kafka-jars prometheus-tools container-tools base-image helm-tools image \
        test test-unit test-integration parity demo demo-offline lint typecheck bench clean fuzz \
        audit constraints

all: test

## cargo on PATH, else rustup's default location.
CARGO ?= $(or $(shell command -v cargo 2>/dev/null),$(wildcard $(HOME)/.cargo/bin/cargo))

## Installs pinned by constraints.txt (the tested versions; `make constraints` rewrites it).
## The optional native accelerator (native/, Rust) is built when cargo is on PATH: maturin
## pinned by constraints.txt, no build isolation (so that pin is what builds it).
$(STAMP): pyproject.toml constraints.txt native/pyproject.toml native/Cargo.toml \
          native/Cargo.lock $(wildcard native/src/*.rs)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -c constraints.txt pip setuptools
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	@if [ -n "$(CARGO)" ]; then \
	  echo "building the native accelerator dqgate_native ($(CARGO), release)"; \
	  $(BIN)/python -m pip install --quiet -c constraints.txt maturin && \
	  PATH="$(abspath $(BIN)):$(dir $(CARGO)):$$PATH" $(BIN)/python -m pip install --quiet \
	    --no-build-isolation -c constraints.txt ./native; \
	else echo "cargo not found: dqgate_native not built; the pure-Python checks run" >&2; fi
	@if $(BIN)/python -c "import pyarrow" 2>/dev/null; then \
	  echo "pyarrow is installed in $(VENV): it changes pandas' regex engine and GX verdicts; remove it" >&2; exit 1; fi
	touch $(STAMP)

venv install: $(STAMP)

## The Kafka broker's jars (Maven Central, into the git-ignored .kafka/jars)
kafka-jars: $(STAMP)
	$(BIN)/dqgate kafka fetch

## prometheus and promtool (Debian's prometheus package), only when missing: the tests of
## deploy/prometheus run promtool and a real Prometheus server (never the Debian service).
prometheus-tools:
	sh deploy/prometheus/install-tools.sh

## buildah, podman, runc and debootstrap (Debian's packages), only when missing, and
## .tools/containers/containers.conf (podman runs here only with runc and cgroupfs).
container-tools:
	sh deploy/container/install-tools.sh

## The local base image localhost/dqgate-base:bookworm (debootstrap: no registry can be
## reached here), only when missing or of an older recipe; downloads cached in .tools/.
base-image: container-tools
	sh deploy/container/base-image.sh

## helm (from the Go module proxy) and kubecheck (deploy/helm/tests/kubecheck, strict
## decoding with the Kubernetes, Prometheus Operator and KEDA Go types) into .tools/bin.
helm-tools:
	sh deploy/helm/install-tools.sh

## The container image (deploy/container/Containerfile) with buildah, tagged
## localhost/dqgate:VERSION (IMAGE_TAG=...). IMAGE_BASE: the local base by default;
## IMAGE_BASE=docker.io/library/python:3.11-slim-bookworm where a registry is reachable.
IMAGE_BASE ?= localhost/dqgate-base:bookworm
IMAGE_TAG ?=
image: $(if $(filter localhost/dqgate-base:%,$(IMAGE_BASE)),base-image,container-tools)
	IMAGE_BASE=$(IMAGE_BASE) IMAGE_TAG=$(IMAGE_TAG) sh deploy/container/build.sh

## The tools of the deployment tests (tests/deploy, the image test): in CI a missing one
## fails its tests (DQGATE_TEST_REQUIRE_TOOLS=1).
DEPLOY_TOOLS := container-tools base-image helm-tools

## All tests: unit, parity, integration and deployment (tests/deploy). The pytest session
## starts a real broker (the same code as `dqgate kafka start`) on a temporary data dir and
## stops it at the end; the image test builds the image (cached layers) and runs it.
test: $(STAMP) kafka-jars prometheus-tools $(DEPLOY_TOOLS)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-unit: $(STAMP)
	$(BIN)/python -m pytest tests/unit $(PYTEST_ARGS)

test-integration: $(STAMP) kafka-jars prometheus-tools $(DEPLOY_TOOLS)
	$(BIN)/python -m pytest -m integration $(PYTEST_ARGS)

parity: $(STAMP)
	$(BIN)/python -m pytest -m parity -s $(PYTEST_ARGS)

## The README's first command: the streaming gate on generated records from the mission
## story (local broker, gate worker, records produced, summary printed, all stopped).
## DEMO_ARGS=--keep-running leaves it running.
demo: $(STAMP) kafka-jars
	$(BIN)/dqgate demo run --count $(DEMO_COUNT) $(DEMO_ARGS)

## Offline validation of generated records (no broker).
demo-offline: $(STAMP)
	mkdir -p .demo
	$(BIN)/dqgate demo generate --count $(DEMO_COUNT) --seed 7 --out .demo/records.jsonl \
	  --report .demo/injected.json
	$(BIN)/dqgate validate --suite expectations/incident_reports.json .demo/records.jsonl \
	  --clean .demo/clean.jsonl --quarantine .demo/quarantine.jsonl \
	  --verdicts .demo/verdicts.jsonl --summary-json .demo/summary.json; test $$? -le 1
	@echo "injected defects: .demo/injected.json; verdicts: .demo/verdicts.jsonl"

## Fuzz the decoder and every compiled check with 1,000,000 records (plus Hypothesis
## batches); `make test` runs a short version. Replay a run with DQGATE_FUZZ_SEED=N.
FUZZ_INPUTS ?= 1000000
FUZZ_EXAMPLES ?= 2000
fuzz: $(STAMP)
	DQGATE_FUZZ_INPUTS=$(FUZZ_INPUTS) DQGATE_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) \
	  $(BIN)/python -m pytest tests/fuzz -m fuzz -s $(PYTEST_ARGS)

## Known vulnerabilities in the installed distributions (pip-audit, in its own virtualenv;
## accepted ones in security/pip-audit-allowlist.txt). AUDIT_ARGS=--allow-incomplete
## passes when the vulnerability service cannot be reached (printed loudly).
AUDIT_VENV := $(VENV)/audit
AUDIT_ARGS ?=
$(AUDIT_VENV)/.installed: security/requirements-audit.txt
	test -x $(AUDIT_VENV)/bin/python || $(PYTHON) -m venv $(AUDIT_VENV)
	$(AUDIT_VENV)/bin/python -m pip install --quiet --no-deps -r security/requirements-audit.txt
	touch $@

audit: $(STAMP) $(AUDIT_VENV)/.installed
	$(BIN)/python security/audit.py --pip-audit $(AUDIT_VENV)/bin/pip-audit \
	  --site-packages "$$($(BIN)/python -c 'import sysconfig; print(sysconfig.get_path("purelib"))')" \
	  --allowlist security/pip-audit-allowlist.txt $(AUDIT_ARGS)

## Rewrite constraints.txt from the project virtualenv (after changing dependencies).
constraints: $(STAMP)
	{ sed -n '/^#/p' constraints.txt; $(BIN)/python -m pip freeze --all --exclude-editable --exclude dqgate-native \
	  | sort -f; } > constraints.txt.new && mv constraints.txt.new constraints.txt

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

## Benchmarks (not tests): dqgate's engines (batch, faust) side by side with a Quix Streams
## app and a confluent-kafka loop (hand-written checks), the aiokafka pass-through ceiling,
## the batch engine without routing headers and on 2 workers; validation alone
## (bench/bench_compare.py, one local broker; bench/README.md says how it measures).
## Results in bench/out/ (git-ignored); BENCH_ARGS=--update-readme writes bench/README.md;
## BENCH_ARGS=--gates=batch,quix picks gates. Quick run: make bench BENCH_COUNT=20000
## BENCH_SOAK_COUNT=0. The peers' libraries (the `bench` extra) go into their own
## virtualenv, .venv/bench (pins: bench/constraints-bench.txt); py-spy into .venv on
## demand (for the profile). Neither is a project dependency.
BENCH_COUNT ?= 200000
BENCH_SOAK_COUNT ?= 1000000
BENCH_ARGS ?=
BENCH_VENV := $(VENV)/bench
BENCH_CONSTRAINTS ?= bench/constraints-bench.txt
$(BENCH_VENV)/.installed: pyproject.toml bench/constraints-bench.txt
	test -x $(BENCH_VENV)/bin/python || $(PYTHON) -m venv $(BENCH_VENV)
	$(PYTHON) -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['optional-dependencies']['bench']))" > $(BENCH_VENV)/requirements.txt
	$(BENCH_VENV)/bin/python -m pip install --quiet -c $(BENCH_CONSTRAINTS) -r $(BENCH_VENV)/requirements.txt
	@if $(BENCH_VENV)/bin/python -c "import pyarrow" 2>/dev/null; then \
	  echo "pyarrow is installed in $(BENCH_VENV): remove it (it must not be installed)" >&2; exit 1; fi
	touch $@

bench: $(STAMP) kafka-jars $(BENCH_VENV)/.installed
	test -x $(BIN)/py-spy || $(BIN)/python -m pip install --quiet "py-spy>=0.4,<0.5"
	$(BIN)/python bench/bench_compare.py --count $(BENCH_COUNT) \
	  --soak-count $(BENCH_SOAK_COUNT) --peer-python $(BENCH_VENV)/bin/python $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .kafka .dqgate .demo .pytest_cache .mypy_cache .ruff_cache .tools
