# Terraform checks: formatting, validation, `terraform test`, and the pytest integration suite
# (a real apply of examples/complete on a moto server). Works offline: providers come from a
# local filesystem mirror when the machine has one (see dev/tools/terraform-cli-config.sh).
.PHONY: tf-cli-config tf-fmt-check tf-fmt tf-validate tf-test test-integration

TF_CLI_CONFIG := $(abspath $(BUILD)/terraformrc)
TF_CACHE      := $(abspath $(BUILD)/plugin-cache)

# Every terraform (and pytest-terraform) run below, and in other fragments, uses these.
export TF_CLI_CONFIG_FILE  := $(TF_CLI_CONFIG)
export TF_PLUGIN_CACHE_DIR := $(TF_CACHE)
export TF_IN_AUTOMATION    := 1

# Root module first, then every module and example (trailing slashes stripped).
TF_DIRS          := . $(patsubst %/,%,$(sort $(wildcard modules/*/) $(wildcard examples/*/)))
INTEGRATION_DIRS := tests/integration $(wildcard tests/docs)

TEST_TARGETS += tf-fmt-check tf-validate tf-test test-integration
LINT_TARGETS += tf-fmt-check
FMT_TARGETS  += tf-fmt

tf-cli-config: $(TF_CLI_CONFIG) ## Write the Terraform CLI config (offline provider mirror if any)

$(TF_CLI_CONFIG): dev/tools/terraform-cli-config.sh
	mkdir -p $(TF_CACHE)
	dev/tools/terraform-cli-config.sh $@

tf-fmt-check: $(TF_CLI_CONFIG) ## Check Terraform formatting (terraform fmt -check -recursive)
	terraform fmt -check -recursive -diff

tf-fmt: $(TF_CLI_CONFIG) ## Format every Terraform file in place
	terraform fmt -recursive

tf-validate: $(TF_CLI_CONFIG) ## Validate the root module, every module and every example
	@for dir in $(TF_DIRS); do \
		echo "terraform validate: $$dir"; \
		terraform -chdir=$$dir init -backend=false -input=false -no-color >/dev/null; \
		terraform -chdir=$$dir validate -no-color; \
	done

# terraform test runs its files one after the other on about one core: two processes, one for
# validation.tftest.hcl and one for the rest (about equal times), use both.
TF_TEST_SPLIT := tests/terraform/validation.tftest.hcl
TF_TEST_REST  := $(filter-out $(TF_TEST_SPLIT),$(sort $(wildcard tests/terraform/*.tftest.hcl)))

tf-test: $(TF_CLI_CONFIG) ## Run the terraform test files in tests/terraform (mock provider, plan)
	terraform init -backend=false -input=false -no-color -test-directory=tests/terraform >/dev/null
	mkdir -p $(BUILD)
	terraform test -no-color -test-directory=tests/terraform -filter=$(TF_TEST_SPLIT) \
	    > $(BUILD)/tf-test-split.log 2>&1 & split=$$!; \
	  terraform test -no-color -test-directory=tests/terraform $(addprefix -filter=,$(TF_TEST_REST)); \
	  rest=$$?; wait $$split; split_status=$$?; cat $(BUILD)/tf-test-split.log; \
	  test $$rest -eq 0 && test $$split_status -eq 0

test-integration: venv $(TF_CLI_CONFIG) ## Apply examples/complete on moto and check it through boto3
	$(PY) -m pytest $(INTEGRATION_DIRS)
