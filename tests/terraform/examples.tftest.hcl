# The examples deliver what their READMEs promise.

mock_provider "aws" {
  override_during = plan
  source          = "./tests/terraform/mocks"
}

run "complete_example_keeps_the_original_table_names" {
  command = plan

  module {
    source = "./examples/complete"
  }

  assert {
    condition = { for key, channel in output.channels : key => channel.connections_table_name } == {
      events      = "WebSocketConnections_v2"
      remediation = "RemediationWebSocketConnections"
      history     = "IncidentWebSocketConnections"
    }
    error_message = "examples/complete must keep the original connections table names."
  }

  assert {
    condition     = output.incident_table_name == "Incident"
    error_message = "examples/complete must use the Incident table."
  }
}

run "minimal_example_has_one_channel" {
  command = plan

  module {
    source = "./examples/minimal"
  }

  variables {
    oidc_issuer   = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbCdEf123"
    oidc_audience = "4b3kexampleclientid"
  }

  assert {
    condition     = keys(output.channels) == ["events"]
    error_message = "examples/minimal must have exactly one channel."
  }
}
