################################################################################
# Dead-letter queue
################################################################################

# Connection changes the function could not announce, after the mapping's retries.
resource "aws_sqs_queue" "this" {
  name                      = "${var.function_name}-dlq"
  message_retention_seconds = 1209600 # 14 days, the longest SQS keeps a message
  sqs_managed_sse_enabled   = var.kms_key_arn == null ? true : null
  kms_master_key_id         = var.kms_key_arn

  tags = var.tags
}

################################################################################
# Presence function
################################################################################

module "function" {
  source = "../lambda-function"

  function_name         = var.function_name
  description           = "Tells the WebSocket channels who is connected"
  package               = "presence"
  timeout               = var.timeout
  environment_variables = var.fan_out.environment_variables

  policy_statements = merge(var.fan_out.policy_statements, {
    ReadConnectionsStreams = {
      actions = [
        "dynamodb:DescribeStream",
        "dynamodb:GetRecords",
        "dynamodb:GetShardIterator",
        "dynamodb:ListStreams",
      ]
      resources = [for channel in var.channels : channel.connections_table_stream_arn]
    }
    DeadLetterQueue = {
      actions   = ["sqs:SendMessage"]
      resources = [aws_sqs_queue.this.arn]
    }
  })
  # Decrypt: the streams and tables; GenerateDataKey: the queue.
  kms_key_arn = var.kms_key_arn
  kms_actions = distinct(concat(var.fan_out.kms_actions, ["kms:Decrypt", "kms:GenerateDataKey"]))

  lambda = var.lambda
  tags   = var.tags
}

################################################################################
# Connections streams
################################################################################

# A connect is an INSERT and a disconnect or TTL expiry a REMOVE; the MODIFY that marks a gone
# connection before its removal never invokes the function. A presence event that could not be
# announced within 10 minutes would be stale: it goes to the queue instead.
resource "aws_lambda_event_source_mapping" "this" {
  for_each = var.channels

  event_source_arn               = each.value.connections_table_stream_arn
  function_name                  = module.function.function_arn
  starting_position              = "LATEST"
  batch_size                     = 100
  maximum_retry_attempts         = 3
  maximum_record_age_in_seconds  = 600
  bisect_batch_on_function_error = true
  function_response_types        = ["ReportBatchItemFailures"]

  filter_criteria {
    filter {
      pattern = jsonencode({ eventName = ["INSERT", "REMOVE"] })
    }
  }

  destination_config {
    on_failure {
      destination_arn = aws_sqs_queue.this.arn
    }
  }
}

################################################################################
# Presence routes
################################################################################

# Each channel's `presence` route (modules/websocket-channel) invokes this function by name.
resource "aws_lambda_permission" "this" {
  for_each = var.channels

  statement_id  = "AllowInvokeFromPresenceRoute-${each.key}"
  action        = "lambda:InvokeFunction"
  function_name = module.function.function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = each.value.presence_source_arn
}
