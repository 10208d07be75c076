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
    condition     = { for key, channel in output.channels : key => channel.authorization_type } == { events = "iam", remediation = "iam", history = "jwt" }
    error_message = "examples/complete must sign agents in with IAM and the history dashboards with JWT."
  }

  assert {
    condition     = keys(output.function_names.authorizer) == ["history"] && output.api_gateway_cloudwatch_role_arn == null
    error_message = "examples/complete must deploy one authorizer (history) and leave the account's CloudWatch role alone by default."
  }

  assert {
    condition     = keys(output.finding_rule_arns) == ["guardduty", "securityhub-asff", "securityhub-ocsf"] && output.findings_dead_letter_queue_url != null
    error_message = "examples/complete must turn on GuardDuty and both Security Hub formats."
  }

  assert {
    condition     = { for key, channel in output.channels : key => channel.presence } == { events = false, remediation = true, history = true } && output.function_names.presence == "incident-ws-presence"
    error_message = "examples/complete must show who is connected on remediation (agent status) and history (dashboards)."
  }

  assert {
    condition     = alltrue([for channel in values(output.channels) : channel.messages_table_name != null]) && keys(output.function_names.replay) == ["events", "history", "remediation"]
    error_message = "examples/complete must keep every channel's message log for replay."
  }
}

run "local_example_relies_on_the_default_routes_and_turns_findings_on" {
  command = plan

  module {
    source = "./examples/local"
  }

  variables {
    aws_endpoint = "http://127.0.0.1:5000"
    oidc_issuer  = "http://127.0.0.1:8001"
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

  variables {
    oidc_issuer   = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbCdEf123"
    oidc_audience = "4b3kexampleclientid"
  }

  assert {
    condition     = keys(output.channels) == ["events"]
    error_message = "examples/minimal must have exactly one channel."
  }

  assert {
    condition     = output.channels.events.authorization_type == "jwt"
    error_message = "examples/minimal must only let token holders connect."
  }
}

run "local_example_accepts_the_local_issuers_tokens_on_every_channel" {
  command = plan

  module {
    source = "./examples/local"
  }

  variables {
    aws_endpoint = "http://127.0.0.1:5000"
    oidc_issuer  = "http://127.0.0.1:8001"
  }

  assert {
    condition     = [for channel in values(output.incident_ws.channels) : channel.authorization_type] == ["jwt", "jwt", "jwt"]
    error_message = "examples/local must put the JWT authorizer on every channel, as make demo shows it."
  }
}

run "local_example_shows_who_is_online_and_replays_on_every_channel" {
  command = plan

  module {
    source = "./examples/local"
  }

  variables {
    aws_endpoint = "http://127.0.0.1:5000"
    oidc_issuer  = "http://127.0.0.1:8001"
  }

  assert {
    condition     = alltrue([for channel in values(output.incident_ws.channels) : channel.presence && channel.messages_table_name != null])
    error_message = "examples/local must turn presence and the message log on for every channel: the demo dashboard shows who is online and replays what it missed."
  }
}
