locals {
  packages_dir = coalesce(var.function_packages_dir, "${path.module}/functions/dist")

  # What the stream processor and the heartbeat need to reach a channel.
  channel_targets = {
    for key, channel in module.channel : key => {
      table_name             = channel.connections_table_name
      table_arn              = channel.connections_table_arn
      management_endpoint    = channel.management_endpoint
      manage_connections_arn = channel.manage_connections_arn
    }
  }
}

################################################################################
# Channels
################################################################################

module "channel" {
  source   = "./modules/websocket-channel"
  for_each = var.channels

  name                   = "${var.name_prefix}-${each.key}"
  channel_key            = each.key
  stage_name             = each.value.stage_name
  throttling_burst_limit = each.value.throttling_burst_limit
  throttling_rate_limit  = each.value.throttling_rate_limit
  connections_table_name = coalesce(each.value.connections_table_name, "${var.name_prefix}-${each.key}-connections")
  connection_ttl_seconds = each.value.connection_ttl_seconds
  store_source_ip        = each.value.store_source_ip
  point_in_time_recovery = each.value.point_in_time_recovery
  kms_key_arn            = var.kms_key_arn

  connect_package     = "${local.packages_dir}/connect.zip"
  disconnect_package  = "${local.packages_dir}/disconnect.zip"
  lambda_runtime      = var.lambda_runtime
  lambda_architecture = var.lambda_architecture
  lambda_memory_size  = var.lambda_memory_size
  lambda_timeouts = {
    connect    = var.lambda_timeouts.connect
    disconnect = var.lambda_timeouts.disconnect
  }
  log_retention_in_days         = var.log_retention_in_days
  iam_role_permissions_boundary = var.iam_role_permissions_boundary

  tags = var.tags
}

################################################################################
# Incident stream
################################################################################

module "incident_stream" {
  source = "./modules/incident-stream"

  name                   = var.name_prefix
  create_table           = var.create_incident_table
  table_name             = var.incident_table_name
  hash_key               = var.incident_table_hash_key
  range_key              = var.incident_table_range_key
  stream_view_type       = var.incident_stream_view_type
  stream_arn             = var.incident_stream_arn
  point_in_time_recovery = var.incident_table_point_in_time_recovery
  deletion_protection    = var.incident_table_deletion_protection
  kms_key_arn            = var.kms_key_arn

  channels        = local.channel_targets
  routes          = var.stream_routes
  max_concurrency = var.max_concurrency

  batch_size                         = var.stream_batch_size
  maximum_batching_window_in_seconds = var.stream_maximum_batching_window_in_seconds
  maximum_retry_attempts             = var.stream_maximum_retry_attempts
  maximum_record_age_in_seconds      = var.stream_maximum_record_age_in_seconds
  parallelization_factor             = var.stream_parallelization_factor
  starting_position                  = var.stream_starting_position

  package                       = "${local.packages_dir}/stream_processor.zip"
  lambda_runtime                = var.lambda_runtime
  lambda_architecture           = var.lambda_architecture
  lambda_memory_size            = var.lambda_memory_size
  lambda_timeout                = var.lambda_timeouts.stream_processor
  log_retention_in_days         = var.log_retention_in_days
  iam_role_permissions_boundary = var.iam_role_permissions_boundary

  tags = var.tags
}

################################################################################
# Heartbeat
################################################################################

module "heartbeat" {
  source = "./modules/heartbeat"

  name                = var.name_prefix
  schedule_expression = var.heartbeat_schedule_expression
  channels            = local.channel_targets
  max_concurrency     = var.max_concurrency
  kms_key_arn         = var.kms_key_arn

  package                       = "${local.packages_dir}/heartbeat.zip"
  lambda_runtime                = var.lambda_runtime
  lambda_architecture           = var.lambda_architecture
  lambda_memory_size            = var.lambda_memory_size
  lambda_timeout                = var.lambda_timeouts.heartbeat
  log_retention_in_days         = var.log_retention_in_days
  iam_role_permissions_boundary = var.iam_role_permissions_boundary

  tags = var.tags
}
