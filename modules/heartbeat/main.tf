################################################################################
# Heartbeat function
################################################################################

module "function" {
  source = "../lambda-function"

  function_name             = "${var.name}-heartbeat"
  description               = "Pings every WebSocket connection and removes the ones that are gone"
  filename                  = var.package
  runtime                   = var.lambda_runtime
  architecture              = var.lambda_architecture
  memory_size               = var.lambda_memory_size
  timeout                   = var.lambda_timeout
  log_retention_in_days     = var.log_retention_in_days
  role_permissions_boundary = var.iam_role_permissions_boundary

  environment_variables = {
    CHANNELS = jsonencode({
      for key, channel in var.channels : key => {
        table    = channel.table_name
        endpoint = channel.management_endpoint
      }
    })
    MAX_CONCURRENCY = tostring(var.max_concurrency)
  }

  policy_statements = merge(
    {
      ConnectionsTables = {
        actions   = ["dynamodb:Scan", "dynamodb:DeleteItem"]
        resources = [for channel in var.channels : channel.table_arn]
      }
      PostToConnections = {
        actions   = ["execute-api:ManageConnections"]
        resources = [for channel in var.channels : channel.manage_connections_arn]
      }
    },
    var.kms_key_arn == null ? {} : {
      ConnectionsTablesKey = {
        actions   = ["kms:Decrypt"]
        resources = [var.kms_key_arn]
      }
    },
  )

  tags = var.tags
}

################################################################################
# Schedule
################################################################################

resource "aws_cloudwatch_event_rule" "this" {
  name                = "${var.name}-heartbeat"
  description         = "Keeps idle WebSocket connections open and cleans up gone ones"
  schedule_expression = var.schedule_expression

  tags = var.tags
}

resource "aws_cloudwatch_event_target" "this" {
  rule = aws_cloudwatch_event_rule.this.name
  arn  = module.function.function_arn
}

resource "aws_lambda_permission" "this" {
  statement_id  = "AllowInvokeFromSchedule"
  action        = "lambda:InvokeFunction"
  function_name = module.function.function_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.this.arn
}
