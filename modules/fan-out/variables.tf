variable "channels" {
  description = "The channels a function fans out to, keyed by channel: modules/websocket-channel instances, or objects with their `connections_table_name`, `connections_table_arn`, `management_endpoint`, `manage_connections_arn` and `data_attributes` (`null` or omitted: messages carry the whole item as `data`; `[]`: no `data`; a list: only those attributes)."
  type = map(object({
    connections_table_name = string
    connections_table_arn  = string
    management_endpoint    = string
    manage_connections_arn = string
    data_attributes        = optional(list(string))
  }))

  validation {
    condition     = length(var.channels) > 0
    error_message = "channels must name at least one channel: a function that fans out to no channel gets an IAM statement without resources, which IAM rejects."
  }
}

variable "max_concurrency" {
  description = "Posts to `@connections` in flight at once per invocation (`MAX_CONCURRENCY`, a whole number from 1 to 256)."
  type        = number
  default     = 64

  validation {
    condition     = var.max_concurrency >= 1 && var.max_concurrency <= 256 && floor(var.max_concurrency) == var.max_concurrency
    error_message = "max_concurrency must be a whole number between 1 and 256."
  }
}
