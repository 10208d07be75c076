# The local stack: `make demo` runs what `terraform apply` of examples/local deployed into a
# moto server, behind the local gateway (local_gateway/); its tests come last in `make test`.
# tf-cli-config (mk/terraform.mk) makes terraform work offline; package builds functions/dist.
.PHONY: demo test-gateway test-e2e

TEST_TARGETS += test-gateway test-e2e

demo: venv package tf-cli-config ## Run the whole system on this machine, with a live dashboard
	$(PY) -m local_gateway.demo

test-gateway: venv ## Unit tests of the local gateway (tests/gateway)
	$(PY) -m pytest tests/gateway

test-e2e: venv tf-cli-config ## End-to-end and browser tests against the applied local stack (committed zips)
	$(PY) -m pytest tests/e2e
