data "aws_partition" "current" {}

locals {
  name = "${var.name_prefix}-${var.channel}"

  # The execution ARN is arn:<partition>:execute-api:<region>:<account>:<api-id>; reading the
  # region from it keeps off data.aws_region, whose `name` provider 6 deprecates (its
  # replacement, `region`, does not exist in 5.x).
  region      = split(":", aws_apigatewayv2_api.this.execution_arn)[3]
  account_id  = split(":", aws_apigatewayv2_api.this.execution_arn)[4]
  api_host    = "${aws_apigatewayv2_api.this.id}.execute-api.${local.region}.${data.aws_partition.current.dns_suffix}"
  ttl_enabled = var.connection_ttl_seconds > 0

  # Built from the stage's name rather than the stage: the functions that post to the channel's
  # clients are created before the deployment that routes to them.
  stage_path             = "${aws_apigatewayv2_api.this.execution_arn}/${var.stage_name}"
  management_endpoint    = "https://${local.api_host}/${var.stage_name}"
  manage_connections_arn = "${local.stage_path}/POST/@connections/*"

  # Any change to a route, an integration or the authorizer must produce a new deployment, or the
  # stage keeps serving the old configuration. `region`, which provider 6 adds to every resource,
  # is left out: upgrading the provider alone must not redeploy.
  deployment_hash = sha1(jsonencode([
    for resources in [aws_apigatewayv2_route.this, aws_apigatewayv2_integration.this, aws_apigatewayv2_authorizer.this] : {
      for key, resource in resources : key => { for name, value in resource : name => value if name != "region" }
    }
  ]))

  audience_index            = "audience"
  audience_index_query_from = timeadd(terraform_data.audience_index.output, "${7200 + var.timeouts.connect + 300}s")

  jwt         = var.authorization.type == "jwt"
  message_log = var.message_log != null
  presence    = var.presence_function_name != null

  # What every function of the channel is told; each function adds its own settings.
  channel_environment = {
    CONNECTIONS_TABLE = aws_dynamodb_table.this.name
    CHANNEL_NAME      = var.channel
  }

  # The channel's own functions, each allowed exactly what it does. Only $connect can carry
  # authorization in a WebSocket API; the authorizer calls no AWS API and may only write its logs.
  functions = merge(
    {
      connect = {
        description = "Stores a new connection of the ${var.channel} channel"
        environment = merge(local.channel_environment, {
          CONNECTION_TTL_SECONDS = tostring(var.connection_ttl_seconds)
          STORE_SOURCE_IP        = tostring(var.store_source_ip)
          AUTHORIZATION_TYPE     = var.authorization.type
        })
        policy_statements = { ConnectionsTable = { actions = ["dynamodb:PutItem"], resources = [aws_dynamodb_table.this.arn] } }
        kms_actions       = ["kms:Decrypt", "kms:GenerateDataKey"]
      }
      disconnect = {
        description       = "Removes a closed connection of the ${var.channel} channel"
        environment       = local.channel_environment
        policy_statements = { ConnectionsTable = { actions = ["dynamodb:DeleteItem"], resources = [aws_dynamodb_table.this.arn] } }
        kms_actions       = ["kms:Decrypt"]
      }
    },
    # Replay reads the requester's row (its filters and scope), then the log, and posts to it.
    local.message_log ? {
      replay = {
        description = "Sends a client of the ${var.channel} channel the logged messages it missed"
        environment = merge(local.channel_environment, {
          MESSAGES_TABLE      = aws_dynamodb_table.messages[0].name
          MANAGEMENT_ENDPOINT = local.management_endpoint
          REPLAY_MAX_MESSAGES = tostring(var.message_log.replay_max_messages)
        })
        policy_statements = {
          ConnectionsTable  = { actions = ["dynamodb:GetItem"], resources = [aws_dynamodb_table.this.arn] }
          MessageLog        = { actions = ["dynamodb:Query"], resources = [aws_dynamodb_table.messages[0].arn] }
          PostToConnections = { actions = ["execute-api:ManageConnections"], resources = [local.manage_connections_arn] }
        }
        kms_actions = ["kms:Decrypt"]
      }
    } : {},
    local.jwt ? {
      authorizer = {
        description = "Verifies the OIDC token of a new connection of the ${var.channel} channel"
        environment = merge(
          {
            CHANNEL_NAME   = var.channel
            OIDC_ISSUER    = var.authorization.issuer
            OIDC_AUDIENCES = join(",", var.authorization.audiences)
          },
          var.authorization.accounts_claim == null ? {} : { ACCOUNTS_CLAIM = var.authorization.accounts_claim },
          length(var.authorization.allowed_origins) == 0 ? {} : { ALLOWED_ORIGINS = join(",", var.authorization.allowed_origins) },
        )
        policy_statements = {}
        kms_actions       = []
      }
    } : {},
  )

  # The API's routes, keyed like the functions they invoke. `replay` and `presence` are frames a
  # client sends ({"action": "replay", ...}); other actions keep API Gateway's own answer.
  routes = merge(
    {
      connect    = { route_key = "$connect", authorization_type = { jwt = "CUSTOM", iam = "AWS_IAM", none = "NONE" }[var.authorization.type] }
      disconnect = { route_key = "$disconnect", authorization_type = "NONE" }
    },
    local.message_log ? { replay = { route_key = "replay", authorization_type = "NONE" } } : {},
    local.presence ? { presence = { route_key = "presence", authorization_type = "NONE" } } : {},
  )

  # The shared presence function is addressed by its name: it reads this channel's table, stream
  # and endpoint, so a reference to the function itself would be a cycle. Its module grants the
  # invoke permission for this route.
  integration_uris = merge(
    { for key, function in module.function : key => function.invoke_arn },
    local.presence ? {
      presence = "arn:${data.aws_partition.current.partition}:apigateway:${local.region}:lambda:path/2015-03-31/functions/arn:${data.aws_partition.current.partition}:lambda:${local.region}:${local.account_id}:function:${var.presence_function_name}/invocations"
    } : {},
  )

  # Who may invoke each of the channel's functions: its route of this stage, or the authorizer.
  invoke_source_arns = merge(
    { for key, route in local.routes : key => "${local.stage_path}/${route.route_key}" if contains(keys(local.functions), key) },
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

  # With presence, every connect and disconnect (and TTL expiry) reaches the presence function.
  stream_enabled   = local.presence
  stream_view_type = local.presence ? "NEW_AND_OLD_IMAGES" : null

  attribute {
    name = "connectionId"
    type = "S"
  }

  attribute {
    name = "audience"
    type = "S"
  }

  # A batch of one account's messages reads only the connections of that account's audience and
  # of `*` (docs/handlers.md, "Which connections are read"), with what delivery needs of them.
  # The sort key lets DynamoDB split the busy `*` partition.
  global_secondary_index {
    name               = local.audience_index
    hash_key           = "audience"
    range_key          = "connectionId"
    projection_type    = "INCLUDE"
    non_key_attributes = ["account", "accounts", "region", "ttl"]
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

# When the index and the `$connect` that writes `audience` were in place: kept from the first
# apply on (timestamp() alone would change on every plan). Connections stored before it have no
# `audience`; API Gateway closes every connection within 2 hours, so the index holds every open
# one from `audience_index_query_from` on, which also allows for a `$connect` still running the
# old code and for clocks 5 minutes apart.
resource "terraform_data" "audience_index" {
  input = timestamp()

  lifecycle {
    ignore_changes = [input]
  }

  depends_on = [aws_dynamodb_table.this, module.function]
}

################################################################################
# Message log
################################################################################

# Every message the stream processor posted on this channel, kept until `ttl` for clients that
# replay what they missed: one item per message, in id order within the channel's partition.
resource "aws_dynamodb_table" "messages" {
  count = local.message_log ? 1 : 0

  name         = coalesce(var.message_log.table_name, "${local.name}-messages")
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "channel"
  range_key    = "id"

  attribute {
    name = "channel"
    type = "S"
  }

  attribute {
    name = "id"
    type = "S"
  }

  ttl {
    enabled        = true
    attribute_name = "ttl"
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.kms_key_arn
  }

  # Messages live for the retention only: a backup would outlive them.
  point_in_time_recovery {
    enabled = false
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

  policy_statements = each.value.policy_statements
  kms_key_arn       = var.kms_key_arn
  kms_actions       = each.value.kms_actions

  lambda = merge(var.lambda, { memory_size = coalesce(var.memory_sizes[each.key], lookup(var.lambda, "memory_size", null)) })
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
  integration_uri    = local.integration_uris[each.key]
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
