# examples/complete as a user applies it, for the integration tests, with its optional inputs
# turned on so that one apply covers them: the account's API Gateway CloudWatch role, a customer
# managed KMS key, reserved concurrency, the alarms (emailing an on-call address) and the
# dashboard. The tests start a moto server and point the provider at it through the standard
# AWS_ENDPOINT_URL and test credentials (tests/integration/conftest.py): nothing here, or in the
# example, knows about moto.
resource "aws_kms_key" "this" {
  description             = "incident-websocket integration test key"
  deletion_window_in_days = 7
}

resource "aws_kms_alias" "this" {
  name          = "alias/incident-ws-complete"
  target_key_id = aws_kms_key.this.key_id
}

module "complete" {
  source = "../../../../examples/complete"

  create_api_gateway_account_role = true
  kms_key_arn                     = aws_kms_key.this.arn
  lambda_reserved_concurrency     = { connect = 5, authorizer = 5 }
  alarm_email                     = "oncall@example.com"
  create_dashboard                = true
}

output "complete" {
  description = "Every output of examples/complete, as one object."
  value       = module.complete
}
