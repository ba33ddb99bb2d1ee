# Two commands: `make dev` runs the whole stack locally, `make test` runs every check.
PYTHON ?= python3
VENV   ?= .venv
PORT   ?= 8000
# DATA=folder keeps the local stack's ledger, Stripe stand-in and keys there across restarts (else: in memory).
DATA   ?=
BIN    := $(VENV)/bin
HASH   := $(shell $(PYTHON) -c "import hashlib,sys;print(hashlib.sha256(open('pyproject.toml','rb').read()).hexdigest()[:12])")
# What running the local stack needs (the `local` extra), and everything the checks need on top (`dev`).
LOCAL_STAMP := $(VENV)/.installed-local-$(HASH)
STAMP       := $(VENV)/.installed-dev-$(HASH)

# checkov and the SAM CLI pin their own boto3, networkx and packaging: each gets a virtualenv of its own.
CHECKOV_VERSION := 3.3.30
CHECKOV_VENV    := .build/checkov
CHECKOV_STAMP   := $(CHECKOV_VENV)/.installed-$(CHECKOV_VERSION)
SAM_VERSION     := 1.170.0
SAM_VENV        := .build/sam
SAM_STAMP       := $(SAM_VENV)/.installed-$(SAM_VERSION)
# Lambda's Python, for importing the built handlers (`make sam-build`); pyenv users get 3.12.1.
LAMBDA_PYTHON   ?= python3.12
LAMBDA_VENV     := .build/lambda-host

CHROMIUM   := /usr/bin/chromium
SUDO       := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
LIGHTHOUSE := .build/lighthouse/node_modules/.bin/lighthouse

# The Lambda layer's exact versions (functions/requirements.lock), hashes dropped: the tests run what AWS runs.
LAYER_PINS := .build/layer-pins.txt

.PHONY: install dev test lint typecheck unit bench proof site sam-build lambda-host lock clean

$(LOCAL_STAMP): pyproject.toml functions/requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	mkdir -p .build && sed 's/ --hash=.*//' functions/requirements.lock > $(LAYER_PINS)
	$(BIN)/python -m pip install --quiet -e '.[local]' -c $(LAYER_PINS)
	rm -f $(VENV)/.installed-*
	touch $@

$(STAMP): $(LOCAL_STAMP)
	mkdir -p .build && sed 's/ --hash=.*//' functions/requirements.lock > $(LAYER_PINS)
	$(BIN)/python -m pip install --quiet -e '.[dev]' -c $(LAYER_PINS)
	touch $@

install: $(STAMP)

# Only what running needs: the test tools (pytest, playwright, mypy...) come with `make test` or `make install`.
dev: $(LOCAL_STAMP)
	$(BIN)/blockhours dev --port $(PORT) $(if $(DATA),--data $(DATA))

$(CHECKOV_STAMP):
	rm -rf $(CHECKOV_VENV)
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(CHECKOV_VENV)/bin/python -m pip install --quiet checkov==$(CHECKOV_VERSION)
	touch $@

$(SAM_STAMP):
	rm -rf $(SAM_VENV)
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(SAM_VENV)/bin/python -m pip install --quiet aws-sam-cli==$(SAM_VERSION)
	touch $@

# cfn-lint reads .cfnlintrc.yaml (informational rules too, strict types, eight regions); checkov reads
# .checkov.yaml. Both must report nothing.
lint: install $(CHECKOV_STAMP)
	$(BIN)/ruff check functions dev tests benchmarks site/hooks infra
	$(BIN)/ruff format --check functions dev tests benchmarks site/hooks infra
	$(BIN)/mypy
	$(BIN)/cfn-lint
	$(CHECKOV_VENV)/bin/checkov

# Not part of `make test` (it fetches Lambda's wheels from PyPI): what `sam build` makes, how big, and
# whether each function imports its handler from what it ships.
sam-build: $(SAM_STAMP)
	$(SAM_VENV)/bin/sam build
	@sed -n 's/^ *CURRENT = "\(.*\)"/Stripe API version of the layer: \1 (the webhook endpoint uses it, infra\/README.md step 7)/p' \
		.aws-sam/build/DependenciesLayer/python/stripe/_api_version.py
	@$(MAKE) -s lambda-host
	@if [ -x $(LAMBDA_VENV)/bin/python ]; then $(LAMBDA_VENV)/bin/python infra/check_build.py; \
	else du -sh .aws-sam/build/*/; echo "no $(LAMBDA_PYTHON) here: the handlers' import check was skipped"; fi

# A Python 3.12 virtualenv with what the layer holds (and boto3, which Lambda's runtime has): the built handlers'
# import check and the benchmarks' cold-start figures run in it. Without a Python 3.12, nothing (callers say so).
lambda-host:
	@if PYENV_VERSION=$${PYENV_VERSION:-3.12.1} $(LAMBDA_PYTHON) -c '' 2>/dev/null; then \
		set -e; [ -x $(LAMBDA_VENV)/bin/python ] || PYENV_VERSION=$${PYENV_VERSION:-3.12.1} $(LAMBDA_PYTHON) -m venv $(LAMBDA_VENV); \
		mkdir -p .build && sed 's/ --hash=.*//' functions/requirements.lock > $(LAYER_PINS); \
		$(LAMBDA_VENV)/bin/python -m pip install --quiet --disable-pip-version-check \
			-r functions/requirements.txt -c $(LAYER_PINS) boto3; \
	fi

# After changing functions/requirements.txt or upgrading the virtualenv: pin the layer to what the tests run.
lock: install
	$(MAKE) -C functions lock PYTHON=$(abspath $(BIN)/python)

site: install
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

# The browser tests drive Debian's Chromium; Playwright never downloads a browser of its own.
$(CHROMIUM):
	$(SUDO) apt-get update && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y chromium

$(LIGHTHOUSE):
	-npm install --prefix .build/lighthouse --no-audit --no-fund --silent lighthouse@12

# pytest-xdist: one worker per core, each taking tests from the front of the order tests/conftest.py sets (the
# modules that restart moto in-process first, RESETS_MOTO), so none resets a worker's shared stack under it.
PYTEST_WORKERS ?= auto
test: lint site $(CHROMIUM)
	$(BIN)/pytest -n $(PYTEST_WORKERS)

bench: install lambda-host $(CHROMIUM) $(LIGHTHOUSE)
	$(BIN)/python benchmarks/run.py
	$(BIN)/python benchmarks/concurrency.py
	$(BIN)/python benchmarks/reconcile.py
	$(BIN)/pytest -m at_size tests/integration/test_reconcile_at_size.py
	$(BIN)/python benchmarks/storefront.py

# The model-based proof (issue 12): the ledger's state machine over every money path, with crashes and retries,
# for 10,000 steps and more over fixed seeds; prints steps, rules, crashes and invariant breaks (exit 1 on any).
# About 5 minutes on two cores (BLOCKHOURS_MODEL_STORE=memory: on the in-memory store, about four times faster).
# `make test` runs the same machine on a short budget.
proof: install
	$(BIN)/python tests/model/proof.py

clean:
	rm -rf $(VENV) build .build .aws-sam .pytest_cache .mypy_cache .ruff_cache .hypothesis
