# modules/incident-stream: the incident table's stream, the event source mapping into the stream
# processor, its dead-letter queue, and the processor's environment and permissions: its own on
# top of those of its fan-out.

mock_provider "aws" {
  override_during = plan
  source          = "./tests/terraform/mocks"
}

variables {
  name_prefix     = "incident-ws"
  message_routing = { incident = ["history"], remediation = ["history"] }
  lambda          = { packages_dir = "functions/dist", runtime = "python3.12", architecture = "x86_64", memory_size = 256, log_retention_in_days = 30 }

  # What modules/fan-out builds for the history channel alone, with its message log (see
  # fan_out.tftest.hcl).
  fan_out = {
    channels = ["history"]
    environment_variables = {
      CHANNELS                  = jsonencode({ history = { table = "IncidentWebSocketConnections", endpoint = "https://hi1.execute-api.eu-west-1.amazonaws.com/prod", messages_table = "incident-ws-history-messages" } })
      MAX_CONCURRENCY           = "32"
      MESSAGE_RETENTION_SECONDS = "86400"
    }
    policy_statements = {
      ConnectionsTables = { actions = ["dynamodb:Scan", "dynamodb:UpdateItem", "dynamodb:DeleteItem"], resources = ["arn:aws:dynamodb:eu-west-1:123456789012:table/IncidentWebSocketConnections"] }
      PostToConnections = { actions = ["execute-api:ManageConnections"], resources = ["arn:aws:execute-api:eu-west-1:123456789012:hi1/prod/POST/@connections/*"] }
      MessageLogs       = { actions = ["dynamodb:BatchWriteItem"], resources = ["arn:aws:dynamodb:eu-west-1:123456789012:table/incident-ws-history-messages"] }
    }
    kms_actions = ["kms:Decrypt", "kms:GenerateDataKey"]
  }

  # The same channel as the fan-out worker's modules/fan-out builds it: no message log.
  worker_fan_out = {
    channels = ["history"]
    environment_variables = {
      CHANNELS        = jsonencode({ history = { table = "IncidentWebSocketConnections", endpoint = "https://hi1.execute-api.eu-west-1.amazonaws.com/prod" } })
      MAX_CONCURRENCY = "32"
    }
    policy_statements = {
      ConnectionsTables = { actions = ["dynamodb:Scan", "dynamodb:UpdateItem", "dynamodb:DeleteItem"], resources = ["arn:aws:dynamodb:eu-west-1:123456789012:table/IncidentWebSocketConnections"] }
      PostToConnections = { actions = ["execute-api:ManageConnections"], resources = ["arn:aws:execute-api:eu-west-1:123456789012:hi1/prod/POST/@connections/*"] }
    }
    kms_actions = ["kms:Decrypt"]
  }
}

run "incident_table_streams_new_and_old_images" {
  command = plan

  module {
    source = "./modules/incident-stream"
  }

  assert {
    condition     = aws_dynamodb_table.this[0].stream_enabled && aws_dynamodb_table.this[0].stream_view_type == "NEW_AND_OLD_IMAGES"
    error_message = "The incident table must stream NEW_AND_OLD_IMAGES."
  }

  assert {
    condition     = aws_dynamodb_table.this[0].name == "Incident" && aws_dynamodb_table.this[0].hash_key == "incident_id"
    error_message = "The default incident table is Incident, keyed by incident_id."
  }

  assert {
    condition     = aws_dynamodb_table.this[0].point_in_time_recovery[0].enabled && aws_dynamodb_table.this[0].server_side_encryption[0].enabled
    error_message = "The incident table must be encrypted with KMS and have point-in-time recovery by default."
  }
}

run "optional_table_settings_are_applied" {
  command = plan

  module {
    source = "./modules/incident-stream"
  }

  variables {
    range_key           = "created_at"
    deletion_protection = true
  }

  assert {
    condition     = aws_dynamodb_table.this[0].deletion_protection_enabled
    error_message = "deletion_protection = true must protect the incident table."
  }

  assert {
    condition     = aws_dynamodb_table.this[0].range_key == "created_at" && length(aws_dynamodb_table.this[0].attribute) == 2
    error_message = "range_key must be the table's sort key, declared as an attribute."
  }
}

run "mapping_filters_inserts_and_modifies_reports_partial_failures_and_bisects" {
  command = plan

  module {
    source = "./modules/incident-stream"
  }

  assert {
    condition     = jsondecode(one(one(aws_lambda_event_source_mapping.this.filter_criteria).filter).pattern) == { eventName = ["INSERT", "MODIFY"] }
    error_message = "The mapping must filter on eventName INSERT and MODIFY (REMOVE and TTL deletes never invoke the function)."
  }

  assert {
    condition     = aws_lambda_event_source_mapping.this.function_response_types == toset(["ReportBatchItemFailures"])
    error_message = "The mapping must accept partial batch responses (ReportBatchItemFailures)."
  }

  assert {
    condition     = aws_lambda_event_source_mapping.this.bisect_batch_on_function_error
    error_message = "The mapping must bisect a failing batch to isolate the bad record."
  }

  assert {
    condition = (
      aws_lambda_event_source_mapping.this.batch_size == 100 &&
      aws_lambda_event_source_mapping.this.maximum_batching_window_in_seconds == 0 &&
      aws_lambda_event_source_mapping.this.starting_position == "LATEST" &&
      aws_lambda_event_source_mapping.this.maximum_retry_attempts == 3 &&
      aws_lambda_event_source_mapping.this.maximum_record_age_in_seconds == 3600
    )
    error_message = "Defaults: batches of 100, no batching window, LATEST, 3 retries, 1 hour record age."
  }
}

run "mapping_retries_are_bounded_then_go_to_the_encrypted_dead_letter_queue" {
  command = plan

  module {
    source = "./modules/incident-stream"
  }

  variables {
    maximum_retry_attempts        = 5
    maximum_record_age_in_seconds = 600
  }

  assert {
    condition     = aws_lambda_event_source_mapping.this.maximum_retry_attempts == 5 && aws_lambda_event_source_mapping.this.maximum_record_age_in_seconds == 600
    error_message = "Retries and record age must be bounded by the given values."
  }

  assert {
    condition     = aws_lambda_event_source_mapping.this.destination_config[0].on_failure[0].destination_arn == aws_sqs_queue.this.arn
    error_message = "Records that exhaust their retries must go to the dead-letter queue."
  }

  assert {
    condition     = aws_sqs_queue.this.sqs_managed_sse_enabled
    error_message = "Without a KMS key the dead-letter queue must use SQS managed encryption."
  }
}

run "processor_is_configured_for_and_allowed_on_its_fan_out_channels_only" {
  command = plan

  module {
    source = "./modules/incident-stream"
  }

  assert {
    condition     = keys(jsondecode(module.function.environment_variables.CHANNELS)) == ["history"]
    error_message = "CHANNELS must list exactly the channels of the fan-out."
  }

  assert {
    condition = jsondecode(module.function.environment_variables.CHANNELS).history == {
      table          = "IncidentWebSocketConnections"
      endpoint       = "https://hi1.execute-api.eu-west-1.amazonaws.com/prod"
      messages_table = "incident-ws-history-messages"
    }
    error_message = "Each CHANNELS entry must carry the channel's table, management endpoint and message log."
  }

  assert {
    condition     = module.function.environment_variables.MESSAGE_RETENTION_SECONDS == "86400"
    error_message = "MESSAGE_RETENTION_SECONDS must be passed to the function."
  }

  assert {
    condition     = jsondecode(module.function.environment_variables.ROUTES) == { incident = ["history"], remediation = ["history"] }
    error_message = "ROUTES must be message_routing as given."
  }

  assert {
    condition     = module.function.environment_variables.MAX_CONCURRENCY == "32"
    error_message = "MAX_CONCURRENCY must be passed to the function."
  }

  assert {
    condition = {
      for statement in jsondecode(module.function.policy).Statement : statement.Sid => [statement.Action, statement.Resource]
      } == {
      ReadIncidentStream = [["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams"], [aws_dynamodb_table.this[0].stream_arn]]
      ConnectionsTables  = [["dynamodb:Scan", "dynamodb:UpdateItem", "dynamodb:DeleteItem"], ["arn:aws:dynamodb:eu-west-1:123456789012:table/IncidentWebSocketConnections"]]
      PostToConnections  = [["execute-api:ManageConnections"], ["arn:aws:execute-api:eu-west-1:123456789012:hi1/prod/POST/@connections/*"]]
      MessageLogs        = [["dynamodb:BatchWriteItem"], ["arn:aws:dynamodb:eu-west-1:123456789012:table/incident-ws-history-messages"]]
      CountConnections   = [["dynamodb:DescribeTable"], ["arn:aws:dynamodb:eu-west-1:123456789012:table/IncidentWebSocketConnections"]]
      InvokeFanOutWorker = [["lambda:InvokeFunction"], [module.fanout_worker.function_arn]]
      DeadLetterQueue    = [["sqs:SendMessage"], [aws_sqs_queue.this.arn]]
      WriteOwnLogs       = [["logs:CreateLogStream", "logs:PutLogEvents"], ["arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/mocked:*"]]
    }
    error_message = "The stream processor's policy must be exactly: stream read, Scan+UpdateItem+DeleteItem and ManageConnections on routed channels only, BatchWriteItem on their message logs, DescribeTable on their connections tables, InvokeFunction on its fan-out worker only, SendMessage on its queue, its own logs."
  }
}

run "processor_is_told_its_worker_and_the_sharding_knobs" {
  command = plan

  module {
    source = "./modules/incident-stream"
  }

  variables {
    sharding = { connections_per_worker = 500, max_workers = 8 }
  }

  assert {
    condition = {
      for name in ["FAN_OUT_WORKER_FUNCTION", "FAN_OUT_CONNECTIONS_PER_WORKER", "FAN_OUT_MAX_WORKERS"] : name => module.function.environment_variables[name]
    } == { FAN_OUT_WORKER_FUNCTION = module.fanout_worker.function_name, FAN_OUT_CONNECTIONS_PER_WORKER = "500", FAN_OUT_MAX_WORKERS = "8" }
    error_message = "The stream processor must be told the worker's name and the sharding knobs."
  }

  assert {
    condition     = module.fanout_worker.function_name == "incident-ws-fanout-worker"
    error_message = "The worker must be named <prefix>-fanout-worker."
  }
}

run "worker_posts_to_the_same_channels_and_may_write_no_message_log" {
  command = plan

  module {
    source = "./modules/incident-stream"
  }

  assert {
    condition     = jsondecode(module.fanout_worker.environment_variables.CHANNELS) == { history = { table = "IncidentWebSocketConnections", endpoint = "https://hi1.execute-api.eu-west-1.amazonaws.com/prod" } }
    error_message = "The worker's CHANNELS must be the processor's channels, without message logs."
  }

  assert {
    condition = {
      for statement in jsondecode(module.fanout_worker.policy).Statement : statement.Sid => [statement.Action, statement.Resource]
      } == {
      ConnectionsTables = [["dynamodb:Scan", "dynamodb:UpdateItem", "dynamodb:DeleteItem"], ["arn:aws:dynamodb:eu-west-1:123456789012:table/IncidentWebSocketConnections"]]
      PostToConnections = [["execute-api:ManageConnections"], ["arn:aws:execute-api:eu-west-1:123456789012:hi1/prod/POST/@connections/*"]]
      WriteOwnLogs      = [["logs:CreateLogStream", "logs:PutLogEvents"], ["arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/mocked:*"]]
    }
    error_message = "The worker's policy must be exactly: Scan+UpdateItem+DeleteItem and ManageConnections on the routed channels, its own logs."
  }
}

run "worker_timeout_must_leave_the_processor_ten_seconds" {
  command = plan

  module {
    source = "./modules/incident-stream"
  }

  variables {
    timeout        = 60
    worker_timeout = 55
  }

  expect_failures = [var.worker_timeout]
}

run "sharding_knobs_must_be_whole_and_bounded" {
  command = plan

  module {
    source = "./modules/incident-stream"
  }

  variables {
    sharding = { connections_per_worker = 0, max_workers = 101 }
  }

  expect_failures = [var.sharding]
}

run "customer_managed_key_encrypts_table_and_queue" {
  command = plan

  module {
    source = "./modules/incident-stream"
  }

  variables {
    kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
  }

  assert {
    condition     = aws_sqs_queue.this.kms_master_key_id == var.kms_key_arn && aws_dynamodb_table.this[0].server_side_encryption[0].kms_key_arn == var.kms_key_arn
    error_message = "kms_key_arn must encrypt the incident table and the dead-letter queue."
  }

  assert {
    condition = [
      for statement in jsondecode(module.function.policy).Statement : [statement.Action, statement.Resource]
      if statement.Sid == "EncryptionKey"
    ] == [[["kms:Decrypt", "kms:GenerateDataKey"], [var.kms_key_arn]]]
    error_message = "The processor needs kms:Decrypt (stream, tables) and kms:GenerateDataKey (queue) on the key, nothing more."
  }
}

run "bring_your_own_stream_creates_no_table" {
  command = plan

  module {
    source = "./modules/incident-stream"
  }

  variables {
    create_table = false
    stream_arn   = "arn:aws:dynamodb:eu-west-1:123456789012:table/SecurityIncidents/stream/2024-01-01T00:00:00.000"
  }

  assert {
    condition     = length(aws_dynamodb_table.this) == 0
    error_message = "With create_table = false no incident table may be created."
  }

  assert {
    condition     = aws_lambda_event_source_mapping.this.event_source_arn == var.stream_arn
    error_message = "The mapping must read the given stream."
  }

  assert {
    condition     = [for statement in jsondecode(module.function.policy).Statement : statement.Resource if statement.Sid == "ReadIncidentStream"] == [[var.stream_arn]]
    error_message = "The processor may read the given stream only."
  }
}

run "audience_indexes_let_the_processor_query_exactly_those_indexes" {
  command = plan

  module {
    source = "./modules/incident-stream"
  }

  variables {
    audience_indexes = {
      history = {
        name       = "audience"
        arn        = "arn:aws:dynamodb:eu-west-1:123456789012:table/IncidentWebSocketConnections/index/audience"
        query_from = "2026-01-01T02:05:10Z"
      }
    }
  }

  assert {
    condition     = jsondecode(module.function.environment_variables.AUDIENCE_INDEXES) == { history = { index = "audience", query_from = "2026-01-01T02:05:10Z" } }
    error_message = "AUDIENCE_INDEXES must give each channel's index name and the time from which to query it."
  }

  assert {
    condition = [
      for statement in jsondecode(module.function.policy).Statement : [statement.Action, statement.Resource]
      if statement.Sid == "QueryAudienceIndexes"
    ] == [[["dynamodb:Query"], ["arn:aws:dynamodb:eu-west-1:123456789012:table/IncidentWebSocketConnections/index/audience"]]]
    error_message = "The processor may Query the given audience indexes only (not their tables)."
  }

  assert {
    condition = alltrue([
      for statement in jsondecode(module.function.policy).Statement :
      !contains(flatten([statement.Action]), "dynamodb:Query") || statement.Sid == "QueryAudienceIndexes"
    ])
    error_message = "No other statement may allow dynamodb:Query."
  }
}

run "without_audience_indexes_the_processor_may_not_query" {
  command = plan

  module {
    source = "./modules/incident-stream"
  }

  assert {
    condition     = !contains(keys(module.function.environment_variables), "AUDIENCE_INDEXES")
    error_message = "Without audience indexes AUDIENCE_INDEXES must be absent (every read is a Scan)."
  }

  assert {
    condition     = !contains([for statement in jsondecode(module.function.policy).Statement : statement.Sid], "QueryAudienceIndexes")
    error_message = "Without audience indexes the processor must not be allowed to Query."
  }
}

run "audience_indexes_of_channels_not_fanned_out_to_are_refused" {
  command = plan

  module {
    source = "./modules/incident-stream"
  }

  variables {
    audience_indexes = {
      events = { name = "audience", arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/Events/index/audience", query_from = "2026-01-01T02:05:10Z" }
    }
  }

  expect_failures = [var.audience_indexes]
}

run "fanout_worker_takes_its_own_memory_else_the_stream_processors" {
  command = plan

  module {
    source = "./modules/incident-stream"
  }

  variables {
    worker_memory_size = 1024
  }

  assert {
    condition     = module.fanout_worker.memory_size == 1024 && module.function.memory_size == 256
    error_message = "worker_memory_size must set the fan-out worker's memory and leave the stream processor's lambda.memory_size."
  }
}

run "fanout_worker_defaults_to_the_stream_processors_memory" {
  command = plan

  module {
    source = "./modules/incident-stream"
  }

  assert {
    condition     = module.fanout_worker.memory_size == 256
    error_message = "Without worker_memory_size the fan-out worker must take lambda.memory_size."
  }
}
