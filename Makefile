# The two commands of the README: `make run` (the bot) and `make test` (lint, types, tests).
# Each sets itself up on a fresh machine: a .venv with the project, and a redis-server binary.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test lint typecheck unit redis-binary browser clean catalog

run: $(STAMP) redis-binary
	$(BIN)/headshots run

test: lint typecheck unit

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

# Test files run on TEST_WORKERS processes (pytest-xdist), each file whole on one worker so its
# module fixtures are built once; each worker starts its own redis-server. Two suit a 2-core
# machine (four made timing-sensitive journeys flaky there); TEST_WORKERS=0 runs them in order.
# --no-loadscope-reorder keeps tests/conftest.py's order, long journeys first: xdist's own puts
# the files with most tests first, and a one-test 40 s journey then ran alone at the end.
TEST_WORKERS ?= 2

unit: $(STAMP) redis-binary browser
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder

# After changing a text: refresh the template and merge it into every catalog (then translate
# what `pybabel update` marked new or fuzzy; tests/test_catalog.py fails until that is done).
# The template has no locations (`--no-location`), so the catalogs merged from it have none
# either (`pybabel update` has no such option); babel.cfg says what is extracted from where
# (its style-pack extractor is bot/text/extract.py, imported from this checkout).
# A new language: `$(BIN)/pybabel init -i bot/text/locale/headshots.pot -d bot/text/locale
# -D headshots -l xx` (it writes the language's plural forms), then translate it.
catalog: $(STAMP)
	PYTHONPATH=$(CURDIR) $(BIN)/pybabel extract -F babel.cfg -k N_ -k t -k words \
	  -k ngettext:1,2 --no-location --omit-header -o bot/text/locale/headshots.pot .
	$(BIN)/pybabel update -i bot/text/locale/headshots.pot -d bot/text/locale -D headshots \
	  --ignore-obsolete

# Re-install whenever pyproject.toml changes; the stamp records the last good install.
$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' || \
	  { echo "Python 3.11 is required (found $$($(PYTHON) --version)); set PYTHON=/path/to/python3.11"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	# The real CLIP vocabulary for the tiny models' tokenizers: pip downloads the open-clip-torch
	# wheel into the venv (never installed); engine/studio/clip_vocab.py reads the file from it.
	$(BIN)/python -m engine.studio.clip_vocab
	touch $@

redis-binary:
	@command -v redis-server >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing redis-server from Debian's packages"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server; \
	  else \
	    echo "redis-server is missing: install it (Debian/Ubuntu: sudo apt-get install redis-server; macOS: brew install redis)"; \
	    exit 1; \
	  fi; }

# The gallery's browser tests drive Debian's chromium through Playwright (no browser download).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing chromium from Debian's packages"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-color-emoji; \
	  else \
	    echo "chromium is missing: install it (Debian/Ubuntu: sudo apt-get install chromium)"; \
	    exit 1; \
	  fi; }

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
