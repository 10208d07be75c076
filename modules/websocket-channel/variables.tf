variable "name_prefix" {
  description = "Prefix of the channel's resource names: the API `<prefix>-<channel>`, its functions `<prefix>-<channel>-connect` and `-disconnect`."
  type        = string
}

variable "channel" {
  description = "Name of the channel (1-16 of `a-z`, `0-9`, `_`, `-`, starting with a letter), e.g. `events`: part of every name, passed to the functions as `CHANNEL_NAME` and tagged on the API."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9_-]{0,15}$", var.channel))
    error_message = "channel must be 1-16 lowercase letters, digits, '_' or '-' starting with a letter (it becomes part of function and table names), e.g. \"events\"."
  }
}

################################################################################
# Authorization
################################################################################

variable "authorization" {
  description = "Who may open a connection: `type` `jwt` (a Lambda REQUEST authorizer on `$connect` that verifies the caller's OIDC token against `issuer` and `audiences`, with the optional `accounts_claim` and `allowed_origins`), `iam` (`AWS_IAM`: handshakes signed with SigV4) or `none` (anyone who knows the URL)."
  type = object({
    type            = string
    issuer          = optional(string)
    audiences       = optional(list(string), [])
    accounts_claim  = optional(string)
    allowed_origins = optional(list(string), [])
  })
  nullable = false

  validation {
    condition     = contains(["jwt", "iam", "none"], var.authorization.type)
    error_message = "authorization.type must be \"jwt\", \"iam\" or \"none\"."
  }

  validation {
    condition     = var.authorization.type != "jwt" || (var.authorization.issuer != null && length(var.authorization.audiences) > 0)
    error_message = "authorization.type = \"jwt\" needs the issuer and at least one audience the authorizer accepts."
  }
}

################################################################################
# API stage
################################################################################

variable "stage_name" {
  description = "Name of the WebSocket API stage (1-128 letters, digits, `-` or `_`); part of every URL."
  type        = string
  default     = "prod"

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,128}$", var.stage_name))
    error_message = "stage_name must be 1-128 letters, digits, '-' or '_' (API Gateway stage name rules), e.g. \"prod\"."
  }
}

variable "throttling_burst_limit" {
  description = "Stage-wide burst limit in requests (messages and new connections), greater than 0."
  type        = number
  default     = 100

  validation {
    condition     = var.throttling_burst_limit > 0
    error_message = "throttling_burst_limit must be greater than 0: a stage throttled to 0 rejects every message and connection. Use e.g. 100."
  }
}

variable "throttling_rate_limit" {
  description = "Stage-wide steady-state rate limit in requests per second, greater than 0."
  type        = number
  default     = 50

  validation {
    condition     = var.throttling_rate_limit > 0
    error_message = "throttling_rate_limit must be greater than 0: a stage throttled to 0 rejects every message and connection. Use e.g. 50."
  }
}

variable "access_log_group_arn" {
  description = "ARN of the CloudWatch log group that receives the stage's access log (one JSON line per connect, disconnect and message: request id, time, source IP, principal, connection id, event type, status); `null` turns access logging off. API Gateway writes it with the account's CloudWatch role."
  type        = string
  default     = null
}

variable "api_gateway_cloudwatch_role_arn" {
  description = "ARN of the account's API Gateway CloudWatch role when the same configuration sets it (`aws_api_gateway_account`): the stage is created after it, since API Gateway refuses access logging before the role is set. `null` when the role is already set."
  type        = string
  default     = null
}

################################################################################
# Connections table
################################################################################

variable "connections_table_name" {
  description = "Name of the DynamoDB table of live connections (partition key `connectionId`, 3-255 letters, digits, `_`, `-` or `.`); `null` for `<prefix>-<channel>-connections`."
  type        = string
  default     = null

  validation {
    condition     = var.connections_table_name == null || can(regex("^[A-Za-z0-9_.-]{3,255}$", var.connections_table_name))
    error_message = "connections_table_name must be 3-255 letters, digits, '_', '-' or '.' (DynamoDB table name rules), or null for \"<name_prefix>-<channel>-connections\"."
  }
}

variable "connection_ttl_seconds" {
  description = "Whole seconds after which a stored connection expires (DynamoDB TTL on `ttl`); `0` turns TTL off."
  type        = number
  default     = 10800

  validation {
    condition     = var.connection_ttl_seconds >= 0 && floor(var.connection_ttl_seconds) == var.connection_ttl_seconds
    error_message = "connection_ttl_seconds must be a whole number of seconds >= 0 (0 turns TTL off); 10800 (3 h) outlives API Gateway's 2-hour connection limit."
  }
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

variable "data_attributes" {
  description = "What the `data` of a message sent on this channel carries (`CHANNELS[<channel>].data_attributes` of the functions that fan out): `null` the whole item, `[]` no `data` at all, a list only those attributes of the item."
  type        = list(string)
  default     = null
}

variable "kms_key_arn" {
  description = "ARN of a customer managed KMS key for the connections table and the message log; `null` uses the AWS managed key. The functions get only the KMS actions they need on it."
  type        = string
  default     = null
}

################################################################################
# Message log
################################################################################

variable "message_log" {
  description = "The channel's message log, the table the stream processor appends the channel's messages to, and the `replay` route with its function `<prefix>-<channel>-replay`: `table_name` (3-255 letters, digits, `_`, `-` or `.`; `null` for `<prefix>-<channel>-messages`) and `replay_max_messages` (`REPLAY_MAX_MESSAGES`, the most messages one replay sends, 1-1000, default 500). `null` for no message log."
  type = object({
    table_name          = optional(string)
    replay_max_messages = optional(number, 500)
  })
  default = {}

  validation {
    condition     = try(var.message_log.table_name == null || can(regex("^[A-Za-z0-9_.-]{3,255}$", var.message_log.table_name)), true)
    error_message = "message_log.table_name must be 3-255 letters, digits, '_', '-' or '.' (DynamoDB table name rules), or null for \"<name_prefix>-<channel>-messages\"."
  }

  validation {
    condition     = try(contains(range(1, 1001), var.message_log.replay_max_messages), true)
    error_message = "message_log.replay_max_messages must be a whole number between 1 and 1000: replay posts the messages one by one while API Gateway waits at most 29 s for the route."
  }
}

################################################################################
# Presence
################################################################################

variable "presence_function_name" {
  description = "Name of the function that tells the channel's clients who is connected (the root module's `<prefix>-presence`): with it the connections table streams its changes and the API routes `presence` frames to that function, whose module grants API Gateway the invoke permission; `null` for no presence."
  type        = string
  default     = null

  validation {
    condition     = var.presence_function_name == null || can(regex("^[A-Za-z0-9_-]{1,64}$", var.presence_function_name))
    error_message = "presence_function_name must be a Lambda function name (1-64 letters, digits, '-' or '_'), or null for no presence."
  }
}

################################################################################
# Functions
################################################################################

variable "lambda" {
  description = "Settings the channel's functions share, as modules/lambda-function takes them (`packages_dir` with `connect.zip`, `disconnect.zip`, `replay.zip` and `authorizer.zip`, `runtime`, `architecture`, `memory_size` (optional: the memory of a function `memory_sizes` leaves out), `log_retention_in_days`, `log_group_kms_key_arn`, `role_permissions_boundary`)."
  type        = any
}

variable "memory_sizes" {
  description = "Memory in MB (128-10240) of each function: `connect`, `disconnect`, `authorizer` and `replay`; one left out (`null`) gets `lambda.memory_size`."
  type = object({
    connect    = optional(number)
    disconnect = optional(number)
    authorizer = optional(number)
    replay     = optional(number)
  })
  default  = {}
  nullable = false

  validation {
    condition     = alltrue([for memory in values(var.memory_sizes) : memory == null || try(memory >= 128 && memory <= 10240, false)])
    error_message = "memory_sizes.connect, .disconnect, .authorizer and .replay must be between 128 and 10240 MB, or null for lambda.memory_size."
  }
}

variable "timeouts" {
  description = "Timeout in seconds of each function: `connect`, `disconnect`, `authorizer` and `replay`, 1-29 (API Gateway waits at most 29 s). Other keys are ignored."
  type = object({
    connect    = optional(number, 10)
    disconnect = optional(number, 10)
    authorizer = optional(number, 10)
    replay     = optional(number, 29)
  })
  default = {}

  validation {
    condition     = alltrue([for timeout in values(var.timeouts) : timeout >= 1 && timeout <= 29])
    error_message = "timeouts.connect, .disconnect, .authorizer and .replay must be between 1 and 29 seconds: API Gateway gives up on an integration or authorizer after 29 s."
  }
}

variable "reserved_concurrency" {
  description = "Concurrent executions reserved for the functions a connection storm hits, `connect` and `authorizer` (whole numbers >= 1); `null` leaves a function unreserved."
  type = object({
    connect    = optional(number)
    authorizer = optional(number)
  })
  default  = {}
  nullable = false
}

variable "tags" {
  description = "Tags applied to every resource of this module."
  type        = map(string)
  default     = {}
}
