variable "function_name" {
  description = "Name of the Lambda function; also names its IAM role and its log group `/aws/lambda/<name>` (1-64 letters, digits, `-` or `_`)."
  type        = string
}

variable "description" {
  description = "Description of the Lambda function."
  type        = string
  default     = null
}

variable "package" {
  description = "Name of the function's deployment package in `lambda.packages_dir`, without `.zip` (a zip with `handler.py` at its root), e.g. `heartbeat`."
  type        = string
}

variable "handler" {
  description = "Entry point of the function, `<module>.<function>`."
  type        = string
  default     = "handler.handler"
}

variable "timeout" {
  description = "Timeout of the function in seconds (1-900)."
  type        = number
}

variable "reserved_concurrent_executions" {
  description = "Concurrent executions reserved for (and limiting) the function, a whole number >= 1; `null` leaves it unreserved."
  type        = number
  default     = null

  validation {
    condition     = var.reserved_concurrent_executions == null || try(var.reserved_concurrent_executions >= 1 && floor(var.reserved_concurrent_executions) == var.reserved_concurrent_executions, false)
    error_message = "reserved_concurrent_executions must be a whole number >= 1 (0 would stop the function from running), or null for no reservation."
  }
}

variable "environment_variables" {
  description = "Environment variables of the function (4 KB in all at most)."
  type        = map(string)
  default     = {}
}

variable "policy_statements" {
  description = "IAM statements the function needs besides writing its own logs and using the KMS key: `{ sid = { actions = [...], resources = [...] } }`. No action may contain `*`."
  type = map(object({
    actions   = list(string)
    resources = list(string)
  }))
  default = {}

  validation {
    condition     = alltrue([for statement in values(var.policy_statements) : alltrue([for action in statement.actions : !strcontains(action, "*")])])
    error_message = "policy_statements may not grant a wildcard action: name each action, e.g. \"dynamodb:Scan\"."
  }
}

variable "kms_key_arn" {
  description = "ARN of the customer managed KMS key of the data the function reads or writes; `null` when AWS managed encryption is used."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN, arn:aws:kms:<region>:<account>:key/<key-id> (not an alias or a bare key id)."
  }
}

variable "kms_actions" {
  description = "KMS actions the function needs on `kms_key_arn` (statement `EncryptionKey`), e.g. `[\"kms:Decrypt\"]`; ignored without a key."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for action in var.kms_actions : can(regex("^kms:[A-Za-z]+$", action))])
    error_message = "kms_actions must name KMS actions without wildcards, e.g. [\"kms:Decrypt\", \"kms:GenerateDataKey\"]."
  }
}

variable "lambda" {
  description = <<-EOT
    Settings the functions of this module share: `packages_dir` (directory of the zips), `runtime` (Python 3, e.g. `python3.12`), `architecture` (`x86_64` or `arm64`), `memory_size` (MB, 128-10240), `log_retention_in_days` (a value CloudWatch Logs accepts, 0 = never expire), `log_group_kms_key_arn` (KMS key ARN that encrypts the log group, or `null`), `role_permissions_boundary` (IAM policy ARN or `null`) and `metrics_namespace` (the CloudWatch namespace the function emits its metrics in, as `METRICS_NAMESPACE`; `null` for none).
    To give one function its own value, pass e.g. `merge(var.lambda, { memory_size = 512 })`.
  EOT
  type = object({
    packages_dir              = string
    runtime                   = string
    architecture              = string
    memory_size               = number
    log_retention_in_days     = number
    log_group_kms_key_arn     = optional(string)
    role_permissions_boundary = optional(string)
    metrics_namespace         = optional(string)
  })

  validation {
    condition     = can(regex("^python3\\.[0-9]+$", var.lambda.runtime))
    error_message = "lambda.runtime must be a Python 3 runtime such as \"python3.12\": the handlers are Python."
  }

  validation {
    condition     = var.lambda.role_permissions_boundary == null || can(regex("^arn:aws[a-z-]*:iam::([0-9]{12}|aws):policy/.+$", var.lambda.role_permissions_boundary))
    error_message = "lambda.role_permissions_boundary must be an IAM policy ARN, arn:aws:iam::<account>:policy/<name>, or null."
  }
}

variable "tags" {
  description = "Tags applied to the function, its role and its log group."
  type        = map(string)
  default     = {}
}
