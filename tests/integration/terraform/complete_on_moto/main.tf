# examples/complete exactly as a user applies it, for the integration tests. They start a moto
# server and point the provider at it through the standard AWS_ENDPOINT_URL and test
# credentials (tests/integration/conftest.py): nothing here, or in the example, knows about moto.
module "complete" {
  source = "../../../../examples/complete"
}

output "complete" {
  description = "Every output of examples/complete, as one object."
  value       = module.complete
}
