# cchc — the documented entry points. `make run` serves the demo; `make test` runs everything.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
# Throw-away PostgreSQL database for the test leg (pytest-django creates test_<name>).
PG_URL ?= postgres://postgres@127.0.0.1:5432/cchc_ci
PYTEST_ARGS ?=
# Both legs run on parallel workers (pytest-xdist; `auto`: one per CPU), a test module's
# tests on one worker (module-scoped data sets are built once), and list the slowest tests.
# TEST_WORKERS=0 runs in one process.
TEST_WORKERS ?= auto
PYTEST_LEG = -n $(TEST_WORKERS) --dist loadfile --durations=25
# e.g. make bench BENCH_ARGS="--n 100000 --backends sqlite"
BENCH_ARGS ?=
# benchmarks/indicators.py, e.g. make bench BENCH_INDICATORS_ARGS="--sizes 100000 --runs 10"
BENCH_INDICATORS_ARGS ?=
# benchmarks/import.py, e.g. make bench BENCH_IMPORT_ARGS="--rows 100000 --backends sqlite"
BENCH_IMPORT_ARGS ?=
# benchmarks/search.py (default 100 000 dossiers), e.g. make bench BENCH_SEARCH_ARGS="--n 1000000"
BENCH_SEARCH_ARGS ?=
# benchmarks/pages.py (whole pages per role, empty vs N, then gunicorn at 1/8/32 clients;
# default 100 000 dossiers), e.g. make bench BENCH_PAGES_ARGS="--n 1000000 --keep"
BENCH_PAGES_ARGS ?=
# benchmarks/report.py (the periodic report of the province-year 2024; default 1 000 000
# dossiers, reusing pages.py's kept databases), e.g. make bench BENCH_REPORT_ARGS="--n 20000"
BENCH_REPORT_ARGS ?=
# One id per `make bench`: every benchmark records its targets in var/bench/results-<id>.jsonl,
# benchmarks/summary.py prints them as one table and (BENCH_HISTORY) adds it to
# docs/benchmarks.md; make bench BENCH_HISTORY= leaves the docs alone.
ifeq ($(origin CCHC_BENCH_RUN),undefined)
CCHC_BENCH_RUN := $(shell date -u +%Y%m%d-%H%M%S)
endif
BENCH_HISTORY ?= --history

# Extra options of scripts/stack.py, e.g. SERVE_ARGS="--no-scheduler", RUN_ARGS="--no-worker"
SERVE_ARGS ?=
RUN_ARGS ?=

.PHONY: install system-deps run serve test test-sqlite test-postgres lint format bench mutate clean

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

node_modules/.installed: package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --no-audit --no-fund --loglevel=error && touch $@; \
	else echo "npm not found: htmx is not installed; pages still work without it"; fi

# Debian packages: Pango and Noto fonts for the PDF forms (embedded in every PDF), and
# Chromium for the browser tests. Installed with apt when missing (as root, or with sudo).
RUN_PACKAGES  := libpango-1.0-0 libpangoft2-1.0-0 fonts-noto-core
# nginx-light: tests/deploy runs the example proxy configuration in front of a stand-in app.
# softhsm2: tests/signing signs with a PKCS#11 token; zbar-tools: QR codes read off rendered PDFs.
TEST_PACKAGES := $(RUN_PACKAGES) chromium poppler-utils nginx-light softhsm2 zbar-tools
system-deps:
	@missing=$$(for p in $(PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages: $$missing"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

install: $(VENV)/.installed node_modules/.installed

## run: migrate the SQLite database under var/, load demo data if empty, serve on HOST:PORT
## with `cchc runserver`, plus the job worker and the scheduler (scripts/stack.py run)
run: install
	@$(MAKE) --no-print-directory system-deps PACKAGES="$(RUN_PACKAGES)"
	DEBUG=$${DEBUG:-true} CCHC_SIGNING_DEMO=$${CCHC_SIGNING_DEMO:-true} $(BIN)/python scripts/stack.py run --demo --host $(HOST) --port $(PORT) $(RUN_ARGS)

## serve: the production stack on this machine (docs/deployment.md): migrate, collectstatic,
## gunicorn with deploy/gunicorn.conf.py, `cchc worker`, `cchc scheduler`; DEBUG=false with
## settings for localhost (SECRET_KEY kept in var/secret_key); SQLite or DATABASE_URL
serve: install
	@$(MAKE) --no-print-directory system-deps PACKAGES="$(RUN_PACKAGES)"
	$(BIN)/python scripts/stack.py serve --host $(HOST) --port $(PORT) $(SERVE_ARGS)

## test: lint, then the whole suite on SQLite and on PostgreSQL (skipped loudly if absent;
## with CI=true a missing PostgreSQL server fails the run)
test: install
	@$(MAKE) --no-print-directory system-deps PACKAGES="$(TEST_PACKAGES)"
	@$(MAKE) --no-print-directory lint test-sqlite test-postgres

test-sqlite: install
	@echo "=== test suite on SQLite ==="
	DEBUG=true CCHC_JOBS_SYNC=true DATABASE_URL=sqlite:///$(CURDIR)/var/test.sqlite3 $(BIN)/pytest $(PYTEST_LEG) $(PYTEST_ARGS)

test-postgres: install
	@echo "=== test suite on PostgreSQL ==="
	@if PG_URL=$(PG_URL) $(BIN)/python scripts/pg_available.py; then \
		DEBUG=true CCHC_JOBS_SYNC=true DATABASE_URL=$(PG_URL) $(BIN)/pytest --create-db $(PYTEST_LEG) $(PYTEST_ARGS); \
	elif [ "$${CI:-}" = true ]; then \
		echo "!!! FAILED: CI=true and no PostgreSQL server answered at $(PG_URL): in CI the PostgreSQL leg must run, so make test fails." >&2; \
		exit 1; \
	else \
		echo "!!! SKIPPED: the PostgreSQL leg did not run (no server answered at $(PG_URL))."; \
	fi

lint: install
	$(BIN)/ruff check src tests benchmarks scripts deploy
	$(BIN)/ruff format --check src tests benchmarks scripts deploy
	$(BIN)/mypy
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff check --fix src tests benchmarks scripts deploy
	$(BIN)/ruff format src tests benchmarks scripts deploy

## bench: performance benchmarks (ratios against baselines measured in the same run), then
## one table of every target (benchmarks/summary.py); a benchmark that fails does not stop
## the others (its exit status is recorded); the exit status never depends on timings
bench: export CCHC_BENCH_RUN := $(CCHC_BENCH_RUN)
bench: install
	$(BIN)/python benchmarks/summary.py --start
	$(BIN)/python benchmarks/legaltime.py; $(BIN)/python benchmarks/summary.py --exit legaltime $$?
	$(BIN)/python benchmarks/queue.py $(BENCH_ARGS); $(BIN)/python benchmarks/summary.py --exit queue $$?
	$(BIN)/python benchmarks/indicators.py $(BENCH_INDICATORS_ARGS); $(BIN)/python benchmarks/summary.py --exit indicators $$?
	$(BIN)/python benchmarks/import.py $(BENCH_IMPORT_ARGS); $(BIN)/python benchmarks/summary.py --exit import $$?
	$(BIN)/python benchmarks/search.py $(BENCH_SEARCH_ARGS); $(BIN)/python benchmarks/summary.py --exit search $$?
	$(BIN)/python benchmarks/pages.py $(BENCH_PAGES_ARGS); $(BIN)/python benchmarks/summary.py --exit pages $$?
	$(BIN)/python benchmarks/report.py $(BENCH_REPORT_ARGS); $(BIN)/python benchmarks/summary.py --exit report $$?
	$(BIN)/python benchmarks/summary.py $(BENCH_HISTORY)

clean:
	rm -rf $(VENV) node_modules var .pytest_cache .mypy_cache .ruff_cache

## mutate: mutation testing of legaltime, the dossier replay and the indicator measures
## (not part of `make test`; prints killed/total per file, survivors in var/mutate/)
# e.g. make mutate MUTATE_ARGS="--area legaltime --jobs 2"
MUTATE_ARGS ?=
mutate: install
	DEBUG=true $(BIN)/python scripts/mutate.py $(MUTATE_ARGS)
