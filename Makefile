# Everything CI checks is `make test`; a fresh clone needs only Python 3.11+, make,
# Node.js/npm (for the OpenAPI linter) and the package registries.

PYTHON        ?= python3
VENV          ?= .venv
BIN           := $(abspath $(VENV)/bin)
# The generator and ruff (which shapes the generated code) are pinned once, in
# pyproject.toml's dev extra; these read the pins from there.
OPC_VERSION   := $(shell sed -n 's/^ *"openapi-python-client==\([^"]*\)",*$$/\1/p' pyproject.toml)
RUFF_VERSION  := $(shell sed -n 's/^ *"ruff==\([^"]*\)",*$$/\1/p' pyproject.toml)
SPEC          := openapi/history.yaml
OPC_CONFIG    := openapi/openapi-python-client.yaml
OPC_TEMPLATES := openapi/templates
GEN_PKG       := generated/voipstudio_history_client
GEN_TMP       := build/opc/voipstudio_history_client
CHECK_TMP     := build/check/voipstudio_history_client
# mypy's cache is keyed by the generated package's stamp (spec sha256 + generator), so a
# reverted spec change can never leave errors of the reverted state behind.
MYPY_CACHE    := build/mypy-cache/$(shell cat $(GEN_PKG)/_stamp.json 2>/dev/null | cksum | cut -d' ' -f1)
REDOCLY       := node_modules/.bin/redocly

.PHONY: help setup setup-services generate check-generated lint spec api-check api-snapshot docs test demo bench clean

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

setup: $(VENV)/.installed node_modules/.installed setup-services  ## create .venv and install the project, dev tools, the spec linter and the test servers

# The tests start real servers on loopback: PostgreSQL (the warehouse tests; Debian's
# `postgresql` package, binaries in /usr/lib/postgresql/<version>/bin, run as its
# `postgres` user) and redis-server (the shared rate limit). Installed when missing.
setup-services:  ## install PostgreSQL and redis-server when missing (apt-get, as root or with sudo)
	@SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); missing=""; \
	  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null || missing="postgresql"; \
	  command -v redis-server >/dev/null 2>&1 || missing="$$missing redis-server"; \
	  if [ -n "$$missing" ]; then $$SUDO apt-get update -qq \
	    && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; fi

# $(1) = output package dir. Isolated from the repo's ruff config (see openapi-python-client.yaml).
define opc_generate
	@$(BIN)/openapi-python-client --version | grep -qx "openapi-python-client version: $(OPC_VERSION)" \
	  || { echo "$(VENV) has openapi-python-client $$($(BIN)/openapi-python-client --version | cut -d' ' -f3), pyproject.toml pins $(OPC_VERSION): rm $(VENV)/.installed && make setup"; exit 1; }
	@$(BIN)/ruff --version | grep -qx "ruff $(RUFF_VERSION)" \
	  || { echo "$(VENV) has $$($(BIN)/ruff --version), pyproject.toml pins ruff $(RUFF_VERSION): rm $(VENV)/.installed && make setup"; exit 1; }
	rm -rf $(dir $(1))
	mkdir -p $(dir $(1))
	PATH="$(BIN):$$PATH" $(BIN)/openapi-python-client generate --path $(SPEC) --config $(OPC_CONFIG) \
	  --custom-template-path $(OPC_TEMPLATES) --meta none --output-path $(1) --fail-on-warning >/dev/null
	printf '# Marker file for PEP 561\n' > $(1)/py.typed
	$(BIN)/python openapi/stamp_generated.py $(1) $(SPEC)
endef

generate: $(VENV)/.installed  ## regenerate generated/ from the spec (build aside, then swap: no stale files)
	$(call opc_generate,$(GEN_TMP))
	rm -rf $(GEN_PKG) && mkdir -p $(dir $(GEN_PKG)) && mv $(GEN_TMP) $(GEN_PKG)
	rm -rf build/opc build/mypy-cache

check-generated: $(VENV)/.installed  ## fail if generated/ differs from what the spec produces
	$(call opc_generate,$(CHECK_TMP))
	@status=0; diff -ru -x __pycache__ $(GEN_PKG) $(CHECK_TMP) >build/check.diff || status=$$?; \
	  if [ $$status -ne 0 ]; then \
	    sed -e '/^diff -ru/d' -e 's|^--- \([^	]*\).*|--- \1 (committed)|' \
	      -e 's|^+++ build/check/\([^	]*\).*|+++ generated/\1 (what the spec produces)|' \
	      -e 's|^Only in build/check/|Only in what the spec produces: generated/|' \
	      -e 's|^Only in generated/|Only in committed: generated/|' build/check.diff; \
	    echo "generated/ differs from what the spec produces (- committed, + produced): if you edited"; \
	    echo "generated/, move the change into openapi/history.yaml or openapi/templates/;"; \
	    echo "otherwise run 'make generate' and commit."; \
	  fi; rm -rf build/check build/check.diff; exit $$status

lint: $(VENV)/.installed  ## ruff check + format check, mypy --strict
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy --strict --cache-dir $(MYPY_CACHE) voipstudio_async generated/voipstudio_history_client

spec: $(VENV)/.installed node_modules/.installed  ## validate and lint the OpenAPI document
	$(BIN)/openapi-spec-validator $(SPEC)
	$(REDOCLY) lint --config openapi/redocly.yaml --format stylish $(SPEC)

api-check: $(VENV)/.installed  ## fail on public-API breaks not named in CHANGELOG.md's Unreleased section
	$(BIN)/python tools/api_check.py check

api-snapshot: $(VENV)/.installed  ## release step only: record today's public API as the released one
	$(BIN)/python tools/api_check.py snapshot

# --strict (also set in mkdocs.yml): a broken link, a missing page or an unresolvable
# API reference fails the build.
docs: $(VENV)/.installed  ## build the documentation site into build/site (mkdocs, strict)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

test: setup lint spec check-generated api-check docs  ## everything CI checks
	$(BIN)/python -m pytest -q

# The demo needs only the command, the loopback fake and dlt with DuckDB (the cli, testing
# and warehouse extras), not the dev toolchain; after `make setup` they are already there
# and this is a no-op check.
$(VENV)/.installed-demo: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[cli,testing,warehouse]'
	touch $@

demo: $(VENV)/.installed-demo  ## archive a fake account on loopback into ./demo-output/ and re-run it, then sync it into DuckDB, twice
	$(BIN)/python examples/demo.py

bench: $(VENV)/.installed  ## benchmark the SDK against raw httpx/aiohttp, and archiving to S3 (minutes; not part of test)
	$(BIN)/python -m bench
	$(BIN)/python -m bench.s3
	$(BIN)/python -m bench.ratelimit

clean:  ## remove build outputs (keeps .venv)
	rm -rf build demo-output .pytest_cache .mypy_cache .ruff_cache
