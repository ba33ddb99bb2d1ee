# Two commands: `make dev` runs the whole stack locally, `make test` runs every check.
PYTHON ?= python3
VENV   ?= .venv
PORT   ?= 8000
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell $(PYTHON) -c "import hashlib,sys;print(hashlib.sha256(open('pyproject.toml','rb').read()).hexdigest()[:12])")

CHROMIUM   := /usr/bin/chromium
SUDO       := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
LIGHTHOUSE := .build/lighthouse/node_modules/.bin/lighthouse

.PHONY: install dev test lint typecheck unit bench site clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

dev: install
	$(BIN)/blockhours dev --port $(PORT)

lint: install
	$(BIN)/ruff check functions tests benchmarks site/hooks
	$(BIN)/ruff format --check functions tests benchmarks site/hooks
	$(BIN)/mypy
	$(BIN)/cfn-lint template.yaml

site: install
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

# The browser tests drive Debian's Chromium; Playwright never downloads a browser of its own.
$(CHROMIUM):
	$(SUDO) apt-get update && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y chromium

$(LIGHTHOUSE):
	-npm install --prefix .build/lighthouse --no-audit --no-fund --silent lighthouse@12

test: lint site $(CHROMIUM)
	$(BIN)/pytest

bench: install $(CHROMIUM) $(LIGHTHOUSE)
	$(BIN)/python benchmarks/run.py
	$(BIN)/python benchmarks/storefront.py

clean:
	rm -rf $(VENV) build .build .pytest_cache .mypy_cache .ruff_cache .hypothesis
