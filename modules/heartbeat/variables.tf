variable "name_prefix" {
  description = "Prefix of this module's resource names: the function and its rule `<prefix>-heartbeat`."
  type        = string
}

variable "schedule_expression" {
  description = "EventBridge schedule of the ping, under API Gateway's 10-minute idle timeout: `rate(1 minute)` to `rate(9 minutes)`, or a cron whose minutes field is `*`, `*/N` or `0/N` (N from 1 to 9) and that runs every hour of every day, e.g. `cron(*/5 * * * ? *)`."
  type        = string
  default     = "rate(5 minutes)"

  validation {
    condition = anytrue([
      can(regex("^rate\\((1 minute|[2-9] minutes)\\)$", var.schedule_expression)),
      can(regex("^cron\\((\\*|[*0]/[1-9]) \\* [*?] \\* [*?] \\*\\)$", var.schedule_expression)),
    ])
    error_message = "schedule_expression must fire more often than API Gateway's 10-minute idle timeout, or idle connections are closed: use rate(1 minute) ... rate(9 minutes), or cron(*/N * * * ? *) with N from 1 to 9."
  }
}

variable "fan_out" {
  description = "What the heartbeat needs to reach every channel: a modules/fan-out instance, whose `environment_variables`, `policy_statements` and `kms_actions` are passed to modules/lambda-function."
  type        = any
}

variable "kms_key_arn" {
  description = "ARN of the customer managed KMS key of the connections tables; `null` when they use AWS managed encryption."
  type        = string
  default     = null
}

variable "lambda" {
  description = "Settings the heartbeat shares with the other functions, as modules/lambda-function takes them (`packages_dir` with `heartbeat.zip`, ...)."
  type        = any
}

variable "timeout" {
  description = "Timeout of the heartbeat in seconds (10-900; it stops starting work 7.5 s before it)."
  type        = number
  default     = 60

  validation {
    condition     = var.timeout >= 10 && var.timeout <= 900
    error_message = "timeout must be between 10 and 900 seconds: the heartbeat stops starting work 7.5 s before it so that the requests in flight end in time."
  }
}

variable "tags" {
  description = "Tags applied to every resource of this module."
  type        = map(string)
  default     = {}
}
