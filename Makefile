# Two commands for a newcomer: `make serve` and `make test`. Everything else is detail.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1:8000
export NO_MKDOCS_2_WARNING := 1

TOOLS  := $(VENV)/.tools

.PHONY: help setup tools serve build build-fresh build-noexec test test-update-examples page lock clean
.DEFAULT_GOAL := help

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python >= 3.11 needed"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

setup: $(STAMP)  ## create .venv from the lock file

$(TOOLS): requirements-runtimes.lock $(STAMP)
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r requirements-runtimes.lock
	touch $@

tools: $(TOOLS)  ## add the pinned Node.js and Bun the kernel-calls page traces (~310 MB)

serve: $(STAMP)  ## build with every snippet executed, then serve on 127.0.0.1:8000
	$(BIN)/mkdocs serve --strict --dev-addr $(HOST)

build: $(STAMP)  ## build the static site into site/ (cached snippet results are reused)
	$(BIN)/mkdocs build --strict

build-fresh: $(STAMP)  ## build, re-running every snippet
	SNIPPETS_FRESH=1 $(BIN)/mkdocs build --strict

build-noexec: $(STAMP)  ## build without running snippets (layout work only)
	SNIPPETS_EXECUTE=0 $(BIN)/mkdocs build

test: $(STAMP)  ## the whole test suite
	$(BIN)/python -m pytest

test-update-examples: $(STAMP)  ## rewrite the #> output comments of inline examples in docs/
	$(BIN)/python -m pytest tests/test_docs_examples.py --update-examples

page: $(STAMP)  ## scaffold a new episode: make page SLUG=kernel-calls TITLE="..."
	$(BIN)/python -m snippet_runner.scaffold "$(SLUG)" "$(TITLE)"

lock:  ## re-resolve requirements.lock from pyproject.toml
	$(PYTHON) -m pip install --quiet uv
	$(PYTHON) -m uv pip compile pyproject.toml --python-version 3.11 --generate-hashes -o requirements.lock
	$(PYTHON) -m uv pip compile requirements-runtimes.in --python-version 3.11 --generate-hashes -o requirements-runtimes.lock

clean:  ## remove the venv, the site and every cache
	rm -rf $(VENV) site .cache .pytest_cache

# --- postgres-io-combining page: Debian's PostgreSQL 15 (beside the wheel's 18) and
# strace. Installed with apt where missing and when root; no cluster is created or
# started (the snippets start their own throw-away servers). Runs before every setup.
PG15_BIN := /usr/lib/postgresql/15/bin/postgres
.PHONY: postgres-tools
postgres-tools:  ## install PostgreSQL 15 and strace for the postgres page (root, apt)
	@if [ ! -x $(PG15_BIN) ] || ! command -v strace >/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    mkdir -p /etc/postgresql-common/createcluster.d; \
	    echo "create_main_cluster = false" \
	      > /etc/postgresql-common/createcluster.d/backend-executed.conf; \
	    [ -e /etc/postgresql-common/createcluster.conf ] || \
	      echo "create_main_cluster = false" > /etc/postgresql-common/createcluster.conf; \
	    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
	      -o Dpkg::Options::=--force-confold --no-install-recommends postgresql-15 strace; \
	  else \
	    echo "note: not root, so not installing postgresql-15 and strace" >&2; \
	  fi; \
	fi
$(STAMP): | postgres-tools
