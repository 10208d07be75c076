variable "function_name" {
  description = "Name of the Lambda function; also names its IAM role and its log group `/aws/lambda/<name>` (1-64 characters)."
  type        = string
}

variable "description" {
  description = "Description of the Lambda function."
  type        = string
  default     = null
}

variable "filename" {
  description = "Path to the deployment package (zip with `handler.py` at its root)."
  type        = string
}

variable "handler" {
  description = "Entry point of the function, `<module>.<function>`."
  type        = string
  default     = "handler.handler"
}

variable "runtime" {
  description = "Lambda runtime identifier, e.g. `python3.12`."
  type        = string
}

variable "architecture" {
  description = "Instruction set of the function: `x86_64` or `arm64`."
  type        = string
}

variable "memory_size" {
  description = "Memory of the function in MB (128-10240)."
  type        = number
}

variable "timeout" {
  description = "Timeout of the function in seconds (1-900)."
  type        = number
}

variable "environment_variables" {
  description = "Environment variables of the function."
  type        = map(string)
  default     = {}
}

variable "log_retention_in_days" {
  description = "Retention of the function's log group in days."
  type        = number
}

variable "policy_statements" {
  description = "IAM statements the function needs besides writing its own logs: `{ sid = { actions = [...], resources = [...] } }`. Never use `*`."
  type = map(object({
    actions   = list(string)
    resources = list(string)
  }))
  default = {}
}

variable "role_permissions_boundary" {
  description = "ARN of the IAM policy that bounds the function's role, if your organisation requires one."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags applied to every resource of this module."
  type        = map(string)
  default     = {}
}
