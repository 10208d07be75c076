output "channels" {
  description = "The channels this fan-out reaches."
  value       = keys(var.channels)
}

output "environment_variables" {
  description = "`CHANNELS` (JSON: channel => `{ table, endpoint, data_attributes }`, `data_attributes` always present, `null` for the whole item) and `MAX_CONCURRENCY`, for the function's environment."
  value       = local.environment_variables
}

output "policy_statements" {
  description = "IAM statements `ConnectionsTables` (Scan, DeleteItem) and `PostToConnections` (ManageConnections on each stage's `@connections`), as modules/lambda-function takes them."
  value       = local.policy_statements
}

output "kms_actions" {
  description = "KMS actions the function needs on the key of encrypted connections tables: `kms:Decrypt`."
  value       = ["kms:Decrypt"]
}
