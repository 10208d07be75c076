locals {
  # Settings every function shares; each module adds a function's own name, package, timeout,
  # environment and permissions (and may override one of these with merge(local.lambda, {...})).
  lambda = {
    packages_dir              = coalesce(var.function_packages_dir, "${path.module}/functions/dist")
    runtime                   = var.lambda_runtime
    architecture              = var.lambda_architecture
    memory_size               = var.lambda_memory_size
    log_retention_in_days     = var.log_retention_in_days
    role_permissions_boundary = var.iam_role_permissions_boundary
  }
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

  lambda   = local.lambda
  timeouts = var.lambda_timeouts
  tags     = var.tags
}

################################################################################
# Fan-out: the channels each broadcasting function reaches
################################################################################

module "fan_out" {
  source = "./modules/fan-out"
  for_each = {
    stream_processor = distinct(flatten(values(var.stream_routes)))
    heartbeat        = keys(var.channels)
  }

  channels        = { for key in each.value : key => module.channel[key] }
  max_concurrency = var.max_concurrency
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

  batch_size                         = var.stream_batch_size
  maximum_batching_window_in_seconds = var.stream_maximum_batching_window_in_seconds
  maximum_retry_attempts             = var.stream_maximum_retry_attempts
  maximum_record_age_in_seconds      = var.stream_maximum_record_age_in_seconds
  parallelization_factor             = var.stream_parallelization_factor
  starting_position                  = var.stream_starting_position

  lambda  = local.lambda
  timeout = var.lambda_timeouts.stream_processor
  tags    = var.tags
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

  lambda  = local.lambda
  timeout = var.lambda_timeouts.heartbeat
  tags    = var.tags
}
