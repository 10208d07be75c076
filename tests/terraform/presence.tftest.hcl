# modules/presence: one function that announces who joins and leaves the channels with presence,
# fed by their connections tables' streams and invoked by their presence routes, with exactly the
# permissions it needs: its own on top of those of its fan-out.

mock_provider "aws" {
  override_during = plan
  source          = "./tests/terraform/mocks"
}

variables {
  function_name = "incident-ws-presence"
  channels = {
    history     = { connections_table_stream_arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/IncidentWebSocketConnections/stream/2024-01-01T00:00:00.000", presence_source_arn = "arn:aws:execute-api:eu-west-1:123456789012:hi1/prod/presence" }
    remediation = { connections_table_stream_arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/RemediationWebSocketConnections/stream/2024-01-01T00:00:00.000", presence_source_arn = "arn:aws:execute-api:eu-west-1:123456789012:re1/prod/presence" }
  }
  lambda = { packages_dir = "functions/dist", runtime = "python3.12", architecture = "x86_64", memory_size = 256, log_retention_in_days = 30 }

  # What modules/fan-out builds for these channels with presence = true (see fan_out.tftest.hcl).
  fan_out = {
    channels = ["history", "remediation"]
    environment_variables = {
      CHANNELS = jsonencode({
        history     = { table = "IncidentWebSocketConnections", endpoint = "https://hi1.execute-api.eu-west-1.amazonaws.com/prod", data_attributes = null, presence = true }
        remediation = { table = "RemediationWebSocketConnections", endpoint = "https://re1.execute-api.eu-west-1.amazonaws.com/prod", data_attributes = null, presence = true }
      })
      MAX_CONCURRENCY = "16"
    }
    policy_statements = {
      ConnectionsTables = { actions = ["dynamodb:Scan", "dynamodb:GetItem"], resources = ["arn:aws:dynamodb:eu-west-1:123456789012:table/IncidentWebSocketConnections", "arn:aws:dynamodb:eu-west-1:123456789012:table/RemediationWebSocketConnections"] }
      PostToConnections = { actions = ["execute-api:ManageConnections"], resources = ["arn:aws:execute-api:eu-west-1:123456789012:hi1/prod/POST/@connections/*", "arn:aws:execute-api:eu-west-1:123456789012:re1/prod/POST/@connections/*"] }
    }
    kms_actions = ["kms:Decrypt"]
  }
}

run "connects_and_disconnects_of_every_presence_channel_reach_the_function" {
  command = plan

  module {
    source = "./modules/presence"
  }

  assert {
    condition     = { for key, mapping in aws_lambda_event_source_mapping.this : key => mapping.event_source_arn } == { for key, channel in var.channels : key => channel.connections_table_stream_arn }
    error_message = "Each presence channel's connections table stream must feed the function."
  }

  assert {
    condition     = alltrue([for mapping in values(aws_lambda_event_source_mapping.this) : jsondecode(one(one(mapping.filter_criteria).filter).pattern) == { eventName = ["INSERT", "REMOVE"] }])
    error_message = "The mappings must pass INSERT (connect) and REMOVE (disconnect, TTL expiry) records only."
  }

  assert {
    condition = alltrue([
      for mapping in values(aws_lambda_event_source_mapping.this) :
      mapping.function_response_types == toset(["ReportBatchItemFailures"]) && mapping.bisect_batch_on_function_error &&
      mapping.maximum_retry_attempts == 3 && mapping.maximum_record_age_in_seconds == 600 && mapping.starting_position == "LATEST"
    ])
    error_message = "The mappings must report partial batch failures, bisect, and give up after 3 retries or 10 minutes."
  }

  assert {
    condition     = alltrue([for mapping in values(aws_lambda_event_source_mapping.this) : mapping.destination_config[0].on_failure[0].destination_arn == aws_sqs_queue.this.arn])
    error_message = "Records that exhaust their retries must go to the presence dead-letter queue."
  }

  assert {
    condition     = aws_sqs_queue.this.name == "incident-ws-presence-dlq" && aws_sqs_queue.this.sqs_managed_sse_enabled
    error_message = "The dead-letter queue <function>-dlq must use SQS managed encryption without a KMS key."
  }
}

run "only_the_channels_presence_routes_invoke_the_function" {
  command = plan

  module {
    source = "./modules/presence"
  }

  assert {
    condition     = { for key, permission in aws_lambda_permission.this : key => [permission.principal, permission.source_arn] } == { for key, channel in var.channels : key => ["apigateway.amazonaws.com", channel.presence_source_arn] }
    error_message = "API Gateway may invoke the function from each channel's presence route only."
  }

  assert {
    condition     = module.function.function_name == "incident-ws-presence" && output.function_name == "incident-ws-presence"
    error_message = "The function must have the name the channels' presence routes invoke."
  }
}

run "function_is_configured_for_and_allowed_on_the_presence_channels_only" {
  command = plan

  module {
    source = "./modules/presence"
  }

  assert {
    condition = { for key, channel in jsondecode(module.function.environment_variables.CHANNELS) : key => [channel.table, channel.endpoint, channel.presence] } == {
      history     = ["IncidentWebSocketConnections", "https://hi1.execute-api.eu-west-1.amazonaws.com/prod", true]
      remediation = ["RemediationWebSocketConnections", "https://re1.execute-api.eu-west-1.amazonaws.com/prod", true]
    }
    error_message = "CHANNELS must list the presence channels with their table, endpoint and presence = true."
  }

  assert {
    condition     = module.function.environment_variables.MAX_CONCURRENCY == "16"
    error_message = "MAX_CONCURRENCY must be passed to the function."
  }

  assert {
    condition = {
      for statement in jsondecode(module.function.policy).Statement : statement.Sid => [statement.Action, statement.Resource]
      } == {
      ConnectionsTables      = [["dynamodb:Scan", "dynamodb:GetItem"], ["arn:aws:dynamodb:eu-west-1:123456789012:table/IncidentWebSocketConnections", "arn:aws:dynamodb:eu-west-1:123456789012:table/RemediationWebSocketConnections"]]
      PostToConnections      = [["execute-api:ManageConnections"], ["arn:aws:execute-api:eu-west-1:123456789012:hi1/prod/POST/@connections/*", "arn:aws:execute-api:eu-west-1:123456789012:re1/prod/POST/@connections/*"]]
      ReadConnectionsStreams = [["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams"], [for channel in var.channels : channel.connections_table_stream_arn]]
      DeadLetterQueue        = [["sqs:SendMessage"], [aws_sqs_queue.this.arn]]
      WriteOwnLogs           = [["logs:CreateLogStream", "logs:PutLogEvents"], ["arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/mocked:*"]]
    }
    error_message = "The presence function's policy must be exactly: read the channels' tables (Scan, GetItem) and streams, post to their connections, SendMessage on its queue, its own logs."
  }
}

run "customer_managed_key_encrypts_the_queue_and_scopes_kms_actions" {
  command = plan

  module {
    source = "./modules/presence"
  }

  variables {
    kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
  }

  assert {
    condition     = aws_sqs_queue.this.kms_master_key_id == var.kms_key_arn
    error_message = "kms_key_arn must encrypt the dead-letter queue."
  }

  assert {
    condition = [
      for statement in jsondecode(module.function.policy).Statement : [statement.Action, statement.Resource]
      if statement.Sid == "EncryptionKey"
    ] == [[["kms:Decrypt", "kms:GenerateDataKey"], [var.kms_key_arn]]]
    error_message = "The presence function needs kms:Decrypt (streams, tables) and kms:GenerateDataKey (queue) on the key, nothing more."
  }
}
