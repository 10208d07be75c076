# The local stack: `make demo` runs what `terraform apply` of examples/local deployed into a
# moto server, behind the local gateway (dev/emulator/); its tests come last in `make test`.
# tf-cli-config (mk/terraform.mk) makes terraform work offline; package builds functions/dist.
.PHONY: demo test-emulator test-e2e

TEST_TARGETS += test-emulator test-e2e

demo: venv package tf-cli-config ## Run the whole system on this machine, with a live dashboard
	$(PY) -m dev.emulator.demo

test-emulator: venv ## Unit tests of the local AWS emulator (tests/emulator)
	$(PY) -m pytest tests/emulator

test-e2e: venv tf-cli-config ## End-to-end and browser tests against the applied local stack (committed zips)
	$(PY) -m pytest tests/e2e
