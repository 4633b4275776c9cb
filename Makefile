# Two commands for a newcomer: `make serve` and `make test`. Everything else is detail.
# Supported: Python 3.11 to 3.13. `make test PYTHON=/path/to/python3.13` uses its own
# venv (.venv-3.13), so each interpreter is set up and tested separately.
PYTHON ?= python3
PY_VERSION := $(shell $(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)
VENV   ?= $(if $(filter python3,$(PYTHON)),.venv,.venv-$(PY_VERSION))
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1:8000
export NO_MKDOCS_2_WARNING := 1

# Everything the pages measure is installed by default: the pinned Node.js and Bun
# (~310 MB) and the Debian tools. `make setup LIGHT=1` skips both (their rows then
# say "not checked here" and why).
TOOLS  := $(VENV)/.tools
SETUP  := $(STAMP) $(if $(LIGHT),,$(TOOLS) system-packages)

.PHONY: help setup tools system-packages serve build build-fresh build-noexec test test-update-examples page lock clean
.DEFAULT_GOAL := help

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; v = sys.version_info[:2]; assert (3, 11) <= v <= (3, 13), \
	  f"Python 3.11 to 3.13 needed, {sys.executable} is {v[0]}.{v[1]}"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

setup: $(SETUP)  ## create .venv from the lock files, with every tool the pages measure

$(TOOLS): requirements-runtimes.lock $(STAMP)
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r requirements-runtimes.lock
	touch $@

tools: $(TOOLS)  ## add the pinned Node.js and Bun the kernel-calls page traces (~310 MB)

system-packages:  ## install the Debian tools in .ci/system-packages.txt (as root)
	@.ci/install-system-packages

serve: setup  ## build with every snippet executed, then serve on 127.0.0.1:8000
	$(BIN)/mkdocs serve --strict --dev-addr $(HOST)

build: setup  ## build the static site into site/ (cached snippet results are reused)
	$(BIN)/mkdocs build --strict

build-fresh: setup  ## build, re-running every snippet
	SNIPPETS_FRESH=1 $(BIN)/mkdocs build --strict

build-noexec: setup  ## build without running snippets (layout work only)
	SNIPPETS_EXECUTE=0 $(BIN)/mkdocs build

test: setup  ## the whole test suite
	$(BIN)/python -m pytest

test-update-examples: setup  ## rewrite the #> output comments of inline examples in docs/
	$(BIN)/python -m pytest tests/test_docs_examples.py --update-examples

page: setup  ## scaffold a new episode: make page SLUG=kernel-calls TITLE="..." [DEMO=count]
	$(BIN)/python -m snippet_runner.scaffold "$(SLUG)" "$(TITLE)" $(if $(DEMO),"$(DEMO)")

lock:  ## re-resolve requirements.lock from pyproject.toml
	$(PYTHON) -m pip install --quiet uv
	$(PYTHON) -m uv pip compile pyproject.toml --python-version 3.11 --generate-hashes -o requirements.lock
	$(PYTHON) -m uv pip compile requirements-runtimes.in --python-version 3.11 --generate-hashes -o requirements-runtimes.lock

clean:  ## remove the venv, the site and every cache
	rm -rf .venv .venv-* site .cache .pytest_cache
