variable "function_name" {
  description = "Name of the presence function, which the channels' `presence` routes invoke by name (the root module's `<prefix>-presence`); also names its queue `<name>-dlq`."
  type        = string
}

variable "channels" {
  description = "The channels with presence, keyed by channel: modules/websocket-channel instances, or objects with their `connections_table_stream_arn` (the stream of connects and disconnects) and `presence_source_arn` (`<execution-arn>/<stage>/presence`, what the channel's `presence` route invokes the function as)."
  type = map(object({
    connections_table_stream_arn = string
    presence_source_arn          = string
  }))

  validation {
    condition     = length(var.channels) > 0 && alltrue([for channel in values(var.channels) : channel.connections_table_stream_arn != null && channel.presence_source_arn != null])
    error_message = "channels must name at least one channel, each with its connections table's stream and its presence route (modules/websocket-channel with presence_function_name set)."
  }
}

variable "fan_out" {
  description = "What the function needs to reach the same channels: a modules/fan-out instance with `presence = true`, whose `environment_variables`, `policy_statements` and `kms_actions` are passed to modules/lambda-function."
  type        = any
}

variable "kms_key_arn" {
  description = "ARN of the customer managed KMS key of the connections tables and the dead-letter queue; `null` for AWS managed encryption."
  type        = string
  default     = null
}

variable "lambda" {
  description = "Settings the function shares with the other functions, as modules/lambda-function takes them (`packages_dir` with `presence.zip`, ...)."
  type        = any
}

variable "timeout" {
  description = "Timeout of the presence function in seconds (10-900; it stops starting work 7.5 s before it)."
  type        = number
  default     = 60

  validation {
    condition     = var.timeout >= 10 && var.timeout <= 900
    error_message = "timeout must be between 10 and 900 seconds: the presence function stops starting work 7.5 s before it so that the requests in flight end in time."
  }
}

variable "tags" {
  description = "Tags applied to every resource of this module."
  type        = map(string)
  default     = {}
}
