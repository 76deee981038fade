# Two commands on a fresh machine: `make dev` and `make test`. Both build .venv themselves.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

# Deploy-template checks run in a virtualenv of their own (see infra/requirements-deploy.txt).
DEPLOY_VENV  := .venv-deploy
DEPLOY_STAMP := $(DEPLOY_VENV)/.installed-$(shell cksum infra/requirements-deploy.txt | cut -d' ' -f1)
STAGE ?= dev
BUILD ?= build

.PHONY: dev test lint typecheck install requirements clean browser package soak bench

# The browser tests drive Debian's Chromium (Playwright uses it as is; nothing downloads a browser).
CHROMIUM := /usr/bin/chromium

# pip byte-compiles every module it installs (half the install's time, most of it for modules nothing
# imports); Python compiles and caches the ones imported, on first import.
NO_COMPILE := --no-compile

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "installing into $(VENV) (first run takes a minute)..."
	@($(BIN)/python -m pip install --disable-pip-version-check --upgrade pip && \
	  $(BIN)/python -m pip install --disable-pip-version-check $(NO_COMPILE) -e '.[dev]') > $(VENV)/install.log 2>&1 \
	  || { tail -40 $(VENV)/install.log; echo "install failed: see $(VENV)/install.log"; exit 1; }
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

dev: $(STAMP)
	@$(BIN)/python -m devstack

# Two workers take the suite file by file (a module's tests stay on one worker), in the order
# tests/conftest.py collects them, costliest first (--no-loadscope-reorder: xdist would order files by
# their number of tests, and minutes-long files of one or two tests ran last). The short soak is one of
# them: it checks what is lost, doubled or held, not how fast. The run prints its 20 slowest tests.
WORKERS ?= 2
test: $(STAMP) $(DEPLOY_STAMP) browser lint typecheck
	@$(BIN)/python -m pytest -n $(WORKERS) --dist loadfile --no-loadscope-reorder $(PYTEST_ARGS)

# Rules in pyproject.toml's [tool.ruff]: pycodestyle, pyflakes, bugbear, isort, pyupgrade.
lint: $(STAMP)
	@$(BIN)/ruff check chalicelib app.py devstack bench tests

# mypy --strict with the pydantic plugin on chalicelib and app.py ([tool.mypy] in pyproject.toml).
typecheck: $(STAMP)
	@$(BIN)/mypy

# Cost, scaling, reconcile, latency, cold start, crypto and export figures: bench/results.json and docs/benchmarks.md.
bench: $(STAMP)
	@$(BIN)/python -m bench

$(DEPLOY_STAMP): infra/requirements-deploy.txt
	@test -x $(DEPLOY_VENV)/bin/python || $(PYTHON) -m venv $(DEPLOY_VENV)
	@$(DEPLOY_VENV)/bin/python -m pip install --disable-pip-version-check $(NO_COMPILE) -r infra/requirements-deploy.txt \
	  > $(DEPLOY_VENV)/install.log 2>&1 || { tail -20 $(DEPLOY_VENV)/install.log; exit 1; }
	@rm -f $(DEPLOY_VENV)/.installed-*
	@touch $(DEPLOY_STAMP)

# One CloudFormation (SAM) template for AWS: Chalice's functions, APIs and schedules merged with
# infra/template.yaml, plus the code bundle. docs/deploy.md says what to run next.
package: $(STAMP)
	@mkdir -p $(BUILD)
	@AWS_DEFAULT_REGION=$${AWS_DEFAULT_REGION:-us-east-1} $(BIN)/chalice package --stage $(STAGE) \
	  --merge-template infra/template.yaml $(BUILD) > $(BUILD)/package.log 2>&1 \
	  || { cat $(BUILD)/package.log; exit 1; }
	@echo "$(BUILD)/sam.yaml and $(BUILD)/deployment.zip for stage $(STAGE)"

browser:
	@test -x $(CHROMIUM) || { echo "installing Debian's chromium for the browser tests..."; \
	  $(if $(filter 0,$(shell id -u)),,sudo) sh -c 'apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium' \
	  > $(VENV).chromium.log 2>&1 || { tail -20 $(VENV).chromium.log; echo "could not install chromium"; exit 1; }; }

# The reliability soak at full size: 200 visitors and 20 agents for 5 minutes on the local stack
# (make test runs a short one: 50 visitors, 5 agents, 60 s); docs/reliability.md has the figures.
soak: $(STAMP)
	@SWITCHBOARD_SOAK_SECONDS=$${SWITCHBOARD_SOAK_SECONDS:-300} SWITCHBOARD_SOAK_VISITORS=$${SWITCHBOARD_SOAK_VISITORS:-200} \
	  SWITCHBOARD_SOAK_AGENTS=$${SWITCHBOARD_SOAK_AGENTS:-20} $(BIN)/python -m pytest tests/reliability/test_soak.py -q -s

# requirements.txt is what `chalice package` bundles: the runtime dependencies of pyproject.toml.
requirements: $(STAMP)
	@$(BIN)/python -m devstack.requirements > requirements.txt

clean:
	rm -rf $(VENV) $(DEPLOY_VENV) build .pytest_cache
