output "channels" {
  description = "Per channel: `websocket_url` (wss://, for clients), `management_endpoint` (https://, for `@connections` posts), `api_id`, `stage_name`, `connections_table_name`, `connections_table_arn`, `messages_table_name` and `messages_table_arn` (the message log; `null` when `message_log` is off), `presence` (true or false), `authorization_type` (`jwt`, `iam` or `none`), `access_log_group_name` (`null` when access logs are off)."
  value = {
    for key, channel in module.channel : key => {
      websocket_url          = channel.websocket_url
      management_endpoint    = channel.management_endpoint
      api_id                 = channel.api_id
      stage_name             = channel.stage_name
      connections_table_name = channel.connections_table_name
      connections_table_arn  = channel.connections_table_arn
      messages_table_name    = channel.messages_table_name
      messages_table_arn     = channel.messages_table_arn
      presence               = contains(local.presence_channels, key)
      authorization_type     = channel.authorization_type
      access_log_group_name  = try(aws_cloudwatch_log_group.access[key].name, null)
    }
  }
}

output "incident_table_name" {
  description = "Name of the incident table whose stream is broadcast (created, or the one behind `incident_stream_arn`)."
  value       = module.incident_stream.table_name
}

output "incident_table_arn" {
  description = "ARN of the incident table whose stream is broadcast."
  value       = module.incident_stream.table_arn
}

output "incident_stream_arn" {
  description = "ARN of the incident table's stream read by the stream processor."
  value       = module.incident_stream.stream_arn
}

output "function_names" {
  description = "Lambda function names: `connect` and `disconnect` (maps keyed by channel), `authorizer` (map keyed by the channels with JWT authorization), `replay` (map keyed by channel; `{}` when `message_log` is off), `stream_processor`, `fanout_worker`, `heartbeat`, `presence` and `findings` (strings; `presence` is `null` without a channel with presence, `findings` without `finding_sources`)."
  value       = local.function_names
}

output "dead_letter_queue_url" {
  description = "URL of the SQS queue that receives stream batches the stream processor could not handle."
  value       = module.incident_stream.dead_letter_queue_url
}

output "presence_dead_letter_queue_url" {
  description = "URL of the SQS queue that receives the connection changes the presence function could not announce; `null` without a channel with presence."
  value       = try(module.presence[0].dead_letter_queue_url, null)
}

output "api_gateway_cloudwatch_role_arn" {
  description = "ARN of the role set as the account's API Gateway CloudWatch role when `create_api_gateway_account_role` is true, else `null`."
  value       = try(aws_iam_role.api_gateway_cloudwatch[0].arn, null)
}

output "finding_rule_arns" {
  description = "ARNs of the EventBridge rules that turn findings into incidents, keyed `guardduty`, `securityhub-asff`, `securityhub-ocsf` (the ones `finding_sources` switches on; `{}` without any)."
  value       = try(module.findings[0].rule_arns, {})
}

output "findings_dead_letter_queue_url" {
  description = "URL of the SQS queue that receives the finding events that did not become incidents (undelivered by EventBridge, or failed after Lambda's retries); `null` without `finding_sources`."
  value       = try(module.findings[0].dead_letter_queue_url, null)
}

output "metrics_namespace" {
  description = "CloudWatch namespace of the functions' metrics (`IncidentWebSocket/<name_prefix>` unless `metrics_namespace` is set)."
  value       = local.metrics_namespace
}

output "alarm_arns" {
  description = "ARNs of the CloudWatch alarms, keyed by alarm name (`<prefix>-<what>[-<channel>]`); `{}` without `alarms`."
  value       = module.monitoring.alarm_arns
}

output "dashboard_name" {
  description = "Name of the CloudWatch dashboard, `<name_prefix>-incident-websocket`; `null` unless `create_dashboard` is true."
  value       = module.monitoring.dashboard_name
}
