# HR Portal -- build, run and test.
#
#   make run     create the venv, install bun, migrate, seed, serve on http://localhost:$(PORT)
#   make test    whole suite (unit + API + browser); SQLite by default, PostgreSQL/Redis when
#                HR_TEST_DATABASE_URL / HR_TEST_REDIS_URL are set (see .ci/run)
#   make lint    ruff, when installed
#   make audit   pip-audit of requirements.txt (needs internet: PyPI's vulnerability data)
#   make bench   benchmark suite (bench/run.py) against PostgreSQL + Redis; not part of make test
#
# Everything is idempotent: a fresh clone needs only python3 (3.11+), npm and network access.

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON3     ?= python3
VENV        := .venv
PY          := $(VENV)/bin/python
BUN_VERSION := 1.4.5
TOOLS       := .tools
BUN         := $(TOOLS)/node_modules/.bin/bun
BUN_STAMP   := $(TOOLS)/.bun-$(BUN_VERSION).stamp
VENV_STAMP  := $(VENV)/.requirements.stamp
PORT        ?= $(or $(HR_PORT),3000)
PYTEST_ARGS ?=

# Reflex must use the bun from npm (its own installer downloads from the internet).
export PATH := $(CURDIR)/$(TOOLS)/node_modules/.bin:$(PATH)
export REFLEX_USE_SYSTEM_BUN := 1
export REFLEX_TELEMETRY_ENABLED ?= false

.PHONY: help venv bun chromium nginx migrate seed run test lint audit bench bench-data clean distclean

help:
	@echo "make run | test | lint | audit | migrate | seed | venv | bun | chromium | clean | distclean"
	@echo "  PORT=$(PORT)  PYTEST_ARGS='-k login -x'  (e.g. make test PYTEST_ARGS='-m \"not e2e\"')"

# ---------------------------------------------------------------- toolchain
venv: $(VENV_STAMP)
	@:

$(VENV_STAMP): requirements.txt
	@test -x $(PY) || { echo "==> creating $(VENV)"; $(PYTHON3) -m venv $(VENV); }
	@echo "==> installing requirements.txt into $(VENV)"
	@$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $@

bun: $(BUN_STAMP)
	@:

$(BUN_STAMP):
	@echo "==> installing bun@$(BUN_VERSION) from npm into $(TOOLS)/"
	@mkdir -p $(TOOLS)
	@npm install --prefix $(TOOLS) --no-audit --no-fund --loglevel=error --save-exact bun@$(BUN_VERSION)
	@$(BUN) --version >/dev/null
	@touch $@

chromium: venv
	@if [ -n "$$HR_CHROMIUM_PATH" ] && [ -x "$$HR_CHROMIUM_PATH" ]; then \
	    echo "==> chromium: $$HR_CHROMIUM_PATH"; \
	elif [ -x /usr/bin/chromium ]; then \
	    echo "==> chromium: /usr/bin/chromium"; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	    echo "==> installing chromium with apt-get"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	else \
	    echo "==> installing Playwright's chromium"; \
	    $(VENV)/bin/playwright install chromium; \
	fi

# nginx runs deploy/nginx.conf in the reverse-proxy test (tests/e2e/test_reverse_proxy.py).
nginx:
	@if command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; then \
	    :; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	    echo "==> installing nginx with apt-get"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light; \
	else \
	    echo "==> nginx is not installed: the reverse-proxy test will be skipped (fails under CI)"; \
	fi

# ---------------------------------------------------------------- app
migrate: venv
	@mkdir -p data
	@echo "==> migrate"
	@$(PY) -m hr_portal.cli migrate

seed: venv
	@echo "==> seed"
	@$(PY) -m hr_portal.cli seed

# Links printed by seed and mailed by the app use HR_BASE_URL; follow PORT unless set.
seed run: export HR_PORT := $(PORT)
seed run: export HR_BASE_URL ?= http://localhost:$(PORT)

# Foreground; the first start compiles the frontend (~10-60 s). Ctrl-C stops it.
run: venv bun migrate seed
	@echo "==> reflex run --env prod on port $(PORT)"
	$(PY) -m reflex run --env prod --frontend-port $(PORT) --backend-port $(PORT)

# The exit status of make is 2 on any failure; pytest's own code is printed and
# also written to test-results/pytest-exit-code.
test: venv bun chromium nginx
	@mkdir -p test-results
	@echo "==> pytest (database: $${HR_TEST_DATABASE_URL:-SQLite}, redis: $${HR_TEST_REDIS_URL:-none})"
	@$(PY) -m pytest $(PYTEST_ARGS); rc=$$?; echo $$rc > test-results/pytest-exit-code; \
	    if [ $$rc -ne 0 ]; then echo "==> pytest exit code $$rc"; fi; exit $$rc

lint: venv
	@if [ -x $(VENV)/bin/ruff ]; then \
	    echo "==> ruff"; $(VENV)/bin/ruff check .; \
	elif command -v ruff >/dev/null 2>&1; then \
	    echo "==> ruff"; ruff check .; \
	else echo "ruff not installed; skipping lint"; fi

# ---------------------------------------------------------------- benchmarks (docs/performance.md)
# A scratch PostgreSQL database whose name contains "bench" (bench-data DROPS its schema) and a Redis db.
BENCH_DATABASE_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/bench
BENCH_REDIS_URL    ?= redis://127.0.0.1:6379/11
BENCH_ARGS         ?=

bench-data: venv
	$(PY) bench/generate_org.py --database-url $(BENCH_DATABASE_URL) --employees 5000 --days 730 --leave-requests 25000

bench: venv bun chromium
	$(PY) bench/run.py --database-url $(BENCH_DATABASE_URL) --redis-url $(BENCH_REDIS_URL) --start-server $(BENCH_ARGS)

# Known vulnerabilities in the pinned requirements (PyPI's advisory data through pip-audit; needs
# internet). pip-audit lives in its own venv so it never changes the app's. The file is a full
# freeze, so --no-deps audits exactly those pins; --strict fails when a package could not be
# audited (offline, pypi.org's JSON API blocked) instead of printing "No known vulnerabilities".
PIP_AUDIT_VERSION := 2.10.1
AUDIT_VENV        := $(TOOLS)/audit-venv

audit:
	@test -x $(AUDIT_VENV)/bin/pip-audit || { $(PYTHON3) -m venv $(AUDIT_VENV) && \
	    $(AUDIT_VENV)/bin/pip install --quiet --disable-pip-version-check pip-audit==$(PIP_AUDIT_VERSION); }
	@echo "==> pip-audit (requirements.txt)"
	@$(AUDIT_VENV)/bin/pip-audit -r requirements.txt --no-deps --disable-pip --strict --progress-spinner off

# ---------------------------------------------------------------- cleanup
clean:
	rm -rf .web .web-e2e* .states test-results .pytest_cache .ruff_cache uploaded_files
	find . -path ./$(VENV) -prune -o -path ./$(TOOLS) -prune -o \
	    -name __pycache__ -type d -prune -exec rm -rf {} +

# Also removes the toolchain and the local SQLite database.
distclean: clean
	rm -rf $(VENV) $(TOOLS) data
