# Two commands matter: `make run` and `make test`. Both install what they need on first use.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON   := $(shell infra/bin/find-python)
TOOLS    := .tools
UV       := $(TOOLS)/bin/uv
UV_VERSION := 0.13.9
VENV     := .venv
PY       := $(VENV)/bin/python
SAM_VENV := $(TOOLS)/sam
SAM      := $(SAM_VENV)/bin/sam
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)
# Fake credentials: nothing here ever talks to real AWS.
export AWS_DEFAULT_REGION ?= us-east-1
export AWS_ACCESS_KEY_ID ?= testing
export AWS_SECRET_ACCESS_KEY ?= testing

.PHONY: help install run test lint typecheck pytest openapi openapi-check layer-requirements build deploy bench load clean

help:
	@echo "make run    start the local stack (installs on first use)"
	@echo "make test   every check: lint, types, template, OpenAPI, tests, API fuzzing"
	@echo "make build  sam build (no Docker needed)"
	@echo "make deploy build, then sam deploy with samconfig.toml (ENV=prod for [prod]; needs AWS credentials)"
	@echo "make bench  cold-start and DynamoDB benchmarks"
	@echo "make load   50 simulated people on the local stack (Locust), then a check of the table"

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --python $(PYTHON)
	@touch $@

$(SAM): infra/sam-requirements.txt | $(UV)
	$(UV) venv --quiet --allow-existing --python $(PYTHON) $(SAM_VENV)
	VIRTUAL_ENV=$(SAM_VENV) $(UV) pip install --quiet -r infra/sam-requirements.txt
	@touch $@

install: $(VENV)/.synced

run: install
	$(PY) -m infra.local.stack

test: install $(SAM)
	$(MAKE) --no-print-directory lint typecheck openapi-check pytest

lint: install $(SAM)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/cfn-lint template.yaml
	$(SAM) validate --lint --template template.yaml

typecheck: install
	$(VENV)/bin/mypy functions shared infra tests bench

# Tests on moto in-process run on both cores; the black-box ones share one local stack (moto's
# server takes requests one at a time, so a second stack would only slow both down).
pytest: install
	$(VENV)/bin/pytest -m "not local" -n 2
	$(VENV)/bin/pytest -m local

# 50 simulated people walk the mobile journey against a local stack for 60 s (Locust); fails on
# any error or any acknowledged write the table lacks or holds twice.
LOAD_USERS ?= 50
LOAD_SECONDS ?= 60
load: install
	$(PY) -m tests.load.run --users $(LOAD_USERS) --seconds $(LOAD_SECONDS)

openapi: install
	$(PY) -m infra.openapi --write

openapi-check: install
	$(PY) -m infra.openapi --check

# The layer's pins, exported from uv.lock. tests/contract/test_layer.py reads LAYER_EXPORT from
# here and runs it, so the file and the check cannot use different flags.
LAYER_EXPORT := $(UV) export --frozen --no-dev --no-hashes --no-header --no-emit-project --quiet
LAYER_BUILD  := .aws-sam/build/SharedLayer/python

layer-requirements: | $(UV)
	$(LAYER_EXPORT) -o infra/layer/requirements.txt

# No Docker: SAM's pip builder downloads manylinux aarch64 wheels for the layer with the host's
# python3.12 (hence PATH). infra/layer/shared is a symlink to shared/, copied as real files.
# The checks after the build fail it if the layer lost shared/ or got a non-arm64 binary.
# The layer keeps botocore data only for the services the code creates clients for, found by
# reading it (infra/botocore_data.py). Then every artifact gets its bytecode: Lambda cannot
# write __pycache__ (infra/bytecode.py).
build: install $(SAM) layer-requirements
	PATH="$(dir $(PYTHON)):$$PATH" SAM_CLI_TELEMETRY=0 $(SAM) build --template template.yaml --parallel
	@test -d $(LAYER_BUILD)/shared && test ! -L $(LAYER_BUILD)/shared \
	  && test -z "$$(find $(LAYER_BUILD)/shared -type l)" \
	  || { echo "build: $(LAYER_BUILD)/shared is missing or holds symlinks" >&2; exit 1; }
	@diff <(cd shared && find . -type f ! -path '*/__pycache__/*' ! -name '*.pyc' | sort) \
	      <(cd $(LAYER_BUILD)/shared && find . -type f | sort) \
	  || { echo "build: the layer's shared/ differs from the repo's shared/" >&2; exit 1; }
	@for so in $$(find $(LAYER_BUILD) -name '*.so'); do \
	  [ "$$(od -An -tx1 -j18 -N2 "$$so" | tr -d ' \n')" = b700 ] \
	    || { echo "build: $$so is not an aarch64 binary" >&2; exit 1; }; \
	done
	@echo "build: layer $(LAYER_BUILD) holds shared/ and $$(find $(LAYER_BUILD) -name '*.so' | wc -l) aarch64 binaries"
	$(PY) -m infra.botocore_data $(LAYER_BUILD)
	$(PY) -m infra.bytecode .aws-sam/build

# sam deploy with samconfig.toml's [$(ENV)] tables: a change set to confirm, then the stack.
# Parameters (ARNs of the alarms' topic, SES identity, push secrets: never secret values) go in
# samconfig.toml; docs/operations.md says which and in what order.
ENV ?= default
deploy: build
	SAM_CLI_TELEMETRY=0 $(SAM) deploy --config-file samconfig.toml --config-env $(ENV) \
	  --template-file .aws-sam/build/template.yaml

bench: install
	$(PY) -m bench

clean:
	rm -rf .aws-sam .local .mypy_cache .ruff_cache .pytest_cache
