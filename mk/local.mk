# Running the module on this machine (dev/): `make demo` starts the local stack of dev/harness
# (moto, `terraform apply` of examples/local, the emulator of dev/emulator) with the dashboard
# of dev/demo; the tests of the harness, the emulator and the stack come last in `make test`.
# tf-cli-config (mk/terraform.mk) makes terraform work offline; package builds functions/dist.
.PHONY: demo test-harness test-emulator test-e2e

TEST_TARGETS += test-harness test-emulator test-e2e

# `make demo TIME_SCALE=60`: schedules (the 5-minute heartbeat) run 60 times faster.
# `make demo LAMBDA_LOGS=1`: the functions' logs on the terminal, not only in .build/demo.
TIME_SCALE ?= 1
LAMBDA_LOGS ?=

demo: venv package tf-cli-config ## Run the whole system on this machine, with a live dashboard (TIME_SCALE=60, LAMBDA_LOGS=1)
	$(PY) -m dev.demo --time-scale $(TIME_SCALE) $(if $(LAMBDA_LOGS),--lambda-logs)

test-harness: venv ## Tests of the harness that starts moto, the emulator and the fake @connections (tests/harness)
	$(PY) -m pytest tests/harness

test-emulator: venv ## Tests of the local AWS emulator (tests/emulator)
	$(PY) -m pytest tests/emulator

test-e2e: venv tf-cli-config ## End-to-end and browser tests against the applied local stack (committed zips)
	$(PY) -m pytest tests/e2e
