# incident-websocket — every target works on a fresh machine: it builds the virtual
# environment and installs the pinned dev dependencies (requirements-dev.txt) itself.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
BUILD  := .build

# Each mk/*.mk adds its checks to these lists; `make test` runs them in order.
TEST_TARGETS :=
LINT_TARGETS :=
FMT_TARGETS  :=

include $(sort $(wildcard mk/*.mk))

.PHONY: help venv test lint fmt clean

help: ## List every target
	@grep -hE '^[a-zA-Z0-9_-]+:.*## ' $(MAKEFILE_LIST) | sort -u | \
		awk 'BEGIN {FS = ":.*## "}; {printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2}'

venv: $(VENV)/.installed ## Create .venv with the pinned dev dependencies

$(VENV)/.installed: requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

# Cheap checks first; the committed-zip check (in test-unit) before anything that may run `package`.
TEST_ORDER := lint-python tf-fmt-check test-unit tf-validate tf-test test-integration test-harness test-emulator test-e2e

test: venv $(filter $(TEST_TARGETS),$(TEST_ORDER)) $(filter-out $(TEST_ORDER),$(TEST_TARGETS)) ## Run every test: lint, packaging, unit, Terraform, integration, end to end

lint: venv $(LINT_TARGETS) ## Check Python (ruff) and Terraform (fmt) style

fmt: venv $(FMT_TARGETS) ## Format Python and Terraform sources in place

clean: ## Remove build output, caches and the virtual environment
	rm -rf $(VENV) $(BUILD) .pytest_cache .ruff_cache .hypothesis
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
