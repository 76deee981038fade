# Two commands on a fresh machine: `make dev` and `make test`. Both build .venv themselves.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: dev test install requirements clean browser

# The browser tests drive Debian's Chromium (Playwright uses it as is; nothing downloads a browser).
CHROMIUM := /usr/bin/chromium

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "installing into $(VENV) (first run takes a minute)..."
	@($(BIN)/python -m pip install --disable-pip-version-check --upgrade pip && \
	  $(BIN)/python -m pip install --disable-pip-version-check -e '.[dev]') > $(VENV)/install.log 2>&1 \
	  || { tail -40 $(VENV)/install.log; echo "install failed: see $(VENV)/install.log"; exit 1; }
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

dev: $(STAMP)
	@$(BIN)/python -m devstack

test: $(STAMP) browser
	@$(BIN)/python -m pytest $(PYTEST_ARGS)

browser:
	@test -x $(CHROMIUM) || { echo "installing Debian's chromium for the browser tests..."; \
	  $(if $(filter 0,$(shell id -u)),,sudo) sh -c 'apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium' \
	  > $(VENV).chromium.log 2>&1 || { tail -20 $(VENV).chromium.log; echo "could not install chromium"; exit 1; }; }

# requirements.txt is what `chalice package` bundles: the runtime dependencies of pyproject.toml.
requirements: $(STAMP)
	@$(BIN)/python -m devstack.requirements > requirements.txt

clean:
	rm -rf $(VENV) build .pytest_cache
