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

  assert {
    condition     = keys(output.finding_rule_arns) == ["guardduty", "securityhub-asff", "securityhub-ocsf"] && output.findings_dead_letter_queue_url != null
    error_message = "examples/complete must turn on GuardDuty and both Security Hub formats."
  }
}

run "local_example_relies_on_the_default_routes_and_turns_findings_on" {
  command = plan

  module {
    source = "./examples/local"
  }

  variables {
    aws_endpoint = "http://127.0.0.1:5000"
  }

  assert {
    condition     = keys(output.incident_ws.channels) == ["events", "history", "remediation"]
    error_message = "examples/local must deploy the default channels."
  }

  assert {
    condition     = output.incident_ws.function_names.findings == "incident-ws-findings" && length(output.incident_ws.finding_rule_arns) == 3
    error_message = "examples/local must turn on GuardDuty and both Security Hub formats, so that the demo can publish findings."
  }
}

run "minimal_example_has_one_channel" {
  command = plan

  module {
    source = "./examples/minimal"
  }

  assert {
    condition     = keys(output.channels) == ["events"]
    error_message = "examples/minimal must have exactly one channel."
  }
}
