variable "name" {
  description = "Name of the channel's resources: the API, and the prefix of its functions (`<name>-connect`, `<name>-disconnect`)."
  type        = string
}

variable "channel_key" {
  description = "Key of the channel (e.g. `events`): passed to the functions as `CHANNEL_NAME` and tagged on the API."
  type        = string
}

variable "stage_name" {
  description = "Name of the WebSocket API stage; part of every URL."
  type        = string
  default     = "prod"
}

variable "throttling_burst_limit" {
  description = "Stage-wide burst limit in requests (messages and new connections), greater than 0."
  type        = number
  default     = 100
}

variable "throttling_rate_limit" {
  description = "Stage-wide steady-state rate limit in requests per second, greater than 0."
  type        = number
  default     = 50
}

variable "connections_table_name" {
  description = "Name of the DynamoDB table of live connections (partition key `connectionId`)."
  type        = string
}

variable "connection_ttl_seconds" {
  description = "Seconds after which a stored connection expires (DynamoDB TTL on `ttl`); `0` turns TTL off."
  type        = number
  default     = 10800
}

variable "store_source_ip" {
  description = "Whether the connect function stores the client's source IP address."
  type        = bool
  default     = true
}

variable "point_in_time_recovery" {
  description = "Whether point-in-time recovery is enabled on the connections table."
  type        = bool
  default     = false
}

variable "kms_key_arn" {
  description = "ARN of a customer managed KMS key for the connections table; `null` uses the AWS managed key."
  type        = string
  default     = null
}

variable "connect_package" {
  description = "Path to the connect function's zip."
  type        = string
}

variable "disconnect_package" {
  description = "Path to the disconnect function's zip."
  type        = string
}

variable "lambda_runtime" {
  description = "Lambda runtime of both functions, e.g. `python3.12`."
  type        = string
}

variable "lambda_architecture" {
  description = "Instruction set of both functions: `x86_64` or `arm64`."
  type        = string
}

variable "lambda_memory_size" {
  description = "Memory of both functions in MB."
  type        = number
}

variable "lambda_timeouts" {
  description = "Timeout in seconds of each function: `{ connect = 10, disconnect = 10 }` (API Gateway waits at most 29)."
  type = object({
    connect    = number
    disconnect = number
  })
  default = {
    connect    = 10
    disconnect = 10
  }
}

variable "log_retention_in_days" {
  description = "Retention of the functions' log groups in days."
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
