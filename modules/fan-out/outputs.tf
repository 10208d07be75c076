output "channels" {
  description = "The channels this fan-out reaches."
  value       = keys(var.channels)
}

output "environment_variables" {
  description = "`CHANNELS` (JSON: channel => `{ table, endpoint, data_attributes }`, `data_attributes` always present, `null` for the whole item; plus `messages_table`, a name or `null`, with `message_log`, and `presence = true` with `presence`), `MAX_CONCURRENCY`, and with `message_log` `MESSAGE_RETENTION_SECONDS`, for the function's environment."
  value       = local.environment_variables
}

output "policy_statements" {
  description = "IAM statements `ConnectionsTables` (Scan, UpdateItem, DeleteItem; with `presence` Scan, GetItem), `PostToConnections` (ManageConnections on each stage's `@connections`) and, with `message_log`, `MessageLogs` (BatchWriteItem on the channels' message logs), as modules/lambda-function takes them."
  value       = local.policy_statements
}

output "kms_actions" {
  description = "KMS actions the function needs on the key of encrypted tables: `kms:Decrypt` to read the connections tables, and `kms:GenerateDataKey` as well to write message logs."
  value       = length(local.logged_channels) == 0 ? ["kms:Decrypt"] : ["kms:Decrypt", "kms:GenerateDataKey"]
}
