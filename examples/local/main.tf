# The complete system against a local AWS API emulator (moto server): no account, no cost.
provider "aws" {
  region     = var.region
  access_key = "test"
  secret_key = "test"

  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_requesting_account_id  = true
  skip_region_validation      = true

  # Every service the module calls.
  endpoints {
    apigatewayv2 = var.aws_endpoint
    dynamodb     = var.aws_endpoint
    events       = var.aws_endpoint
    iam          = var.aws_endpoint
    kms          = var.aws_endpoint
    lambda       = var.aws_endpoint
    logs         = var.aws_endpoint
    sqs          = var.aws_endpoint
    sts          = var.aws_endpoint
  }
}

module "incident_ws" {
  source = "../../"

  name_prefix = var.name_prefix

  # Tokens of the local OIDC issuer; each persona sees the accounts in its `accounts` claim.
  authorization = {
    type           = "jwt"
    issuer         = var.oidc_issuer
    audiences      = [var.oidc_audience]
    accounts_claim = "accounts"
  }

  # The default channels (events, remediation, history) and routes, which give every dashboard
  # pane traffic, each showing who is online; GuardDuty and Security Hub findings (both formats)
  # of the default minimum severity, MEDIUM, become incidents. The message log (on by default)
  # lets the dashboard replay what was sent before it opened.
  channels = {
    events      = { presence = true }
    remediation = { presence = true }
    history     = { presence = true }
  }

  # A channel of more than two connections is shared with fan-out workers, so that the demo and
  # the end-to-end tests post through the same sharded path as a channel of 100,000 connections.
  fan_out_sharding = { connections_per_worker = 2, max_workers = 4 }

  finding_sources = {
    guardduty    = {}
    security_hub = { formats = ["asff", "ocsf"] }
  }

  tags = {
    Project = "incident-websocket"
    Example = "local"
  }
}
