# modules/heartbeat: the schedule, its invoke permission, and a function that may reach every
# channel's table and connections (its fan-out, built first from modules/fan-out).

mock_provider "aws" {
  override_during = plan
  source          = "./tests/terraform/mocks"
}

variables {
  name_prefix = "incident-ws"
  channels = {
    events  = { connections_table_name = "WebSocketConnections_v2", connections_table_arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/WebSocketConnections_v2", management_endpoint = "https://ev1.execute-api.eu-west-1.amazonaws.com/prod", manage_connections_arn = "arn:aws:execute-api:eu-west-1:123456789012:ev1/prod/POST/@connections/*" }
    history = { connections_table_name = "IncidentWebSocketConnections", connections_table_arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/IncidentWebSocketConnections", management_endpoint = "https://hi1.execute-api.eu-west-1.amazonaws.com/prod", manage_connections_arn = "arn:aws:execute-api:eu-west-1:123456789012:hi1/prod/POST/@connections/*" }
  }
  max_concurrency = 16
  lambda          = { packages_dir = "functions/dist", runtime = "python3.12", architecture = "x86_64", memory_size = 256, log_retention_in_days = 30 }
}

run "fan_out_to_every_channel" {
  command = plan

  module {
    source = "./modules/fan-out"
  }
}

run "only_the_schedule_rule_invokes_the_heartbeat" {
  command = plan

  module {
    source = "./modules/heartbeat"
  }

  variables {
    fan_out             = run.fan_out_to_every_channel
    schedule_expression = "rate(3 minutes)"
  }

  assert {
    condition     = aws_cloudwatch_event_rule.this.schedule_expression == "rate(3 minutes)"
    error_message = "The rule must fire on schedule_expression."
  }

  assert {
    condition     = aws_cloudwatch_event_target.this.arn == module.function.function_arn
    error_message = "The rule must target the heartbeat function."
  }

  assert {
    condition     = aws_lambda_permission.this.principal == "events.amazonaws.com" && aws_lambda_permission.this.source_arn == aws_cloudwatch_event_rule.this.arn
    error_message = "The invoke permission must be scoped to the schedule rule's ARN."
  }
}

run "heartbeat_is_configured_for_and_allowed_on_every_channel" {
  command = plan

  module {
    source = "./modules/heartbeat"
  }

  variables {
    fan_out = run.fan_out_to_every_channel
  }

  assert {
    condition = jsondecode(module.function.environment_variables.CHANNELS) == {
      events  = { table = "WebSocketConnections_v2", endpoint = "https://ev1.execute-api.eu-west-1.amazonaws.com/prod", data_attributes = null }
      history = { table = "IncidentWebSocketConnections", endpoint = "https://hi1.execute-api.eu-west-1.amazonaws.com/prod", data_attributes = null }
    }
    error_message = "CHANNELS must list every channel with its table and management endpoint (and no message log: the heartbeat sends only pings)."
  }

  assert {
    condition     = module.function.environment_variables.MAX_CONCURRENCY == "16"
    error_message = "MAX_CONCURRENCY must be passed to the function."
  }

  assert {
    condition = {
      for statement in jsondecode(module.function.policy).Statement : statement.Sid => [statement.Action, statement.Resource]
      } == {
      ConnectionsTables = [["dynamodb:Scan", "dynamodb:UpdateItem", "dynamodb:DeleteItem"], [for channel in var.channels : channel.connections_table_arn]]
      PostToConnections = [["execute-api:ManageConnections"], [for channel in var.channels : channel.manage_connections_arn]]
      WriteOwnLogs      = [["logs:CreateLogStream", "logs:PutLogEvents"], ["arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/mocked:*"]]
    }
    error_message = "The heartbeat's policy must be exactly Scan+UpdateItem+DeleteItem and ManageConnections on every channel, plus its own logs."
  }
}

run "customer_managed_key_lets_the_heartbeat_decrypt_only" {
  command = plan

  module {
    source = "./modules/heartbeat"
  }

  variables {
    fan_out     = run.fan_out_to_every_channel
    kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
  }

  assert {
    condition = [
      for statement in jsondecode(module.function.policy).Statement : [statement.Action, statement.Resource]
      if statement.Sid == "EncryptionKey"
    ] == [[["kms:Decrypt"], [var.kms_key_arn]]]
    error_message = "The heartbeat only reads the encrypted connections tables: kms:Decrypt on the key."
  }
}
