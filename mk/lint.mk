# Python lint/format with ruff; Terraform formatting lives in mk/terraform.mk.
.PHONY: lint-python fmt-python

LINT_TARGETS += lint-python
FMT_TARGETS  += fmt-python
TEST_TARGETS := lint-python $(TEST_TARGETS)

lint-python: venv ## Check Python style (ruff check, ruff format --check)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

fmt-python: venv ## Fix Python lint and format in place (ruff)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .
