output "table_name" {
  description = "Name of the incident table (created, or the one behind `stream_arn`)."
  value       = local.table_name
}

output "table_arn" {
  description = "ARN of the incident table (created, or the one behind `stream_arn`)."
  value       = local.table_arn
}

output "hash_key" {
  description = "Partition key of the created incident table; `null` for a table given by `stream_arn`."
  value       = try(aws_dynamodb_table.this[0].hash_key, null)
}

output "range_key" {
  description = "Sort key of the created incident table; `null` when it has none or for a table given by `stream_arn`."
  value       = try(one(compact([aws_dynamodb_table.this[0].range_key])), null)
}

output "stream_arn" {
  description = "ARN of the incident table's stream read by the stream processor."
  value       = local.stream_arn
}

output "function_name" {
  description = "Name of the stream processor function."
  value       = module.function.function_name
}

output "fanout_worker_function_name" {
  description = "Name of the fan-out worker function the stream processor shares large channels with."
  value       = module.fanout_worker.function_name
}

output "fanout_worker_function_arn" {
  description = "ARN of the fan-out worker function; the stream processor may invoke only it."
  value       = module.fanout_worker.function_arn
}

output "event_source_mapping_uuid" {
  description = "UUID of the event source mapping from the stream to the function."
  value       = aws_lambda_event_source_mapping.this.uuid
}

output "dead_letter_queue_url" {
  description = "URL of the SQS queue that receives batches the function could not process."
  value       = aws_sqs_queue.this.url
}

output "dead_letter_queue_name" {
  description = "Name of the dead-letter queue, `<prefix>-stream-processor-dlq`."
  value       = aws_sqs_queue.this.name
}

output "dead_letter_queue_arn" {
  description = "ARN of the dead-letter queue."
  value       = aws_sqs_queue.this.arn
}
