variable "name" {
  description = "Prefix of this module's resources (`<name>-stream-processor`, `<name>-stream-processor-dlq`)."
  type        = string
}

variable "create_table" {
  description = "Whether to create the incident table; `false` reads the stream given in `stream_arn`."
  type        = bool
  default     = true
}

variable "table_name" {
  description = "Name of the incident table to create."
  type        = string
  default     = "Incident"
}

variable "hash_key" {
  description = "Partition key (type S) of the incident table to create."
  type        = string
  default     = "incident_id"
}

variable "range_key" {
  description = "Optional sort key (type S) of the incident table to create."
  type        = string
  default     = null
}

variable "stream_view_type" {
  description = "What the stream of the created table records: `NEW_AND_OLD_IMAGES` or `NEW_IMAGE`."
  type        = string
  default     = "NEW_AND_OLD_IMAGES"
}

variable "stream_arn" {
  description = "Stream ARN of an existing incident table; used when `create_table` is `false`."
  type        = string
  default     = null
}

variable "point_in_time_recovery" {
  description = "Whether point-in-time recovery is enabled on the created incident table."
  type        = bool
  default     = true
}

variable "deletion_protection" {
  description = "Whether the created incident table is protected against deletion (then `terraform destroy` fails until it is turned off)."
  type        = bool
  default     = false
}

variable "kms_key_arn" {
  description = "ARN of a customer managed KMS key for the incident table and the dead-letter queue; `null` uses AWS managed encryption."
  type        = string
  default     = null
}

variable "channels" {
  description = "Channels the stream processor may post to: `{ key = { table_name, table_arn, management_endpoint, manage_connections_arn } }`."
  type = map(object({
    table_name             = string
    table_arn              = string
    management_endpoint    = string
    manage_connections_arn = string
  }))
}

variable "routes" {
  description = "Which channels receive which message type: `{ incident = [...], remediation = [...] }`."
  type        = map(list(string))
}

variable "max_concurrency" {
  description = "Posts in flight at once per invocation (`MAX_CONCURRENCY`)."
  type        = number
}

variable "batch_size" {
  description = "Largest number of stream records per invocation (1-10000)."
  type        = number
  default     = 100
}

variable "maximum_batching_window_in_seconds" {
  description = "Seconds to gather records before invoking (0-300); 0 delivers as soon as records arrive."
  type        = number
  default     = 0
}

variable "maximum_retry_attempts" {
  description = "Retries of a failing batch before its records go to the dead-letter queue (0-10000)."
  type        = number
  default     = 3
}

variable "maximum_record_age_in_seconds" {
  description = "Age in seconds after which a record is sent to the dead-letter queue instead of being retried (60-604800)."
  type        = number
  default     = 3600
}

variable "parallelization_factor" {
  description = "Concurrent batches per shard (1-10); records with the same key stay in order."
  type        = number
  default     = 1
}

variable "starting_position" {
  description = "Where a new mapping starts reading the stream: `LATEST` or `TRIM_HORIZON`."
  type        = string
  default     = "LATEST"
}

variable "dead_letter_queue_retention_seconds" {
  description = "Seconds the dead-letter queue keeps a failed batch's description (60-1209600)."
  type        = number
  default     = 1209600
}

variable "package" {
  description = "Path to the stream_processor function's zip."
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
