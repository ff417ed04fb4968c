# Everything a user or CI runs. `make generate` and `make test` bootstrap all they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
READY := $(VENV)/.ready
APIS := $(notdir $(patsubst %/,%,$(dir $(wildcard specs/*/api.yaml))))
INSTALLED := $(VENV)/.generated-installed

.PHONY: generate openapi test check lint stale mypy emulator bench clean pull-schemas drift contract

$(READY): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

# Generated packages are installed editable, so regenerating needs no reinstall.
$(INSTALLED): $(READY) $(wildcard generated/*/pyproject.toml)
	for api in $(APIS); do \
	  [ -f generated/$$api/pyproject.toml ] && $(BIN)/python -m pip install --quiet --no-deps -e generated/$$api || exit 1; \
	done
	touch $@

generate: $(READY)
	$(BIN)/apigen generate
	$(MAKE) --no-print-directory $(INSTALLED)

# Only generated/<api>/openapi.json (`make generate` writes it too, with everything else).
openapi: $(READY)
	$(BIN)/apigen openapi

test: check $(INSTALLED)
	$(BIN)/python -m pytest -q

check: lint stale mypy

lint: $(READY)
	$(BIN)/ruff check generator emulator $(wildcard specs/*/emulator) tests benchmarks
	$(BIN)/ruff check generated
	$(BIN)/ruff format --check generated

stale: $(READY)
	$(BIN)/apigen generate --check

mypy: $(INSTALLED)
	$(BIN)/mypy generator emulator
	for api in $(APIS); do \
	  $(BIN)/mypy --config-file generated/$$api/pyproject.toml generated/$$api/$$api || exit 1; \
	done

# make emulator [API=powerclerk|ebuilder] [PORT=8400] [RATE=<operations per minute>]: one fake
# API in the foreground on 127.0.0.1 (`apigen emulator --help`).
EMULATE ?= $(or $(API),powerclerk)
emulator: $(READY)
	$(BIN)/apigen emulator $(EMULATE) $(if $(PORT),--port $(PORT)) $(if $(RATE),--rate-limit $(RATE))

# make pull-schemas API=<name> [FORCE=1]; credentials come from <API>_* environment variables.
pull-schemas: $(READY)
	$(if $(API),,$(error set API=<name>, e.g. make pull-schemas API=ebuilder))
	$(BIN)/apigen pull-schemas $(API) $(if $(FORCE),--force)

# make drift API=<name> [FAIL_ON=breaking] [FORMAT=text|markdown|json] [IGNORE=file] [UPDATE=1]
# Exit status: 0 clean, 1 findings at or above FAIL_ON, 2 the check could not run, an operation
# was skipped without a `skip` ignore entry accepting it, or nothing was checked.
drift: $(READY)
	$(if $(API),,$(error set API=<name>, e.g. make drift API=ebuilder))
	$(BIN)/apigen drift $(API) --fail-on $(or $(FAIL_ON),breaking) --format $(or $(FORMAT),text) $(if $(IGNORE),--ignore-file $(IGNORE)) $(if $(UPDATE),--update)

# schemathesis as an outside tester: more examples than `make test`, no exclusions, every API.
contract: $(INSTALLED)
	$(BIN)/python -m tests.contract.full_run

bench: $(INSTALLED)
	$(BIN)/python benchmarks/bench.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
