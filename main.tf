locals {
  # Settings every function shares; each module adds a function's own name, package, memory,
  # timeout, environment and permissions.
  lambda = {
    packages_dir              = coalesce(var.function_packages_dir, "${path.module}/functions/dist")
    runtime                   = var.lambda_runtime
    architecture              = var.lambda_architecture
    log_retention_in_days     = var.log_retention_in_days
    log_group_kms_key_arn     = var.kms_key_arn
    role_permissions_boundary = var.iam_role_permissions_boundary
    metrics_namespace         = local.metrics_namespace
  }

  # Each function's memory: its own setting, else the one for all, else its default (from
  # `python -m dev.bench.sizing`; tests/docs keeps them equal).
  default_memory_sizes = {
    connect          = 576
    disconnect       = 256
    authorizer       = 128
    replay           = 640
    stream_processor = 960
    heartbeat        = 960
    presence         = 960
    fanout_worker    = 960
    findings         = 192
  }
  memory_sizes = {
    for function, default in local.default_memory_sizes :
    function => coalesce(var.lambda_memory_sizes[function], var.lambda_memory_size, default)
  }

  # Per deployment by default, so that two deployments in one account never mix their metrics.
  metrics_namespace = coalesce(var.metrics_namespace, "IncidentWebSocket/${var.name_prefix}")

  # One function tells every channel with presence who is connected.
  presence_channels      = [for key, channel in var.channels : key if channel.presence]
  presence_function_name = "${var.name_prefix}-presence"
}

################################################################################
# Channels
################################################################################

module "channel" {
  source   = "./modules/websocket-channel"
  for_each = var.channels

  name_prefix            = var.name_prefix
  channel                = each.key
  stage_name             = each.value.stage_name
  throttling_burst_limit = each.value.throttling_burst_limit
  throttling_rate_limit  = each.value.throttling_rate_limit
  connections_table_name = each.value.connections_table_name
  connection_ttl_seconds = each.value.connection_ttl_seconds
  store_source_ip        = each.value.store_source_ip
  point_in_time_recovery = each.value.point_in_time_recovery
  kms_key_arn            = var.kms_key_arn

  # A channel's own authorization replaces the root setting as a whole.
  authorization   = each.value.authorization != null ? each.value.authorization : var.authorization
  data_attributes = each.value.data_attributes

  message_log = var.message_log.enabled ? {
    table_name          = each.value.messages_table_name
    replay_max_messages = var.message_log.replay_max_messages
  } : null
  presence_function_name = each.value.presence ? local.presence_function_name : null

  access_log_group_arn            = try(aws_cloudwatch_log_group.access[each.key].arn, null)
  api_gateway_cloudwatch_role_arn = one(aws_api_gateway_account.this[*].cloudwatch_role_arn)

  lambda               = local.lambda
  memory_sizes         = { for function in ["connect", "disconnect", "authorizer", "replay"] : function => local.memory_sizes[function] }
  timeouts             = var.lambda_timeouts
  reserved_concurrency = var.lambda_reserved_concurrency
  tags                 = var.tags
}

################################################################################
# Fan-out: the channels each broadcasting function reaches
################################################################################

# The stream processor delivers messages to the routed channels and logs them, and shares a large
# channel with the fan-out worker (which logs nothing); the heartbeat pings
# every channel; the presence function announces who joins and leaves the channels with presence.
module "fan_out" {
  source = "./modules/fan-out"
  for_each = merge(
    {
      stream_processor = { channels = distinct(flatten(values(var.stream_routes))), message_log = { retention_seconds = var.message_log.retention_in_hours * 3600 }, presence = false }
      fanout_worker    = { channels = distinct(flatten(values(var.stream_routes))), message_log = null, presence = false }
      heartbeat        = { channels = keys(var.channels), message_log = null, presence = false }
    },
    length(local.presence_channels) == 0 ? {} : { presence = { channels = local.presence_channels, message_log = null, presence = true } },
  )

  channels        = { for key in each.value.channels : key => module.channel[key] }
  max_concurrency = var.max_concurrency
  message_log     = each.value.message_log
  presence        = each.value.presence
}

################################################################################
# Incident stream
################################################################################

module "incident_stream" {
  source = "./modules/incident-stream"

  name_prefix            = var.name_prefix
  create_table           = var.create_incident_table
  table_name             = var.incident_table_name
  hash_key               = var.incident_table_hash_key
  range_key              = var.incident_table_range_key
  stream_view_type       = var.incident_stream_view_type
  stream_arn             = var.incident_stream_arn
  point_in_time_recovery = var.incident_table_point_in_time_recovery
  deletion_protection    = var.incident_table_deletion_protection
  kms_key_arn            = var.kms_key_arn

  message_routing = var.stream_routes
  fan_out         = module.fan_out["stream_processor"]
  worker_fan_out  = module.fan_out["fanout_worker"]
  sharding        = var.fan_out_sharding
  audience_indexes = {
    for key in module.fan_out["stream_processor"].channels : key => {
      name       = module.channel[key].audience_index_name
      arn        = module.channel[key].audience_index_arn
      query_from = module.channel[key].audience_index_query_from
    }
  }

  batch_size                         = var.stream_batch_size
  maximum_batching_window_in_seconds = var.stream_maximum_batching_window_in_seconds
  maximum_retry_attempts             = var.stream_maximum_retry_attempts
  maximum_record_age_in_seconds      = var.stream_maximum_record_age_in_seconds
  parallelization_factor             = var.stream_parallelization_factor
  starting_position                  = var.stream_starting_position

  lambda             = merge(local.lambda, { memory_size = local.memory_sizes.stream_processor })
  timeout            = var.lambda_timeouts.stream_processor
  worker_memory_size = local.memory_sizes.fanout_worker
  worker_timeout     = var.lambda_timeouts.fanout_worker
  tags               = var.tags
}

################################################################################
# Heartbeat
################################################################################

module "heartbeat" {
  source = "./modules/heartbeat"

  name_prefix         = var.name_prefix
  schedule_expression = var.heartbeat_schedule_expression
  fan_out             = module.fan_out["heartbeat"]
  kms_key_arn         = var.kms_key_arn

  lambda  = merge(local.lambda, { memory_size = local.memory_sizes.heartbeat })
  timeout = var.lambda_timeouts.heartbeat
  tags    = var.tags
}

################################################################################
# Presence
################################################################################

module "presence" {
  source = "./modules/presence"
  count  = length(local.presence_channels) == 0 ? 0 : 1

  function_name = local.presence_function_name
  channels      = { for key in local.presence_channels : key => module.channel[key] }
  fan_out       = module.fan_out["presence"]
  kms_key_arn   = var.kms_key_arn

  lambda  = merge(local.lambda, { memory_size = local.memory_sizes.presence })
  timeout = var.lambda_timeouts.presence
  tags    = var.tags
}

################################################################################
# Access logs
################################################################################

# Each channel's stage logs every connect, disconnect and message here: the audit trail that
# outlives the connection's row. The groups live here, beside the account's CloudWatch role that
# API Gateway writes them with, so that the role can be scoped with their account and region.
resource "aws_cloudwatch_log_group" "access" {
  for_each = var.access_logs.enabled ? var.channels : {}

  name              = "/aws/apigateway/${var.name_prefix}-${each.key}"
  retention_in_days = var.access_logs.retention_in_days
  kms_key_id        = var.kms_key_arn

  tags = var.tags
}

################################################################################
# API Gateway account: the CloudWatch role access logs are written with
################################################################################

locals {
  # arn:<partition>:logs:<region>:<account>:log-group:* of the access log groups: every log group
  # of the account and region they are in.
  access_log_region_log_groups = distinct([
    for group in values(aws_cloudwatch_log_group.access) : "${join(":", slice(split(":", group.arn), 0, 5))}:log-group:*"
  ])
}

# Account-wide and per region: every API Gateway API of this account and region logs with this
# role once it is set. Created only when asked for.
resource "aws_iam_role" "api_gateway_cloudwatch" {
  count = var.create_api_gateway_account_role ? 1 : 0

  name                 = "${var.name_prefix}-apigateway-cloudwatch"
  permissions_boundary = var.iam_role_permissions_boundary

  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Principal = { Service = "apigateway.amazonaws.com" } }]
  })

  tags = var.tags
}

# What API Gateway needs to write execution and access logs, on the log groups of this account and
# region only: the role serves every API of the region, so no narrower set of groups will do.
resource "aws_iam_role_policy" "api_gateway_cloudwatch" {
  count = var.create_api_gateway_account_role ? 1 : 0

  name = "${var.name_prefix}-apigateway-cloudwatch"
  role = aws_iam_role.api_gateway_cloudwatch[0].id

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid    = "WriteLogsOfThisAccountAndRegion"
      Effect = "Allow"
      Action = [
        "logs:CreateLogGroup",
        "logs:CreateLogStream",
        "logs:DescribeLogGroups",
        "logs:DescribeLogStreams",
        "logs:PutLogEvents",
        "logs:GetLogEvents",
        "logs:FilterLogEvents",
      ]
      Resource = local.access_log_region_log_groups
    }]
  })
}

resource "aws_api_gateway_account" "this" {
  count = var.create_api_gateway_account_role ? 1 : 0

  cloudwatch_role_arn = aws_iam_role.api_gateway_cloudwatch[0].arn

  # API Gateway checks the role's trust and permissions when it is set.
  depends_on = [aws_iam_role_policy.api_gateway_cloudwatch]
}
