# Every target sets itself up: a fresh clone needs nothing but python3 (3.11+), node and make.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PYTHONPATH := $(CURDIR):$(CURDIR)/layers/shared/python
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1
export AWS_DEFAULT_REGION ?= us-east-1
PYTEST_ARGS ?=

.PHONY: help run test test-unit test-integration test-infra test-faults test-e2e lint synth checkov deploy smoke bench demo replay clean setup

help:
	@echo "make run      start the local stack (the whole platform on this machine)"
	@echo "make demo     start it and play a whole run with N=20 bot participants"
	@echo "make test     every test suite (unit, integration, infra, e2e, faults)"
	@echo "make lint     ruff + mypy"
	@echo "make synth    write the CloudFormation templates to cdk.out/"
	@echo "make checkov  synth, then checkov on cdk.out/ against infra/checkov-baseline.yaml"
	@echo "make deploy   cdk deploy to the AWS account in your credentials"
	@echo "make smoke    BASE_URL=<site url> USER=<host> PASSWORD=<pw>: play one whole run against a deployment, PASS/FAIL per step"
	@echo "make bench    benchmarks: bench/results/*.json and the tables of docs/performance.md (ARGS=--quick)"
	@echo "make replay ARGS=\"--run <id> | --player <handle> | --all [--target-endpoint URL [--owner <sub>|local-host|user:<name>]]\"  rebuild read models from the event store (--owner: whose the copy is)"

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

setup: $(STAMP)

run: setup
	$(BIN)/python -m local_stack run $(ARGS)

N ?= 20
demo: setup
	$(BIN)/python -m local_stack demo --participants $(N) $(ARGS)

# The last line is the coverage total: the statements the tests run in-process ([tool.coverage.*] in pyproject.toml).
test: setup
	bash scripts/ensure-browser.sh
	$(BIN)/python -m pytest --cov --cov-report= $(PYTEST_ARGS)
	@total=$$($(BIN)/python -m coverage report --format=total) && echo "coverage: $$total% of statements"

test-unit: setup
	$(BIN)/python -m pytest tests/unit $(PYTEST_ARGS)

test-integration: setup
	$(BIN)/python -m pytest tests/integration $(PYTEST_ARGS)

test-infra: setup
	$(BIN)/python -m pytest tests/infra $(PYTEST_ARGS)

test-faults: setup
	$(BIN)/python -m pytest tests/faults $(PYTEST_ARGS)

test-e2e: setup
	bash scripts/ensure-browser.sh
	$(BIN)/python -m pytest tests/e2e $(PYTEST_ARGS)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy app.py infra lambdas layers/shared/python/speedrun local_stack tests $(wildcard bench)

synth: setup
	$(BIN)/python app.py
	@echo "templates written to cdk.out/"

# checkov's pins conflict with ours: it runs from its own venv, .build/checkov (built on first use).
checkov: synth
	$(BIN)/python -m tests.infra.checkov_runner cdk.out

deploy: setup
	npx --yes aws-cdk@2 deploy --all --require-approval broadening $(ARGS)

# USER is in everyone's environment (the login name): only a USER given on the make command line counts.
# The password reaches the client through the environment, unexpanded ($(value ...)), and is never echoed.
smoke: setup
	$(if $(value BASE_URL),,$(error BASE_URL is missing: make smoke BASE_URL=<the site URL that make run or cdk deploy printed> USER=<host user> PASSWORD=<its password>))
	$(if $(filter command line,$(origin USER)),,$(error USER is missing: pass the host account on the command line, make smoke BASE_URL=... USER=<host user> PASSWORD=...; the USER in your environment is your login name))
	$(if $(value PASSWORD),,$(error PASSWORD is missing: make smoke BASE_URL=... USER=... PASSWORD=<the host password>))
	@SMOKE_PASSWORD='$(subst ','\'',$(value PASSWORD))' $(BIN)/python -m tests.e2e.smoke \
		--base-url '$(subst ','\'',$(value BASE_URL))' --user '$(subst ','\'',$(value USER))' $(ARGS)

bench: setup
	$(BIN)/python -m bench $(ARGS)

replay: setup
	$(BIN)/python -m speedrun.replay $(ARGS)

clean:
	rm -rf cdk.out .build .pytest_cache .mypy_cache .ruff_cache .coverage
