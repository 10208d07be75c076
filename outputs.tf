output "channels" {
  description = "Per channel: `websocket_url` (wss://, for clients), `management_endpoint` (https://, for `@connections` posts), `api_id`, `stage_name`, `connections_table_name`, `connections_table_arn`."
  value = {
    for key, channel in module.channel : key => {
      websocket_url          = channel.websocket_url
      management_endpoint    = channel.management_endpoint
      api_id                 = channel.api_id
      stage_name             = channel.stage_name
      connections_table_name = channel.connections_table_name
      connections_table_arn  = channel.connections_table_arn
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
  description = "Lambda function names: `connect` and `disconnect` (maps keyed by channel), `stream_processor`, `heartbeat` and `findings` (strings; `findings` is `null` without `finding_sources`)."
  value = {
    connect          = { for key, channel in module.channel : key => channel.function_names.connect }
    disconnect       = { for key, channel in module.channel : key => channel.function_names.disconnect }
    stream_processor = module.incident_stream.function_name
    heartbeat        = module.heartbeat.function_name
    findings         = try(module.findings[0].function_name, null)
  }
}

output "dead_letter_queue_url" {
  description = "URL of the SQS queue that receives stream batches the stream processor could not handle."
  value       = module.incident_stream.dead_letter_queue_url
}

output "finding_rule_arns" {
  description = "ARNs of the EventBridge rules that turn findings into incidents, keyed `guardduty`, `securityhub-asff`, `securityhub-ocsf` (the ones `finding_sources` switches on; `{}` without any)."
  value       = try(module.findings[0].rule_arns, {})
}

output "findings_dead_letter_queue_url" {
  description = "URL of the SQS queue that receives the finding events that did not become incidents (undelivered by EventBridge, or failed after Lambda's retries); `null` without `finding_sources`."
  value       = try(module.findings[0].dead_letter_queue_url, null)
}
