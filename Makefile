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

.PHONY: help install run test lint typecheck pytest openapi openapi-check layer-requirements build bench clean

help:
	@echo "make run    start the local stack (installs on first use)"
	@echo "make test   every check: lint, types, template, OpenAPI, tests, API fuzzing"
	@echo "make build  sam build (no Docker needed)"
	@echo "make bench  cold-start and DynamoDB benchmarks"

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

pytest: install
	$(VENV)/bin/pytest

openapi: install
	$(PY) -m shared.api.openapi --write

openapi-check: install
	$(PY) -m shared.api.openapi --check

layer-requirements: install
	$(UV) export --frozen --no-dev --no-hashes --no-header --no-emit-project -o infra/layer/requirements.txt

build: install $(SAM)
	PATH="$(dir $(PYTHON)):$$PATH" $(SAM) build --template template.yaml --parallel

bench: install
	$(PY) -m bench

clean:
	rm -rf .aws-sam .local .mypy_cache .ruff_cache .pytest_cache
