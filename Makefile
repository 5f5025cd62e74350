# Everything CI checks is `make test`; a fresh clone needs only Python 3.11+, make,
# Node.js/npm (for the OpenAPI linter) and the package registries.

PYTHON        ?= python3
VENV          ?= .venv
BIN           := $(abspath $(VENV)/bin)
OPC_VERSION   := 0.29.1
# ruff shapes the generated code: it must be the version pinned in pyproject.toml.
RUFF_VERSION  := 0.17.6
SPEC          := openapi/history.yaml
OPC_CONFIG    := openapi/openapi-python-client.yaml
OPC_TEMPLATES := openapi/templates
GEN_PKG       := generated/voipstudio_history_client
GEN_TMP       := build/opc/voipstudio_history_client
CHECK_TMP     := build/check/voipstudio_history_client
REDOCLY       := node_modules/.bin/redocly

.PHONY: help setup setup-services generate check-generated lint spec test demo bench clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

setup: $(VENV)/.installed node_modules/.installed setup-services  ## create .venv and install the project, dev tools and the spec linter

# The warehouse tests start a real PostgreSQL server on loopback: Debian's `postgresql`
# package (binaries in /usr/lib/postgresql/<version>/bin, run as its `postgres` user).
setup-services:  ## install the PostgreSQL server the warehouse tests start (apt-get, when missing)
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null \
	  || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; }

# $(1) = output package dir. Isolated from the repo's ruff config (see openapi-python-client.yaml).
define opc_generate
	@$(BIN)/openapi-python-client --version | grep -qx "openapi-python-client version: $(OPC_VERSION)" \
	  || { echo "openapi-python-client==$(OPC_VERSION) required (make setup)"; exit 1; }
	@$(BIN)/ruff --version | grep -qx "ruff $(RUFF_VERSION)" || { echo "ruff==$(RUFF_VERSION) required (make setup)"; exit 1; }
	rm -rf $(dir $(1))
	mkdir -p $(dir $(1))
	PATH="$(BIN):$$PATH" $(BIN)/openapi-python-client generate --path $(SPEC) --config $(OPC_CONFIG) \
	  --custom-template-path $(OPC_TEMPLATES) --meta none --output-path $(1) --fail-on-warning >/dev/null
	printf '# Marker file for PEP 561\n' > $(1)/py.typed
	$(BIN)/python openapi/stamp_generated.py $(1)
endef

generate: $(VENV)/.installed  ## regenerate generated/ from the spec (build aside, then swap: no stale files)
	$(call opc_generate,$(GEN_TMP))
	rm -rf $(GEN_PKG) && mkdir -p $(dir $(GEN_PKG)) && mv $(GEN_TMP) $(GEN_PKG)
	rm -rf build/opc

check-generated: $(VENV)/.installed  ## fail if generated/ is stale or was edited by hand
	$(call opc_generate,$(CHECK_TMP))
	@diff -r $(CHECK_TMP) $(GEN_PKG) || { echo "generated/ is stale: run 'make generate' and commit"; exit 1; }
	rm -rf build/check

lint: $(VENV)/.installed  ## ruff check + format check, mypy --strict
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy --strict voipstudio_async generated/voipstudio_history_client

spec: $(VENV)/.installed node_modules/.installed  ## validate and lint the OpenAPI document
	$(BIN)/openapi-spec-validator $(SPEC)
	$(REDOCLY) lint --config openapi/redocly.yaml --format stylish $(SPEC)

test: setup lint spec check-generated  ## everything CI checks
	$(BIN)/python -m pytest -q

demo: $(VENV)/.installed  ## archive a fake account on loopback into ./demo-output/, then re-run (resume)
	$(BIN)/python examples/demo.py

bench: $(VENV)/.installed  ## benchmark the SDK against raw httpx/aiohttp (a few minutes; not part of test)
	$(BIN)/python -m bench

clean:  ## remove build outputs (keeps .venv)
	rm -rf build demo-output .pytest_cache .mypy_cache .ruff_cache
