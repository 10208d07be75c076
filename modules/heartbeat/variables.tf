variable "name" {
  description = "Prefix of this module's resources (`<name>-heartbeat`)."
  type        = string
}

variable "schedule_expression" {
  description = "EventBridge schedule of the ping, shorter than API Gateway's 10-minute idle timeout, e.g. `rate(5 minutes)`."
  type        = string
  default     = "rate(5 minutes)"
}

variable "channels" {
  description = "Every channel to ping: `{ key = { table_name, table_arn, management_endpoint, manage_connections_arn } }`."
  type = map(object({
    table_name             = string
    table_arn              = string
    management_endpoint    = string
    manage_connections_arn = string
  }))
}

variable "max_concurrency" {
  description = "Posts in flight at once per invocation (`MAX_CONCURRENCY`)."
  type        = number
}

variable "kms_key_arn" {
  description = "ARN of the customer managed KMS key of the connections tables, if any."
  type        = string
  default     = null
}

variable "package" {
  description = "Path to the heartbeat function's zip."
  type        = string
}

variable "lambda_runtime" {
  description = "Lambda runtime, e.g. `python3.12`."
  type        = string
}

variable "lambda_architecture" {
  description = "Instruction set: `x86_64` or `arm64`."
  type        = string
}

variable "lambda_memory_size" {
  description = "Memory in MB."
  type        = number
}

variable "lambda_timeout" {
  description = "Timeout in seconds."
  type        = number
  default     = 60
}

variable "log_retention_in_days" {
  description = "Retention of the function's log group in days."
  type        = number
}

variable "iam_role_permissions_boundary" {
  description = "ARN of the IAM policy that bounds every function role, or null."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags applied to every resource of this module."
  type        = map(string)
  default     = {}
}
