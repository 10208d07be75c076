output "channels" {
  description = "Per channel: websocket_url, management_endpoint, api_id, stage_name, connections_table_name, connections_table_arn, messages_table_name, messages_table_arn, presence, authorization_type, access_log_group_name."
  value       = module.incident_ws.channels
}

output "incident_table_name" {
  description = "Name of the incident table."
  value       = module.incident_ws.incident_table_name
}

output "incident_table_arn" {
  description = "ARN of the incident table."
  value       = module.incident_ws.incident_table_arn
}

output "incident_stream_arn" {
  description = "ARN of the incident table's stream."
  value       = module.incident_ws.incident_stream_arn
}

output "function_names" {
  description = "Lambda function names (connect, disconnect, authorizer, replay, stream_processor, heartbeat, presence, findings)."
  value       = module.incident_ws.function_names
}

output "dead_letter_queue_url" {
  description = "URL of the stream processor's dead-letter queue."
  value       = module.incident_ws.dead_letter_queue_url
}

output "presence_dead_letter_queue_url" {
  description = "URL of the queue of connection changes the presence function could not announce."
  value       = module.incident_ws.presence_dead_letter_queue_url
}

output "api_gateway_cloudwatch_role_arn" {
  description = "The account's API Gateway CloudWatch role when the example creates it, else null."
  value       = module.incident_ws.api_gateway_cloudwatch_role_arn
}

output "finding_rule_arns" {
  description = "ARNs of the EventBridge rules that turn findings into incidents, by source and format."
  value       = module.incident_ws.finding_rule_arns
}

output "findings_dead_letter_queue_url" {
  description = "URL of the queue of finding events that did not become incidents."
  value       = module.incident_ws.findings_dead_letter_queue_url
}

output "metrics_namespace" {
  description = "CloudWatch namespace of the functions' metrics."
  value       = module.incident_ws.metrics_namespace
}

output "alarm_arns" {
  description = "ARNs of the CloudWatch alarms, by alarm name (empty without alarm_email)."
  value       = module.incident_ws.alarm_arns
}

output "alarm_topic_arn" {
  description = "ARN of the SNS topic the alarms notify, or null."
  value       = one(aws_sns_topic.alarms[*].arn)
}

output "dashboard_name" {
  description = "Name of the CloudWatch dashboard, or null."
  value       = module.incident_ws.dashboard_name
}
