output "function_name" {
  description = "Name of the Lambda function."
  value       = aws_lambda_function.this.function_name
}

output "function_arn" {
  description = "ARN of the Lambda function."
  value       = aws_lambda_function.this.arn
}

output "invoke_arn" {
  description = "ARN to use as an API Gateway integration URI."
  value       = aws_lambda_function.this.invoke_arn
}

output "role_arn" {
  description = "ARN of the function's IAM role."
  value       = aws_iam_role.this.arn
}

output "role_name" {
  description = "Name of the function's IAM role."
  value       = aws_iam_role.this.name
}

output "policy" {
  description = "The function's inline IAM policy document (JSON)."
  value       = aws_iam_role_policy.this.policy
}

output "log_group_name" {
  description = "Name of the function's CloudWatch log group."
  value       = aws_cloudwatch_log_group.this.name
}

output "environment_variables" {
  description = "Environment variables the function runs with."
  value       = try(aws_lambda_function.this.environment[0].variables, {})
}

output "reserved_concurrent_executions" {
  description = "Concurrent executions reserved for the function; -1 (or `null` until applied) when it is unreserved."
  value       = aws_lambda_function.this.reserved_concurrent_executions
}

output "memory_size" {
  description = "Memory of the function in MB (CPU grows with it: 1,769 MB is one vCPU)."
  value       = aws_lambda_function.this.memory_size
}
