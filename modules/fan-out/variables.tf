variable "channels" {
  description = "The channels a function fans out to, keyed by channel: modules/websocket-channel instances, or objects with their `connections_table_name`, `connections_table_arn`, `management_endpoint`, `manage_connections_arn`, `data_attributes` (`null` or omitted: messages carry the whole item as `data`; `[]`: no `data`; a list: only those attributes) and, for a channel with a message log, `messages_table_name` and `messages_table_arn`."
  type = map(object({
    connections_table_name = string
    connections_table_arn  = string
    management_endpoint    = string
    manage_connections_arn = string
    data_attributes        = optional(list(string))
    messages_table_name    = optional(string)
    messages_table_arn     = optional(string)
  }))

  validation {
    condition     = length(var.channels) > 0
    error_message = "channels must name at least one channel: a function that fans out to no channel gets an IAM statement without resources, which IAM rejects."
  }
}

variable "max_concurrency" {
  description = "Posts to `@connections` in flight at once per invocation (`MAX_CONCURRENCY`, a whole number from 1 to 256)."
  type        = number
  default     = 128

  validation {
    condition     = var.max_concurrency >= 1 && var.max_concurrency <= 256 && floor(var.max_concurrency) == var.max_concurrency
    error_message = "max_concurrency must be a whole number between 1 and 256."
  }
}

variable "message_log" {
  description = "For a function that appends each channel's messages to the channel's message log: `retention_seconds`, how long a logged message is kept (`MESSAGE_RETENTION_SECONDS`, a whole number >= 60). Every `CHANNELS` entry then names its `messages_table` (`null` for a channel without a log). `null` (default) for a function that logs nothing."
  type = object({
    retention_seconds = number
  })
  default = null

  validation {
    condition     = var.message_log == null || try(var.message_log.retention_seconds >= 60 && floor(var.message_log.retention_seconds) == var.message_log.retention_seconds, false)
    error_message = "message_log.retention_seconds must be a whole number of seconds >= 60, e.g. 86400 (24 h)."
  }
}

variable "presence" {
  description = "Whether the function tells the channels who is connected instead of delivering messages: every `CHANNELS` entry carries `\"presence\": true`, and the function may read the connections tables (`Scan`, `GetItem`) but not change them."
  type        = bool
  default     = false
  nullable    = false
}
