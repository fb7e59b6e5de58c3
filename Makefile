# Every command a user or CI runs. `make help` lists them.
#   make synth                      synthesize the sandbox profile (default)
#   make synth PROFILE=production   another profile;  make synth CONFIG=path/to/profile.yaml
#   make test                       the whole quality gate (what CI runs)

PROFILE ?= sandbox
CONFIG  ?=
PYTHON  ?= python3
VENV    := .venv
CHECKOV_VENV := .venv-checkov
PY      := $(VENV)/bin/python
CDK     := npx --no-install cdk
MODEL_PACKAGE_ARN ?=
# The version the model-deploy pipeline deploys to its stages: its synth step sets both (tools/model_version.py).
PIPELINE_MODEL_PACKAGE_ARN ?=
PIPELINE_MODEL_DATA_URL ?=
VERIFY_ARGS ?=
CONTEXT := -c profile=$(PROFILE) $(if $(CONFIG),-c config=$(CONFIG)) \
           $(if $(MODEL_PACKAGE_ARN),-c model_package_arn=$(MODEL_PACKAGE_ARN)) \
           $(if $(PIPELINE_MODEL_PACKAGE_ARN),-c pipeline_model_package_arn=$(PIPELINE_MODEL_PACKAGE_ARN)) \
           $(if $(PIPELINE_MODEL_DATA_URL),-c pipeline_model_data_url=$(PIPELINE_MODEL_DATA_URL))

export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export CDK_DISABLE_CLI_TELEMETRY := true
export CDK_DISABLE_VERSION_CHECK := 1
export SAGEMAKER_TELEMETRY_OPT_OUT := true

.DEFAULT_GOAL := help
.PHONY: help setup synth test lint typecheck unit bench cost preflight verify bootstrap diff deploy destroy docs pipeline train-local clean

help: ## List the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  make %-11s %s\n", $$1, $$2}'
	@echo "  Variables: PROFILE=sandbox|production (default sandbox), CONFIG=path/to/profile.yaml,"
	@echo "             MODEL_PACKAGE_ARN=<approved model package version> (serve it),"
	@echo "             FORCE=1 (deploy: redeploy unchanged stacks so they re-read cross-stack values)"

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r requirements-dev.txt
	touch $@

$(CHECKOV_VENV)/.installed: requirements-checkov.txt
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --upgrade pip
	$(CHECKOV_VENV)/bin/pip install --quiet -r requirements-checkov.txt
	touch $@

# Runtime parity: one venv per SageMaker image the step scripts run in, and one for the Lambda runtime, each on
# that runtime's Python minor version (from pyenv) with its libraries (requirements-image-<name>.txt and
# requirements-lambda.txt, whose "# python: X.Y" line names the minor; config/data/containers.yaml records the
# source of each image pin).
PYENV_ROOT ?= $(shell pyenv root 2>/dev/null || echo $$HOME/.pyenv)
IMAGE_ENVS := $(patsubst requirements-%.txt,.venv-%,$(wildcard requirements-image-*.txt) requirements-lambda.txt)

.venv-%/.installed: requirements-%.txt
	@minor=$$(sed -n 's/^# python: *\([0-9][0-9.]*\) *$$/\1/p' $<); \
	if [ -z "$$minor" ]; then echo "error: $< has no '# python: X.Y' line" >&2; exit 1; fi; \
	interpreter=$$(ls -d $(PYENV_ROOT)/versions/$$minor.*/bin/python 2>/dev/null | sort -V | tail -n 1); \
	if [ -z "$$interpreter" ] || [ ! -x "$$interpreter" ]; then \
		echo "error: no Python $$minor under $(PYENV_ROOT)/versions (the runtime behind $< runs $$minor)." >&2; \
		echo "       Install it with 'pyenv install $$minor', or set PYENV_ROOT." >&2; exit 1; \
	fi; \
	echo "creating .venv-$* with $$interpreter"; \
	rm -rf .venv-$* && "$$interpreter" -m venv .venv-$* && \
	.venv-$*/bin/pip install --quiet --disable-pip-version-check --only-binary=:all: -r $<
	touch $@

.PHONY: image-envs
image-envs: $(IMAGE_ENVS:%=%/.installed) ## Create the runtime-parity venvs (.venv-image-*, .venv-lambda; pyenv interpreters)

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# The prediction function's libraries (lambdas/invoke_endpoint/requirements.txt, its lock) built for the Lambda
# runtime without Docker: python3.12 x86_64 manylinux wheels only, nothing compiled here, no .pyc. The
# function's asset is its sources plus this folder (components/foundation/functions.py), so every target that
# synthesizes needs it.
LAMBDA_DEPS := build/lambda/invoke_endpoint/.installed

$(LAMBDA_DEPS): lambdas/invoke_endpoint/requirements.txt | $(VENV)/.installed
	rm -rf $(@D) && mkdir -p $(@D)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check --no-deps --no-compile --target $(@D) \
		--platform manylinux2014_x86_64 --implementation cp --python-version 3.12 --only-binary=:all: -r $<
	cp $< $@

.PHONY: lambda-deps
lambda-deps: $(LAMBDA_DEPS) ## Build the prediction function's libraries for the Lambda runtime (build/lambda/)

setup: $(VENV)/.installed $(CHECKOV_VENV)/.installed node_modules/.installed ## Create the virtual environments and node_modules (once)

synth: $(VENV)/.installed node_modules/.installed $(LAMBDA_DEPS) ## Synthesize every stack of PROFILE into cdk.out, rule packs on, and summarize
	$(CDK) synth --quiet $(CONTEXT)
	$(PY) -m tools.summary cdk.out

lint: $(VENV)/.installed ## ruff lint and format check (needs only the main venv)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(VENV)/.installed ## mypy over all code (needs only the main venv)
	$(VENV)/bin/mypy

unit: setup image-envs $(LAMBDA_DEPS) ## pytest only (assertions, snapshots, container parity, cdk-nag, Control Tower, cfn-lint, checkov)
	$(VENV)/bin/pytest

test: lint typecheck unit ## The whole quality gate: lint, types, tests and compliance, every build of both profiles

bench: setup $(LAMBDA_DEPS) ## Wall and CPU time of cold synths, the script tests, the definition check, the test run and its parts
	$(PY) -m tools.bench

cost: setup $(LAMBDA_DEPS) ## Fixed monthly cost of each profile, idle and serving, from the synthesized templates and the price table
	$(PY) -m tools.cost

docs: setup $(LAMBDA_DEPS) ## Regenerate the exam coverage report, the compliance register, the README's cost table and the architecture diagram (Graphviz)
	$(PY) -m tools.reports --write

train-local: setup ## Run the pipeline's step scripts on the sample data here (real training), print the metrics
	$(PY) -m tools.train_local

pipeline: setup ## Regenerate the committed pipeline definitions and feature schema (SageMaker SDK, offline); CHECK=1: write nothing, exit 1 naming each stale file
	$(PY) -m pipelines.builders $(if $(CHECK),--check)

preflight: setup ## Read-only check that this account and region have what PROFILE's deploy needs (needs AWS credentials)
	$(PY) -m tools.preflight $(CONTEXT)

verify: setup ## After a deploy: exercise the platform end to end, one line per step (needs AWS credentials; VERIFY_ARGS=...)
	$(PY) -m tools.verify $(CONTEXT) $(VERIFY_ARGS)

bootstrap: setup $(LAMBDA_DEPS) ## One-time per account/region: cdk bootstrap (needs AWS credentials)
	$(CDK) bootstrap $(CONTEXT)

diff: setup $(LAMBDA_DEPS) ## Compare PROFILE with what is deployed (needs AWS credentials)
	$(CDK) diff '**' $(CONTEXT)

deploy: setup $(LAMBDA_DEPS) ## Deploy every stack of PROFILE (needs AWS credentials and a bootstrapped account)
	$(CDK) deploy '**' $(CONTEXT) --require-approval broadening $(if $(FORCE),--force)

destroy: setup $(LAMBDA_DEPS) ## Tear PROFILE down (needs AWS credentials); stateful stacks lose termination protection first
	$(PY) -m tools.teardown $(CONTEXT)
	$(CDK) destroy '**' $(CONTEXT) --force

clean: ## Remove build output (keeps the virtual environments)
	rm -rf cdk.out build .pytest_cache .mypy_cache .ruff_cache
