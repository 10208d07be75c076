variable "name_prefix" {
  description = "Prefix of this module's resource names: `<prefix>-stream-processor`, its queue `<prefix>-stream-processor-dlq` and `<prefix>-fanout-worker`."
  type        = string
}

################################################################################
# Incident table
################################################################################

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

  validation {
    condition     = contains(["NEW_AND_OLD_IMAGES", "NEW_IMAGE"], var.stream_view_type)
    error_message = "stream_view_type must be \"NEW_AND_OLD_IMAGES\" or \"NEW_IMAGE\": the stream processor builds its messages from the new image."
  }
}

variable "stream_arn" {
  description = "Stream ARN of an existing incident table (its stream must include new images); required when `create_table` is `false`."
  type        = string
  default     = null

  validation {
    condition     = var.create_table || var.stream_arn != null
    error_message = "stream_arn is required when create_table = false: set it to the table's stream ARN, or set create_table = true."
  }

  validation {
    condition     = var.stream_arn == null || can(regex("^arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:[0-9]{12}:table/[A-Za-z0-9_.-]{3,255}/stream/.+$", var.stream_arn))
    error_message = "stream_arn must be a DynamoDB stream ARN, arn:aws:dynamodb:<region>:<account>:table/<name>/stream/<label> (a table ARN is not enough)."
  }
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
  description = "ARN of a customer managed KMS key for the incident table and the dead-letter queue; `null` uses AWS managed encryption. The stream processor gets only the KMS actions it needs on it."
  type        = string
  default     = null
}

################################################################################
# Stream processor
################################################################################

variable "message_routing" {
  description = "Which channels receive which message type (`ROUTES`): keys `incident` and/or `remediation`, values lists of channels that `fan_out` reaches."
  type        = map(list(string))

  validation {
    condition     = alltrue([for message_type in keys(var.message_routing) : contains(["incident", "remediation"], message_type)])
    error_message = "message_routing keys must be message types the stream processor produces: \"incident\" or \"remediation\"."
  }

  validation {
    condition     = alltrue([for channel in flatten(values(var.message_routing)) : contains(var.fan_out.channels, channel)])
    error_message = "message_routing may only name channels that fan_out reaches: the stream processor may post to no other. Add the channel to the fan-out or remove it from the routing."
  }
}

variable "fan_out" {
  description = "What the stream processor needs to reach the routed channels: a modules/fan-out instance, whose `environment_variables`, `policy_statements` and `kms_actions` are passed to modules/lambda-function (and whose `channels` bound `message_routing`)."
  type        = any
}

variable "audience_indexes" {
  description = "The routed channels whose connections table has an `audience` index, keyed by channel, each with the index's `name`, `arn` and `query_from` (an RFC 3339 time), as modules/websocket-channel outputs them (`audience_index_name`, `_arn`, `_query_from`). The stream processor may `Query` exactly these indexes (`AUDIENCE_INDEXES`) for a batch of one account's messages; a channel left out is always read with `Scan`. `{}` (default): none."
  type = map(object({
    name       = string
    arn        = string
    query_from = string
  }))
  default  = {}
  nullable = false

  validation {
    condition     = alltrue([for channel in keys(var.audience_indexes) : contains(var.fan_out.channels, channel)])
    error_message = "audience_indexes may only name channels that fan_out reaches: give the index of a channel the stream processor posts to, or leave the channel out."
  }
}

variable "lambda" {
  description = "Settings the stream processor shares with the other functions, as modules/lambda-function takes them (`packages_dir` with `stream_processor.zip`, ...)."
  type        = any
}

variable "timeout" {
  description = "Timeout of the stream processor in seconds (10-900; it stops starting work 7.5 s before it)."
  type        = number
  default     = 60

  validation {
    condition     = var.timeout >= 10 && var.timeout <= 900
    error_message = "timeout must be between 10 and 900 seconds: the stream processor stops starting work 7.5 s before it so that the requests in flight end in time."
  }
}

################################################################################
# Fan-out worker
################################################################################

variable "worker_fan_out" {
  description = "What the fan-out worker needs to post to one segment of a routed channel: a modules/fan-out instance over the same channels as `fan_out`, without a message log."
  type        = any
}

variable "sharding" {
  description = "When a channel is shared with fan-out workers: above `connections_per_worker` estimated connections (`FAN_OUT_CONNECTIONS_PER_WORKER`, whole number >= 1) it is read as ceil(connections / connections_per_worker) parallel-Scan segments, at most `max_workers` (`FAN_OUT_MAX_WORKERS`, 1-100): one in the stream processor, each other one by a worker invocation."
  type = object({
    connections_per_worker = optional(number, 113000)
    max_workers            = optional(number, 2)
  })
  default  = {}
  nullable = false

  validation {
    condition     = var.sharding.connections_per_worker >= 1 && floor(var.sharding.connections_per_worker) == var.sharding.connections_per_worker
    error_message = "sharding.connections_per_worker must be a whole number >= 1 (113000 is half of what one invocation at the default memory posts to in its budget)."
  }

  validation {
    condition     = var.sharding.max_workers >= 1 && var.sharding.max_workers <= 100 && floor(var.sharding.max_workers) == var.sharding.max_workers
    error_message = "sharding.max_workers must be a whole number between 1 and 100 (1: never shard); each is a concurrent invocation of the worker."
  }
}

variable "worker_memory_size" {
  description = "Memory of the fan-out worker in MB (128-10240); `null` (default): `lambda.memory_size`, the stream processor's."
  type        = number
  default     = null

  validation {
    condition     = var.worker_memory_size == null || try(var.worker_memory_size >= 128 && var.worker_memory_size <= 10240, false)
    error_message = "worker_memory_size must be between 128 and 10240 MB, or null for lambda.memory_size."
  }
}

variable "worker_timeout" {
  description = "Timeout of the fan-out worker in seconds (10-900), at least 10 s less than `timeout`: a worker must have answered before the stream processor gives up on it. `null` (default): `timeout` - 10, at least 10."
  type        = number
  default     = null

  validation {
    condition     = var.worker_timeout == null || try(var.worker_timeout >= 10 && var.worker_timeout <= 900, false)
    error_message = "worker_timeout must be between 10 and 900 seconds."
  }

  validation {
    condition     = var.worker_timeout == null || try(var.worker_timeout + 10 <= var.timeout, false)
    error_message = "worker_timeout must be at least 10 s less than timeout (the stream processor's): the stream processor waits for its workers' answers until its own deadline."
  }
}

################################################################################
# Event source mapping
################################################################################

variable "batch_size" {
  description = "Largest number of stream records per invocation (1-10000)."
  type        = number
  default     = 100

  validation {
    condition     = var.batch_size >= 1 && var.batch_size <= 10000
    error_message = "batch_size must be between 1 and 10000 (the DynamoDB Streams event source limit)."
  }
}

variable "maximum_batching_window_in_seconds" {
  description = "Seconds to gather records before invoking (0-300); 0 delivers as soon as records arrive."
  type        = number
  default     = 0

  validation {
    condition     = var.maximum_batching_window_in_seconds >= 0 && var.maximum_batching_window_in_seconds <= 300
    error_message = "maximum_batching_window_in_seconds must be between 0 and 300."
  }
}

variable "maximum_retry_attempts" {
  description = "Retries of a failing batch before its records go to the dead-letter queue (0-10000)."
  type        = number
  default     = 3

  validation {
    condition     = var.maximum_retry_attempts >= 0
    error_message = "maximum_retry_attempts must be between 0 and 10000; -1 (retry forever) would block the shard behind one bad record."
  }
}

variable "maximum_record_age_in_seconds" {
  description = "Age in seconds after which a record is sent to the dead-letter queue instead of being retried (60-604800)."
  type        = number
  default     = 3600

  validation {
    condition     = var.maximum_record_age_in_seconds >= 60
    error_message = "maximum_record_age_in_seconds must be between 60 and 604800; -1 (no limit) is not allowed because a stale alert is worse than none."
  }
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

  validation {
    condition     = contains(["LATEST", "TRIM_HORIZON"], var.starting_position)
    error_message = "starting_position must be \"LATEST\" or \"TRIM_HORIZON\"."
  }
}

variable "dead_letter_queue_retention_seconds" {
  description = "Seconds the dead-letter queue keeps a failed batch's description (60-1209600)."
  type        = number
  default     = 1209600
}

variable "tags" {
  description = "Tags applied to every resource of this module."
  type        = map(string)
  default     = {}
}
