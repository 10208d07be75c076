# Lambda handlers: deterministic zips (bare python3 is enough) and their unit tests.
.PHONY: package test-unit

TEST_TARGETS += test-unit

package: ## Build functions/dist/<name>.zip for every handler (byte-identical on every run)
	$(PYTHON) dev/tools/package.py --out-dir functions/dist

test-unit: venv ## Run the handler unit tests (pytest tests/unit) against the built zips
	$(PY) -m pytest -n auto tests/unit
