# Plan-level contract of the root module with its defaults (SPEC §3). No AWS account needed:
# every resource and data source comes from the mock provider.

mock_provider "aws" {
  override_during = plan

  mock_data "aws_partition" {
    defaults = { partition = "aws", dns_suffix = "amazonaws.com" }
  }
  mock_data "aws_region" {
    defaults = { name = "eu-west-1" }
  }
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
}

run "three_channels_by_default" {
  command = plan

  assert {
    condition     = keys(module.channel) == ["events", "history", "remediation"]
    error_message = "The default channels are events, remediation and history."
  }
}
