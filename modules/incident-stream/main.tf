locals {
  stream_arn = var.create_table ? aws_dynamodb_table.this[0].stream_arn : var.stream_arn

  # A stream ARN is `<table-arn>/stream/<label>`.
  table_arn  = var.create_table ? aws_dynamodb_table.this[0].arn : join("/", slice(split("/", var.stream_arn), 0, 2))
  table_name = var.create_table ? aws_dynamodb_table.this[0].name : split("/", var.stream_arn)[1]
}

################################################################################
# Incident table
################################################################################

resource "aws_dynamodb_table" "this" {
  count = var.create_table ? 1 : 0

  name             = var.table_name
  billing_mode     = "PAY_PER_REQUEST"
  hash_key         = var.hash_key
  range_key        = var.range_key
  stream_enabled   = true
  stream_view_type = var.stream_view_type

  deletion_protection_enabled = var.deletion_protection

  dynamic "attribute" {
    for_each = compact([var.hash_key, var.range_key])

    content {
      name = attribute.value
      type = "S"
    }
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.kms_key_arn
  }

  point_in_time_recovery {
    enabled = var.point_in_time_recovery
  }

  tags = var.tags
}

################################################################################
# Dead-letter queue
################################################################################

resource "aws_sqs_queue" "this" {
  name                      = "${var.name_prefix}-stream-processor-dlq"
  message_retention_seconds = var.dead_letter_queue_retention_seconds
  sqs_managed_sse_enabled   = var.kms_key_arn == null ? true : null
  kms_master_key_id         = var.kms_key_arn

  tags = var.tags
}

moved {
  from = aws_sqs_queue.dlq
  to   = aws_sqs_queue.this
}

################################################################################
# Stream processor
################################################################################

module "function" {
  source = "../lambda-function"

  function_name = "${var.name_prefix}-stream-processor"
  description   = "Broadcasts incident and remediation changes to the WebSocket channels"
  package       = "stream_processor"
  timeout       = var.timeout

  environment_variables = merge(
    var.fan_out.environment_variables,
    {
      ROUTES                         = jsonencode(var.message_routing)
      FAN_OUT_WORKER_FUNCTION        = module.fanout_worker.function_name
      FAN_OUT_CONNECTIONS_PER_WORKER = tostring(var.sharding.connections_per_worker)
      FAN_OUT_MAX_WORKERS            = tostring(var.sharding.max_workers)
    },
    length(var.audience_indexes) == 0 ? {} : {
      AUDIENCE_INDEXES = jsonencode({
        for channel, index in var.audience_indexes : channel => { index = index.name, query_from = index.query_from }
      })
    },
  )

  policy_statements = merge(
    var.fan_out.policy_statements,
    {
      ReadIncidentStream = {
        actions = [
          "dynamodb:DescribeStream",
          "dynamodb:GetRecords",
          "dynamodb:GetShardIterator",
          "dynamodb:ListStreams",
        ]
        resources = [local.stream_arn]
      }
      DeadLetterQueue = {
        actions   = ["sqs:SendMessage"]
        resources = [aws_sqs_queue.this.arn]
      }
      # How many connections a channel has (ItemCount), to decide how many workers share it.
      CountConnections = {
        actions   = ["dynamodb:DescribeTable"]
        resources = var.fan_out.policy_statements.ConnectionsTables.resources
      }
      InvokeFanOutWorker = {
        actions   = ["lambda:InvokeFunction"]
        resources = [module.fanout_worker.function_arn]
      }
    },
    # A batch of one account's messages reads only that account's connections and those of `*`.
    length(var.audience_indexes) == 0 ? {} : {
      QueryAudienceIndexes = {
        actions   = ["dynamodb:Query"]
        resources = [for index in values(var.audience_indexes) : index.arn]
      }
    },
  )
  # Decrypt: the incident stream (and the connections tables); GenerateDataKey: the queue.
  kms_key_arn = var.kms_key_arn
  kms_actions = distinct(concat(var.fan_out.kms_actions, ["kms:Decrypt", "kms:GenerateDataKey"]))

  lambda = var.lambda
  tags   = var.tags
}

################################################################################
# Fan-out worker: one parallel-Scan segment of a large channel, for the stream processor
################################################################################

module "fanout_worker" {
  source = "../lambda-function"

  function_name = "${var.name_prefix}-fanout-worker"
  description   = "Posts a stream batch to one segment of a large channel's connections for the stream processor"
  package       = "fanout_worker"
  timeout       = coalesce(var.worker_timeout, max(10, var.timeout - 10))

  environment_variables = var.worker_fan_out.environment_variables
  policy_statements     = var.worker_fan_out.policy_statements
  kms_key_arn           = var.kms_key_arn
  kms_actions           = var.worker_fan_out.kms_actions

  lambda = merge(var.lambda, { memory_size = coalesce(var.worker_memory_size, var.lambda.memory_size) })
  tags   = var.tags
}

################################################################################
# Event source mapping
################################################################################

resource "aws_lambda_event_source_mapping" "this" {
  event_source_arn                   = local.stream_arn
  function_name                      = module.function.function_arn
  starting_position                  = var.starting_position
  batch_size                         = var.batch_size
  maximum_batching_window_in_seconds = var.maximum_batching_window_in_seconds
  maximum_retry_attempts             = var.maximum_retry_attempts
  maximum_record_age_in_seconds      = var.maximum_record_age_in_seconds
  parallelization_factor             = var.parallelization_factor
  bisect_batch_on_function_error     = true
  function_response_types            = ["ReportBatchItemFailures"]

  # REMOVE records (including TTL expiries) never reach the function, so they cost nothing.
  filter_criteria {
    filter {
      pattern = jsonencode({ eventName = ["INSERT", "MODIFY"] })
    }
  }

  destination_config {
    on_failure {
      destination_arn = aws_sqs_queue.this.arn
    }
  }
}
