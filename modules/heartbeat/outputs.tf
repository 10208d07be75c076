output "function_name" {
  description = "Name of the heartbeat function."
  value       = module.function.function_name
}

output "rule_name" {
  description = "Name of the EventBridge rule that triggers the heartbeat."
  value       = aws_cloudwatch_event_rule.this.name
}

output "rule_arn" {
  description = "ARN of the EventBridge rule that triggers the heartbeat."
  value       = aws_cloudwatch_event_rule.this.arn
}
