output "function_name" {
  description = "Name of the presence function."
  value       = module.function.function_name
}

output "event_source_mapping_uuids" {
  description = "UUIDs of the event source mappings from the connections tables' streams to the function, keyed by channel."
  value       = { for key, mapping in aws_lambda_event_source_mapping.this : key => mapping.uuid }
}

output "dead_letter_queue_url" {
  description = "URL of the SQS queue that receives the connection changes the function could not announce."
  value       = aws_sqs_queue.this.url
}

output "dead_letter_queue_name" {
  description = "Name of the SQS queue of the connection changes the function could not announce, `<function_name>-dlq`."
  value       = aws_sqs_queue.this.name
}
