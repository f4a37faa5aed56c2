# SomStack: the front doors. Each installs what it needs on first use (and again only when
# package.json, package-lock.json, pyproject.toml or constraints.txt change).
#   make demo   start a local chain, deploy the system, exercise it, print what happened
#   make test   run the whole test suite against a local anvil
#   make bench  gas side by side with reference tokens, and harness speed -> benchmarks/results/

PYTHON ?= python3
SOLC_VERSION := 0.8.37
VENV := .venv
STAMPS := .make
BIN := $(CURDIR)/$(VENV)/bin

export PATH := $(CURDIR)/node_modules/.bin:$(BIN):$(PATH)
export SOLCX_BINARY_PATH := $(CURDIR)/.solcx

.PHONY: demo test bench install compile clean

demo: install
	$(BIN)/python -m somstack.dev demo

# `make test` runs the whole suite under brownie's coverage: the run fails when a production
# contract has less than COVERAGE_FLOOR % of its branches covered, and prints the report path
# (tests/coverage_floor.py, reports/coverage-floor.txt). A part of the suite
# (`make test PYTEST_ARGS="-k permit"`) runs without coverage, as its floor would mean nothing;
# COVERAGE_ARGS= (empty) runs the whole suite without it.
# TEST_WORKERS: pytest-xdist workers (brownie gives each its own anvil, on port 8545 + worker
# number, and merges their coverage); the tests are bound by Python's CPU time, so 2 workers
# halve the run on 2 cores. TEST_WORKERS=0 runs in one process. The project is compiled first:
# workers that each find it uncompiled race to write build/ (one fails "Unable to load project").
COVERAGE_FLOOR ?= 95
COVERAGE_ARGS ?= $(if $(strip $(PYTEST_ARGS)),,--coverage --coverage-floor $(COVERAGE_FLOOR))
TEST_WORKERS ?= 2
test: compile $(STAMPS)/dev
	$(BIN)/pytest -n $(TEST_WORKERS) $(COVERAGE_ARGS) $(PYTEST_ARGS)

# `make test-fast`: the edit-test loop, the contract and unit tests without coverage (about 98 s of
# CPU: about 60 s on 2 quiet cores): not the operator CLI, relayer, report or static-analysis tests, nor the hypothesis
# stateful runs (marker `stateful`, tests/support/selection.py). `make test` still runs all of them.
# `make test-long`: not part of `make test`: the stateful invariants with --long (8x the examples at
# 50 steps: 24,800 random actions in all) and the relay load test at full size (1,000 authorizations).
FAST_TESTS ?= tests/stablecoin tests/cbdc tests/vault tests/governance tests/security tests/coverage tests/bench tests/redemption \
	tests/relay/test_relay_store.py tests/relay/test_relay_limits.py
.PHONY: test-fast test-long
test-fast: compile $(STAMPS)/dev
	$(BIN)/pytest -n $(TEST_WORKERS) -m "not stateful" --ignore tests/security/test_static_analysis.py $(FAST_TESTS) $(PYTEST_ARGS)

test-long: compile $(STAMPS)/dev
	$(BIN)/pytest -n $(TEST_WORKERS) --long -m "stateful or slow" $(PYTEST_ARGS)

# BENCH_TEST_RUNS (default 3; 0 reuses the last figure), BENCH_TEST_ARGS (PYTEST_ARGS of those runs),
# BENCH_DEPLOY_RUNS, BENCH_DISBURSE_RUNS, BENCH_RECIPIENTS: see src/somstack/dev/bench.py.
bench: install
	$(BIN)/python -m somstack.dev bench
	@# the relayer: SQLite, PostgreSQL x1 and x2, 16 and 32 clients -> benchmarks/results/relay.md
	$(BIN)/python -m somstack.dev.relaybench

install: $(STAMPS)/node $(STAMPS)/python $(STAMPS)/chromium $(STAMPS)/softhsm2 $(STAMPS)/postgresql .env
	@# brownie's own networks (bsc-local, bsc-fork, bsc-test, bsc-main) from brownie-config.yaml;
	@# idempotent: only rewrites ~/.brownie/network-config.yaml when something changed
	$(BIN)/somstack networks sync

# Headless Chromium (Debian's package) for the transparency page tests (tests/report/).
$(STAMPS)/chromium:
	@test -x /usr/bin/chromium || DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium \
		|| (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium)
	@mkdir -p $(STAMPS) && touch $@

# SoftHSM2 (Debian's package): the PKCS#11 module the HSM signing tests run against (tests/hsm/).
$(STAMPS)/softhsm2:
	@test -e /usr/lib/softhsm/libsofthsm2.so || DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends softhsm2 \
		|| (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends softhsm2)
	@mkdir -p $(STAMPS) && touch $@

# PostgreSQL (Debian's package) for the relayer's shared store tests (tests/relay/test_relay_postgres.py):
# each test session runs its own server in a temp folder (initdb, pg_ctl), never the system's.
$(STAMPS)/postgresql:
	@ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql \
		|| (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql)
	@mkdir -p $(STAMPS) && touch $@

# brownie loads .env (brownie-config.yaml `dotenv:`); a fresh clone starts from the example.
.env:
	cp .env.example .env

compile: install
	$(BIN)/brownie compile

$(STAMPS)/node: package.json package-lock.json tools/solc-shim.js
	npm ci --no-audit --no-fund
	@test -x node_modules/.bin/anvil || (echo "anvil was not installed: the pinned @foundry-rs/anvil-linux-amd64 runs on linux x64 only" >&2; exit 1)
	@node_modules/.bin/anvil --version | head -1
	mkdir -p .solcx
	ln -sf ../tools/solc-shim.js .solcx/solc-v$(SOLC_VERSION)
	chmod +x tools/solc-shim.js
	@.solcx/solc-v$(SOLC_VERSION) --version | tail -1
	@mkdir -p $(STAMPS) && touch $@

# brownie's PyPI wheel is mypyc-compiled and breaks stateful tests, coverage and network
# config; its pure-Python build is reinstalled over it (../shared/TOOLCHAIN.md).
$(STAMPS)/python: pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "SomStack needs Python >= 3.11; set PYTHON=python3.11")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt setuptools wheel
	$(BIN)/pip install --quiet -c constraints.txt -e .
	BROWNIE_NOCOMPILE=1 $(BIN)/pip install --quiet --force-reinstall --no-deps --no-cache-dir \
		--no-binary eth-brownie --no-build-isolation -c constraints.txt eth-brownie
	@! find $(VENV) -path '*site-packages/brownie/*.so' | grep -q . || (echo "brownie is still the compiled build" >&2; exit 1)
	@mkdir -p $(STAMPS) && touch $@

# The test and analysis tools (pyproject's `dev` extra): only the test targets need them.
$(STAMPS)/dev: $(STAMPS)/python
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	@mkdir -p $(STAMPS) && touch $@

clean:
	rm -rf build reports $(STAMPS)
