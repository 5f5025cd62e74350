# CI runs `make ci` (= `make test`, the core tests on the other Pythons, `make dist`); a
# fresh clone needs only Python 3.11+ (3.12 and 3.13 for `make ci`), make, Node.js/npm (for
# the OpenAPI linter) and the package registries.

PYTHON        ?= python3
VENV          ?= .venv
BIN           := $(abspath $(VENV)/bin)
# The generator, ruff (which shapes the generated code) and uv are pinned once, in
# pyproject.toml's `dev` dependency group; these read the pins from there.
OPC_VERSION   := $(shell sed -n 's/^ *"openapi-python-client==\([^"]*\)",*$$/\1/p' pyproject.toml)
RUFF_VERSION  := $(shell sed -n 's/^ *"ruff==\([^"]*\)",*$$/\1/p' pyproject.toml)
UV_VERSION    := $(shell sed -n 's/^ *"uv==\([^"]*\)",*$$/\1/p' pyproject.toml)
# uv installs into $(VENV) from uv.lock, with the interpreter $(VENV) was made with; it
# never downloads a Python of its own.
UV            := UV_PROJECT_ENVIRONMENT=$(abspath $(VENV)) UV_PYTHON_DOWNLOADS=never $(BIN)/uv
# `make ci` runs the core tests on these too, each in its own .venv-<version> built from
# uv.lock. An interpreter is taken from pyenv when it has one, else from PATH.
OTHER_PYTHONS ?= 3.12 3.13
PYENV_ROOT    ?= $(shell pyenv root 2>/dev/null || echo $(HOME)/.pyenv)
python_for     = $(or $(lastword $(sort $(wildcard $(PYENV_ROOT)/versions/$(1).*/bin/python$(1)))),python$(1))
# The SDK core, the command and the fake server: everything but the warehouse and S3
# tests (which need PostgreSQL, moto and dlt's destinations; `make test` runs them).
CORE_TESTS    := tests --ignore=tests/warehouse --ignore=tests/s3
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

.PHONY: test-slow help setup setup-services lock generate check-generated lint spec api-check api-snapshot docs test test-regeneration test-pythons dist ci demo bench clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

# uv itself, at the version the dev group pins, bootstrapped into $(VENV) with pip once.
$(VENV)/.uv-$(UV_VERSION):
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet uv==$(UV_VERSION)
	touch $@

# --locked: fails when uv.lock does not match pyproject.toml (run `make lock` and commit
# it) rather than resolving anew; the environment is exactly the lock's, every extra and
# the dev group, the project editable.
$(VENV)/.installed: pyproject.toml uv.lock $(VENV)/.uv-$(UV_VERSION)
	$(UV) sync --locked --all-extras --group dev --quiet
	touch $@

lock: $(VENV)/.uv-$(UV_VERSION)  ## refresh uv.lock after a change to pyproject.toml's dependencies (commit it)
	$(UV) lock

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

# The spec's derived parts (filter patterns, sort enums, patch schemas) are rewritten from
# its resource schemas first (openapi/derive.py), then the whole of generated/ is swapped.
# The client's option keywords (VoipStudio.__init__, its docstring, ClientArgs) are
# rewritten from ClientOptions' fields (tools/derive_options.py).
generate: $(VENV)/.installed  ## rewrite the spec's derived parts and the client's option keywords, regenerate generated/ (build aside, then swap: no stale files)
	$(BIN)/python tools/derive_options.py
	$(BIN)/python openapi/derive.py $(SPEC)
	$(call opc_generate,$(GEN_TMP))
	rm -rf generated && mv $(dir $(GEN_TMP)) generated
	rm -rf build/opc build/mypy-cache

# Covers all of generated/ (a stray module beside the package is importable too) and
# the spec's derived parts.
check-generated: $(VENV)/.installed  ## fail if the spec's derived parts, the client's option keywords or generated/ differ from what their sources produce
	@$(BIN)/python tools/derive_options.py --check
	@$(BIN)/python openapi/derive.py --check $(SPEC)
	$(call opc_generate,$(CHECK_TMP))
	@status=0; diff -ru -x __pycache__ generated $(dir $(CHECK_TMP)) >build/check.diff || status=$$?; \
	  if [ $$status -ne 0 ]; then \
	    sed -e '/^diff -ru/d' -e 's|^--- \([^	]*\).*|--- \1 (committed)|' \
	      -e 's|^+++ build/check/\([^	]*\).*|+++ generated/\1 (what the spec produces)|' \
	      -e 's|^Only in build/check: |Only in what the spec produces: generated/|' \
	      -e 's|^Only in build/check/\([^:]*\): |Only in what the spec produces: generated/\1/|' \
	      -e 's|^Only in generated: |Only in committed: generated/|' \
	      -e 's|^Only in generated/\([^:]*\): |Only in committed: generated/\1/|' build/check.diff; \
	    echo "generated/ differs from what the spec produces (- committed, + produced): if you edited"; \
	    echo "generated/, move the change into openapi/history.yaml or openapi/templates/;"; \
	    echo "otherwise run 'make generate' (it also removes files only in committed) and commit."; \
	  fi; rm -rf build/check build/check.diff; exit $$status

lint: $(VENV)/.installed  ## ruff check + format check, mypy --strict
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy --strict --cache-dir $(MYPY_CACHE) voipstudio_async generated/voipstudio_history_client

spec: $(VENV)/.installed node_modules/.installed  ## validate and lint the OpenAPI document
	$(BIN)/openapi-spec-validator $(SPEC)
	$(REDOCLY) lint --config openapi/redocly.yaml --format stylish $(SPEC)

# Random combinations of spec changes (fields of every type, operations of every response
# shape, a type change, a rename, a removal), each regenerated in a scratch copy and
# checked as tests/test_regeneration.py's fixed table (part of `make test`) is.
# EXAMPLES=<n> draws more (about 20 s each).
test-regeneration: $(VENV)/.installed  ## regenerate random combinations of spec changes and check each is absorbed or named (hypothesis; minutes)
	VOIPSTUDIO_REGENERATION_EXAMPLES=$${EXAMPLES:-10} $(BIN)/python -m pytest -q -p no:cacheprovider \
	  tests/test_regeneration.py -k random_combinations

api-check: $(VENV)/.installed  ## fail on public-API breaks not named in CHANGELOG.md's Unreleased section
	$(BIN)/python tools/api_check.py check

api-snapshot: $(VENV)/.installed  ## release step only: record today's public API as the released one
	$(BIN)/python tools/api_check.py snapshot

# --strict (also set in mkdocs.yml): a broken link, a missing page or an unresolvable
# API reference fails the build.
docs: $(VENV)/.installed  ## build the documentation site into build/site (mkdocs, strict)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

# The slowest end-to-end tests (marked `slow`: the fake against schemathesis, killed syncs,
# the stress run, the demo, the bench's smoke run) wait for `make ci`, keeping `make test`
# near 15 minutes on a 2-core machine.
test: setup lint spec check-generated api-check docs  ## the checks and the test suite on $(VENV)'s Python, less the tests marked slow
	$(BIN)/python -m pytest -q -m "not slow"

test-slow: $(VENV)/.installed  ## the tests marked slow (make ci runs them)
	$(BIN)/python -m pytest -q -m slow

# Each .venv-<version> is built from uv.lock like $(VENV) (same stamp logic).
.venv-%/.installed: pyproject.toml uv.lock $(VENV)/.uv-$(UV_VERSION)
	UV_PROJECT_ENVIRONMENT=$(abspath .venv-$*) UV_PYTHON_DOWNLOADS=never $(BIN)/uv sync \
	  --locked --all-extras --group dev --quiet --python $(call python_for,$*)
	touch $@

test-pythons: $(foreach v,$(OTHER_PYTHONS),.venv-$(v)/.installed)  ## the SDK core, command and fake-server tests on $(OTHER_PYTHONS)
	@for v in $(OTHER_PYTHONS); do \
	  echo "== Python $$v: $$(.venv-$$v/bin/python --version)"; \
	  .venv-$$v/bin/python -m pytest -q -p no:cacheprovider -m "not slow" $(CORE_TESTS) || exit 1; \
	done

# The sdist and wheel, checked as a package index would, then the wheel installed into
# fresh environments (bare and with each extra, versions from uv.lock) on every tested
# Python and run (tools/check_dist.py).
dist: $(VENV)/.installed  ## build dist/ (sdist + wheel), twine check --strict, install and run the wheel bare and with each extra
	rm -rf dist build/dist-check
	$(UV) build --quiet --out-dir dist
	$(BIN)/twine check --strict dist/*
	UV_PYTHON_DOWNLOADS=never $(BIN)/python tools/check_dist.py --uv $(BIN)/uv dist \
	  $(BIN)/python $(foreach v,$(OTHER_PYTHONS),$(call python_for,$(v)))

ci: test test-slow test-pythons dist  ## what CI runs (.ci/run): make test, the slow tests, the core tests on $(OTHER_PYTHONS), make dist

# The demo needs only the command, the loopback fake and dlt with DuckDB (the cli, testing
# and warehouse extras), not the dev toolchain; after `make setup` they are already there
# and this is a no-op check.
# --inexact: whatever else $(VENV) holds stays.
$(VENV)/.installed-demo: pyproject.toml uv.lock $(VENV)/.uv-$(UV_VERSION)
	$(UV) sync --locked --inexact --no-dev --extra cli --extra testing --extra warehouse --quiet
	touch $@

demo: $(VENV)/.installed-demo  ## archive a fake account on loopback into ./demo-output/ and re-run it, then sync it into DuckDB, twice
	$(BIN)/python examples/demo.py

bench: $(VENV)/.installed  ## benchmark the SDK against raw httpx/aiohttp, and archiving to S3 (minutes; not part of test)
	$(BIN)/python -m bench
	$(BIN)/python -m bench.pool
	$(BIN)/python -m bench.s3
	$(BIN)/python -m bench.ratelimit
	$(BIN)/python -m bench.retry_load
	$(BIN)/python -m bench.fleet

clean:  ## remove build outputs (keeps .venv; .venv-3.* are the other Pythons' environments)
	rm -rf build dist demo-output .pytest_cache .mypy_cache .ruff_cache
