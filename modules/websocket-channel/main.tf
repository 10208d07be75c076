data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  api_host    = "${aws_apigatewayv2_api.this.id}.execute-api.${data.aws_region.current.name}.${data.aws_partition.current.dns_suffix}"
  ttl_enabled = var.connection_ttl_seconds > 0

  # Any change to a route or an integration (and to authorizers, once there are any) must produce
  # a new deployment, or the stage keeps serving the old configuration.
  deployment_hash = sha1(jsonencode([
    aws_apigatewayv2_route.this,
    aws_apigatewayv2_integration.this,
  ]))

  # One function per lifecycle route, each allowed exactly the one table action it performs.
  routes = {
    connect = {
      route_key   = "$connect"
      description = "Stores a new connection of the ${var.channel_key} channel"
      package     = var.connect_package
      environment = {
        CONNECTIONS_TABLE      = aws_dynamodb_table.this.name
        CHANNEL_NAME           = var.channel_key
        CONNECTION_TTL_SECONDS = tostring(var.connection_ttl_seconds)
        STORE_SOURCE_IP        = tostring(var.store_source_ip)
      }
      table_actions = ["dynamodb:PutItem"]
      kms_actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    }
    disconnect = {
      route_key   = "$disconnect"
      description = "Removes a closed connection of the ${var.channel_key} channel"
      package     = var.disconnect_package
      environment = {
        CONNECTIONS_TABLE = aws_dynamodb_table.this.name
        CHANNEL_NAME      = var.channel_key
      }
      table_actions = ["dynamodb:DeleteItem"]
      kms_actions   = ["kms:Decrypt"]
    }
  }
}

################################################################################
# Connections table
################################################################################

resource "aws_dynamodb_table" "this" {
  name         = var.connections_table_name
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "connectionId"

  attribute {
    name = "connectionId"
    type = "S"
  }

  # attribute_name stays set when TTL is off: DynamoDB needs it to disable TTL, and the provider
  # accepts it with enabled = false since 5.76 (an empty name fails the UpdateTimeToLive call).
  ttl {
    enabled        = local.ttl_enabled
    attribute_name = "ttl"
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
# Functions
################################################################################

module "function" {
  source   = "../lambda-function"
  for_each = local.routes

  function_name             = "${var.name}-${each.key}"
  description               = each.value.description
  filename                  = each.value.package
  runtime                   = var.lambda_runtime
  architecture              = var.lambda_architecture
  memory_size               = var.lambda_memory_size
  timeout                   = var.lambda_timeouts[each.key]
  log_retention_in_days     = var.log_retention_in_days
  role_permissions_boundary = var.iam_role_permissions_boundary
  environment_variables     = each.value.environment

  policy_statements = merge(
    {
      ConnectionsTable = {
        actions   = each.value.table_actions
        resources = [aws_dynamodb_table.this.arn]
      }
    },
    var.kms_key_arn == null ? {} : {
      ConnectionsTableKey = {
        actions   = each.value.kms_actions
        resources = [var.kms_key_arn]
      }
    },
  )

  tags = var.tags
}

resource "aws_lambda_permission" "this" {
  for_each = local.routes

  statement_id  = "AllowInvokeFromApiGateway"
  action        = "lambda:InvokeFunction"
  function_name = module.function[each.key].function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_apigatewayv2_api.this.execution_arn}/${aws_apigatewayv2_stage.this.name}/${each.value.route_key}"
}

################################################################################
# WebSocket API
################################################################################

resource "aws_apigatewayv2_api" "this" {
  name                       = var.name
  description                = "Real-time ${var.channel_key} channel"
  protocol_type              = "WEBSOCKET"
  route_selection_expression = "$request.body.action"

  tags = merge(var.tags, { "incident-websocket:channel" = var.channel_key })
}

resource "aws_apigatewayv2_integration" "this" {
  for_each = local.routes

  api_id             = aws_apigatewayv2_api.this.id
  integration_type   = "AWS_PROXY"
  integration_method = "POST"
  integration_uri    = module.function[each.key].invoke_arn
}

resource "aws_apigatewayv2_route" "this" {
  for_each = local.routes

  api_id    = aws_apigatewayv2_api.this.id
  route_key = each.value.route_key
  target    = "integrations/${aws_apigatewayv2_integration.this[each.key].id}"
}

resource "aws_apigatewayv2_deployment" "this" {
  api_id      = aws_apigatewayv2_api.this.id
  description = "Routes and integrations ${substr(local.deployment_hash, 0, 12)}"

  triggers = {
    redeployment = local.deployment_hash
  }

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_apigatewayv2_stage" "this" {
  api_id        = aws_apigatewayv2_api.this.id
  name          = var.stage_name
  deployment_id = aws_apigatewayv2_deployment.this.id

  # Explicit limits: a stage left at 0 would reject every request. Data tracing stays off because
  # it would write message bodies (incident data) to CloudWatch Logs.
  default_route_settings {
    throttling_burst_limit = var.throttling_burst_limit
    throttling_rate_limit  = var.throttling_rate_limit
    data_trace_enabled     = false
  }

  tags = var.tags
}
