output "rule_arns" {
  description = "ARNs of the EventBridge rules that invoke the function, by source and format: `guardduty`, `securityhub-asff`, `securityhub-ocsf` (the ones switched on)."
  value       = { for key, rule in aws_cloudwatch_event_rule.this : key => rule.arn }
}

output "dead_letter_queue_url" {
  description = "URL of the SQS queue that receives the events that did not become incidents: undelivered by EventBridge, or failed after Lambda's retries."
  value       = aws_sqs_queue.this.url
}

output "dead_letter_queue_name" {
  description = "Name of the SQS queue of the events that did not become incidents, `<prefix>-findings-dlq`."
  value       = aws_sqs_queue.this.name
}

output "function_name" {
  description = "Name of the findings function."
  value       = module.function.function_name
}
