data "aws_partition" "current" {}

locals {
  name = "${var.name_prefix}-${var.channel}"

  # The execution ARN is arn:<partition>:execute-api:<region>:<account>:<api-id>; reading the
  # region from it keeps off data.aws_region, whose `name` provider 6 deprecates (its
  # replacement, `region`, does not exist in 5.x).
  region      = split(":", aws_apigatewayv2_api.this.execution_arn)[3]
  api_host    = "${aws_apigatewayv2_api.this.id}.execute-api.${local.region}.${data.aws_partition.current.dns_suffix}"
  ttl_enabled = var.connection_ttl_seconds > 0

  # Any change to a route, an integration or the authorizer must produce a new deployment, or the
  # stage keeps serving the old configuration. `region`, which provider 6 adds to every resource,
  # is left out: upgrading the provider alone must not redeploy.
  deployment_hash = sha1(jsonencode([
    for resources in [aws_apigatewayv2_route.this, aws_apigatewayv2_integration.this, aws_apigatewayv2_authorizer.this] : {
      for key, resource in resources : key => { for name, value in resource : name => value if name != "region" }
    }
  ]))

  jwt = var.authorization.type == "jwt"

  # What every function of the channel is told; each route's function adds its own settings.
  channel_environment = {
    CONNECTIONS_TABLE = aws_dynamodb_table.this.name
    CHANNEL_NAME      = var.channel
  }

  # One function per lifecycle route, each allowed exactly the one table action it performs.
  # Only $connect can carry authorization in a WebSocket API.
  routes = {
    connect = {
      route_key          = "$connect"
      authorization_type = { jwt = "CUSTOM", iam = "AWS_IAM", none = "NONE" }[var.authorization.type]
      description        = "Stores a new connection of the ${var.channel} channel"
      environment = merge(local.channel_environment, {
        CONNECTION_TTL_SECONDS = tostring(var.connection_ttl_seconds)
        STORE_SOURCE_IP        = tostring(var.store_source_ip)
        AUTHORIZATION_TYPE     = var.authorization.type
      })
      table_actions = ["dynamodb:PutItem"]
      kms_actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    }
    disconnect = {
      route_key          = "$disconnect"
      authorization_type = "NONE"
      description        = "Removes a closed connection of the ${var.channel} channel"
      environment        = local.channel_environment
      table_actions      = ["dynamodb:DeleteItem"]
      kms_actions        = ["kms:Decrypt"]
    }
  }

  # With JWT authorization, a third function verifies the token of every new connection. It calls
  # no AWS API: it reads nothing of the channel and may only write its own logs.
  authorizer = {
    description = "Verifies the OIDC token of a new connection of the ${var.channel} channel"
    environment = merge(
      {
        OIDC_ISSUER    = var.authorization.issuer
        OIDC_AUDIENCES = join(",", var.authorization.audiences)
      },
      var.authorization.accounts_claim == null ? {} : { ACCOUNTS_CLAIM = var.authorization.accounts_claim },
      length(var.authorization.allowed_origins) == 0 ? {} : { ALLOWED_ORIGINS = join(",", var.authorization.allowed_origins) },
    )
    table_actions = []
    kms_actions   = []
  }
  functions = merge(local.routes, local.jwt ? { authorizer = local.authorizer } : {})

  # Who may invoke each function: its route of this stage, or the API's authorizer.
  invoke_source_arns = merge(
    { for key, route in local.routes : key => "${aws_apigatewayv2_api.this.execution_arn}/${aws_apigatewayv2_stage.this.name}/${route.route_key}" },
    { for authorizer in aws_apigatewayv2_authorizer.this : "authorizer" => "${aws_apigatewayv2_api.this.execution_arn}/authorizers/${authorizer.id}" },
  )

  # One JSON object per connect, disconnect and message: who, from where, and what came of it.
  access_log_format = jsonencode({
    requestId       = "$context.requestId"
    time            = "$context.requestTime"
    epochMs         = "$context.requestTimeEpoch"
    eventType       = "$context.eventType"
    routeKey        = "$context.routeKey"
    connectionId    = "$context.connectionId"
    sourceIp        = "$context.identity.sourceIp"
    userAgent       = "$context.identity.userAgent"
    principal       = "$context.authorizer.principalId"
    accounts        = "$context.authorizer.accounts"
    userArn         = "$context.identity.userArn"
    status          = "$context.status"
    error           = "$context.error.message"
    authorizerError = "$context.authorizer.error"
  })
}

################################################################################
# Connections table
################################################################################

resource "aws_dynamodb_table" "this" {
  name         = coalesce(var.connections_table_name, "${local.name}-connections")
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
  for_each = local.functions

  function_name         = "${local.name}-${each.key}"
  description           = each.value.description
  package               = each.key
  timeout               = var.timeouts[each.key]
  environment_variables = each.value.environment

  reserved_concurrent_executions = lookup(var.reserved_concurrency, each.key, null)

  policy_statements = length(each.value.table_actions) == 0 ? {} : {
    ConnectionsTable = {
      actions   = each.value.table_actions
      resources = [aws_dynamodb_table.this.arn]
    }
  }
  kms_key_arn = var.kms_key_arn
  kms_actions = each.value.kms_actions

  lambda = var.lambda
  tags   = var.tags
}

resource "aws_lambda_permission" "this" {
  for_each = local.invoke_source_arns

  statement_id  = "AllowInvokeFromApiGateway"
  action        = "lambda:InvokeFunction"
  function_name = module.function[each.key].function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = each.value
}

################################################################################
# WebSocket API
################################################################################

resource "aws_apigatewayv2_api" "this" {
  name                       = local.name
  description                = "Real-time ${var.channel} channel"
  protocol_type              = "WEBSOCKET"
  route_selection_expression = "$request.body.action"

  tags = merge(var.tags, { "incident-websocket:channel" = var.channel })
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

  api_id             = aws_apigatewayv2_api.this.id
  route_key          = each.value.route_key
  target             = "integrations/${aws_apigatewayv2_integration.this[each.key].id}"
  authorization_type = each.value.authorization_type
  authorizer_id      = each.value.authorization_type == "CUSTOM" ? one(aws_apigatewayv2_authorizer.this[*].id) : null
}

# A Lambda REQUEST authorizer (WebSocket APIs have no JWT authorizer of their own). No identity
# sources: the token may come from the query string, a header or the subprotocol, and API Gateway
# answers 401 without calling the function when a listed source is missing. WebSocket APIs take
# no payload format version and cache no authorizer results.
resource "aws_apigatewayv2_authorizer" "this" {
  count = local.jwt ? 1 : 0

  api_id          = aws_apigatewayv2_api.this.id
  name            = "${local.name}-authorizer"
  authorizer_type = "REQUEST"
  authorizer_uri  = module.function["authorizer"].invoke_arn
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

  dynamic "access_log_settings" {
    for_each = var.access_log_group_arn == null ? [] : [var.access_log_group_arn]

    content {
      destination_arn = access_log_settings.value
      format          = local.access_log_format
    }
  }

  # Explicit limits: a stage left at 0 would reject every request. Data tracing stays off because
  # it would write message bodies (incident data) to CloudWatch Logs.
  default_route_settings {
    throttling_burst_limit = var.throttling_burst_limit
    throttling_rate_limit  = var.throttling_rate_limit
    data_trace_enabled     = false
  }

  tags = var.tags

  # API Gateway refuses access logging until the account's CloudWatch role is set.
  depends_on = [var.api_gateway_cloudwatch_role_arn]
}
