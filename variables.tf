################################################################################
# Naming
################################################################################

variable "name_prefix" {
  description = "Prefix of every resource name (`<prefix>-<channel>-connect`, `<prefix>-heartbeat`, ...): 1-32 letters, digits, `-` or `_`, starting with a letter."
  type        = string
  default     = "incident-ws"

  validation {
    condition     = can(regex("^[A-Za-z][A-Za-z0-9_-]{0,31}$", var.name_prefix))
    error_message = "name_prefix must be 1-32 letters, digits, '-' or '_' starting with a letter (it prefixes Lambda, IAM and SQS names, which allow no other characters), e.g. \"incident-ws\"."
  }
}

variable "tags" {
  description = "Tags applied to every resource that supports them."
  type        = map(string)
  default     = {}
}

################################################################################
# Authorization
################################################################################

variable "authorization" {
  description = <<-EOT
    Who may open a connection to a channel (required: there is no safe default). `type`:
    `jwt`: a Lambda REQUEST authorizer on `$connect` verifies the caller's OIDC token (query parameter `token`, `Authorization: Bearer`, or a `Sec-WebSocket-Protocol` entry) against `issuer` (https URL; http only for 127.0.0.1/localhost) and `audiences` (accepted `aud`, or Cognito app client ids; at least one), optionally scoped by `accounts_claim` (the claim listing the AWS accounts a principal may see) and `allowed_origins` (browser origins, `[]` = any);
    `iam`: `AWS_IAM`, handshakes signed with SigV4 by principals allowed `execute-api:Invoke`;
    `none`: anyone who knows the URL may connect and receives every message of the channel.
    `channels.<key>.authorization` replaces this setting for one channel.
  EOT
  type = object({
    type            = string
    issuer          = optional(string)
    audiences       = optional(list(string), [])
    accounts_claim  = optional(string)
    allowed_origins = optional(list(string), [])
  })
  nullable = false

  # Each rule checks this setting and every channel's own (local.channel_authorizations).
  validation {
    condition     = alltrue([for setting in concat([var.authorization], local.channel_authorizations) : contains(["jwt", "iam", "none"], setting.type)])
    error_message = "authorization.type (and channels.<key>.authorization.type) must be \"jwt\" (OIDC tokens, e.g. dashboards), \"iam\" (SigV4, e.g. agents and services) or \"none\" (anyone who knows the URL), e.g. { type = \"iam\" }."
  }

  validation {
    condition     = alltrue([for setting in concat([var.authorization], local.channel_authorizations) : setting.type != "jwt" || (setting.issuer != null && length(setting.audiences) > 0)])
    error_message = "authorization with type = \"jwt\" needs issuer and at least one audience, e.g. { type = \"jwt\", issuer = \"https://cognito-idp.<region>.amazonaws.com/<user-pool-id>\", audiences = [\"<app-client-id>\"] }."
  }

  validation {
    condition     = alltrue([for setting in concat([var.authorization], local.channel_authorizations) : setting.type == "jwt" || (setting.issuer == null && length(setting.audiences) == 0 && setting.accounts_claim == null && length(setting.allowed_origins) == 0)])
    error_message = "issuer, audiences, accounts_claim and allowed_origins apply only to type = \"jwt\": remove them from an authorization with type = \"iam\" or \"none\", or set type = \"jwt\"."
  }

  validation {
    condition     = alltrue([for setting in concat([var.authorization], local.channel_authorizations) : setting.issuer == null || can(regex("^(https://[^/?#@\\s]+|http://(127\\.0\\.0\\.1|localhost)(:[0-9]+)?)(/[^?#\\s]*)?$", setting.issuer))])
    error_message = "authorization.issuer must be the issuer URL of your OIDC provider, https:// without query or fragment (http:// only for 127.0.0.1 or localhost, for local stacks), e.g. \"https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123\"."
  }

  validation {
    condition     = alltrue([for setting in concat([var.authorization], local.channel_authorizations) : alltrue([for value in concat(setting.audiences, setting.accounts_claim == null ? [] : [setting.accounts_claim]) : can(regex("^[^,\\s]{1,256}$", value))])])
    error_message = "authorization.audiences and accounts_claim must be 1-256 printable characters without spaces or commas (the authorizer receives the audiences comma-separated), e.g. audiences = [\"4b3kexampleclientid\"], accounts_claim = \"custom:accounts\"."
  }

  validation {
    condition     = alltrue([for setting in concat([var.authorization], local.channel_authorizations) : alltrue([for origin in setting.allowed_origins : can(regex("^https?://[^/?#@,\\s]+$", origin))])])
    error_message = "authorization.allowed_origins must be browser origins, scheme://host[:port] without path, e.g. [\"https://soc.example.com\"]."
  }
}

locals {
  # The channels' own authorization settings, which the validations of var.authorization check too.
  channel_authorizations = [for channel in values(var.channels) : channel.authorization if channel.authorization != null]
}

################################################################################
# Channels
################################################################################

variable "channels" {
  description = <<-EOT
    WebSocket channels, keyed by channel name (1-16 of `a-z`, `0-9`, `_`, `-`, starting with a letter). Each gets an API, a stage, a connections table and connect/disconnect functions:
    `connections_table_name` (default `<prefix>-<channel>-connections`), `stage_name` (default `prod`),
    `throttling_burst_limit` (requests, default 100) and `throttling_rate_limit` (requests per second, default 50), both greater than 0,
    `connection_ttl_seconds` (default 10800 = 3 h, `0` turns TTL off), `store_source_ip` (default true), `point_in_time_recovery` (default false),
    `authorization` (default `null`: the root `authorization`; an object of the same shape replaces it for this channel),
    `data_attributes` (what a message's `data` carries: `null`, the default, the whole item; `[]` no `data`; a list only those attributes of the item),
    `messages_table_name` (default `<prefix>-<channel>-messages`: the channel's message log, see `message_log`),
    `presence` (default false; true: the channel's clients are told who joins and leaves it and may ask who is connected, through its connections table's stream and the function `<prefix>-presence`).
  EOT
  type = map(object({
    connections_table_name = optional(string)
    stage_name             = optional(string, "prod")
    throttling_burst_limit = optional(number, 100)
    throttling_rate_limit  = optional(number, 50)
    connection_ttl_seconds = optional(number, 10800)
    store_source_ip        = optional(bool, true)
    point_in_time_recovery = optional(bool, false)
    authorization = optional(object({
      type            = string
      issuer          = optional(string)
      audiences       = optional(list(string), [])
      accounts_claim  = optional(string)
      allowed_origins = optional(list(string), [])
    }))
    data_attributes     = optional(list(string))
    messages_table_name = optional(string)
    presence            = optional(bool, false)
  }))
  default = {
    events      = {}
    remediation = {}
    history     = {}
  }

  validation {
    condition     = length(var.channels) > 0
    error_message = "channels must define at least one channel, e.g. { events = {} }."
  }

  validation {
    condition     = alltrue([for key in keys(var.channels) : can(regex("^[a-z][a-z0-9_-]{0,15}$", key))])
    error_message = "Every channel key must be 1-16 lowercase letters, digits, '_' or '-' starting with a letter (it becomes part of function and table names), e.g. \"events\"."
  }

  validation {
    condition     = alltrue([for channel in values(var.channels) : can(regex("^[A-Za-z0-9_-]{1,128}$", channel.stage_name))])
    error_message = "Every stage_name must be 1-128 letters, digits, '-' or '_' (API Gateway stage name rules), e.g. \"prod\"."
  }

  validation {
    condition = alltrue([
      for channel in values(var.channels) : channel.throttling_burst_limit > 0 && channel.throttling_rate_limit > 0
    ])
    error_message = "throttling_burst_limit and throttling_rate_limit must be greater than 0: a stage throttled to 0 rejects every message and connection. Use e.g. 100 and 50."
  }

  validation {
    condition = alltrue([
      for channel in values(var.channels) : channel.connection_ttl_seconds >= 0 && floor(channel.connection_ttl_seconds) == channel.connection_ttl_seconds
    ])
    error_message = "connection_ttl_seconds must be a whole number of seconds >= 0 (0 turns TTL off); 10800 (3 h) outlives API Gateway's 2-hour connection limit."
  }

  validation {
    condition = alltrue([
      for channel in values(var.channels) : channel.connections_table_name == null || can(regex("^[A-Za-z0-9_.-]{3,255}$", channel.connections_table_name))
    ])
    error_message = "connections_table_name must be 3-255 letters, digits, '_', '-' or '.' (DynamoDB table name rules), or omitted for \"<name_prefix>-<channel>-connections\"."
  }

  validation {
    condition = alltrue([
      for channel in values(var.channels) : channel.messages_table_name == null || can(regex("^[A-Za-z0-9_.-]{3,255}$", channel.messages_table_name))
    ])
    error_message = "messages_table_name must be 3-255 letters, digits, '_', '-' or '.' (DynamoDB table name rules), or omitted for \"<name_prefix>-<channel>-messages\"."
  }

  # Every table the channels create, connections table or message log, has a name of its own.
  validation {
    condition = alltrue([
      for names in [concat(
        [for key, channel in var.channels : coalesce(channel.connections_table_name, "${var.name_prefix}-${key}-connections")],
        [for key, channel in var.channels : coalesce(channel.messages_table_name, "${var.name_prefix}-${key}-messages") if var.message_log.enabled],
      )] : length(distinct(names)) == length(names)
    ])
    error_message = "Every channel needs its own connections table and message log: two channels' connections_table_name or messages_table_name (or their defaults, <name_prefix>-<channel>-connections and -messages) are the same."
  }

  validation {
    condition     = alltrue([for channel in values(var.channels) : alltrue([for name in coalesce(channel.data_attributes, []) : length(trimspace(name)) > 0])])
    error_message = "data_attributes must name item attributes (non-empty strings), e.g. [\"incident_id\", \"severity\"]; use [] to send no data, or leave it out (null) to send the whole item."
  }
}

################################################################################
# Message log
################################################################################

variable "message_log" {
  description = <<-EOT
    Each channel's message log, from which clients replay what they missed (`{"action": "replay", "since": "<id>"}` or `{"action": "replay", "last": N}`): `enabled` (default true) gives every channel a table `<prefix>-<channel>-messages` that the stream processor appends each of the channel's messages to (one write per message per channel), a `replay` route and its function `<prefix>-<channel>-replay`;
    `retention_in_hours` (default 24, a whole number >= 1) is how long a message is kept for replay (DynamoDB TTL on `ttl`: an expired message is deleted within a few days, and until then a replay may still return it);
    `replay_max_messages` (default 500, 1-1000) is the most messages one replay sends, after which it sends `{"type": "replay_truncated"}` and the client replays again from there.
  EOT
  type = object({
    enabled             = optional(bool, true)
    retention_in_hours  = optional(number, 24)
    replay_max_messages = optional(number, 500)
  })
  default  = {}
  nullable = false

  validation {
    condition     = var.message_log.retention_in_hours >= 1 && floor(var.message_log.retention_in_hours) == var.message_log.retention_in_hours
    error_message = "message_log.retention_in_hours must be a whole number of hours >= 1, e.g. 24 (a day of messages to replay)."
  }

  validation {
    condition     = var.message_log.replay_max_messages >= 1 && var.message_log.replay_max_messages <= 1000 && floor(var.message_log.replay_max_messages) == var.message_log.replay_max_messages
    error_message = "message_log.replay_max_messages must be a whole number between 1 and 1000: replay posts the messages one by one while API Gateway waits at most 29 s for the route."
  }
}

################################################################################
# Access logs
################################################################################

variable "access_logs" {
  description = "Stage access logs, the audit trail of every connect and disconnect (request id, time, source IP, principal, connection id, event type, status): `enabled` (default true) writes one JSON line per request to a log group per channel, `/aws/apigateway/<name_prefix>-<channel>`, kept `retention_in_days` (default 365; a value CloudWatch Logs accepts, 0 = never expire). API Gateway writes them with the account's CloudWatch role: see `create_api_gateway_account_role`."
  type = object({
    enabled           = optional(bool, true)
    retention_in_days = optional(number, 365)
  })
  default  = {}
  nullable = false

  validation {
    condition     = contains(local.log_retention_values, var.access_logs.retention_in_days)
    error_message = "access_logs.retention_in_days must be a value CloudWatch Logs accepts: ${join(", ", local.log_retention_values)} (0 = never expire)."
  }
}

variable "create_api_gateway_account_role" {
  description = "Whether to create the IAM role API Gateway writes access logs with and set it as this account's API Gateway CloudWatch role (`aws_api_gateway_account`). That setting is account-wide and per region: it replaces the role every API Gateway API of the region logs with. Leave `false` when the account already has one (API Gateway refuses access logging without it)."
  type        = bool
  default     = false
  nullable    = false

  validation {
    condition     = !var.create_api_gateway_account_role || var.access_logs.enabled
    error_message = "create_api_gateway_account_role = true serves the access logs: set access_logs.enabled = true as well, or leave the role false."
  }
}

################################################################################
# Incident table and stream
################################################################################

variable "stream_routes" {
  description = "Which channels receive which message type from the incident stream: keys `incident` and/or `remediation`, values lists of channel keys. The default gives every default channel a producer: incidents to `events` and `history`, remediation logs to `remediation` and `history`."
  type        = map(list(string))
  default = {
    incident    = ["events", "history"]
    remediation = ["remediation", "history"]
  }

  validation {
    condition     = alltrue([for message_type in keys(var.stream_routes) : contains(["incident", "remediation"], message_type)])
    error_message = "stream_routes keys must be message types the stream processor produces: \"incident\" or \"remediation\"."
  }

  validation {
    condition     = alltrue([for key in flatten(values(var.stream_routes)) : contains(keys(var.channels), key)])
    error_message = "stream_routes may only name channels defined in var.channels (the default routes name events, remediation and history); add the channel to channels, or set stream_routes to routes between your channels."
  }

  validation {
    condition     = length(flatten(values(var.stream_routes))) > 0
    error_message = "stream_routes must send at least one message type to at least one channel, e.g. { incident = [\"history\"] }."
  }
}

variable "create_incident_table" {
  description = "Whether to create the incident table with its stream; set `false` and `incident_stream_arn` to use an existing table."
  type        = bool
  default     = true
}

variable "incident_table_name" {
  description = "Name of the incident table created when `create_incident_table` is true."
  type        = string
  default     = "Incident"

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]{3,255}$", var.incident_table_name))
    error_message = "incident_table_name must be 3-255 letters, digits, '_', '-' or '.' (DynamoDB table name rules), e.g. \"Incident\"."
  }
}

variable "incident_table_hash_key" {
  description = "Partition key (string) of the created incident table: the incident's id."
  type        = string
  default     = "incident_id"

  validation {
    condition     = length(var.incident_table_hash_key) > 0
    error_message = "incident_table_hash_key must not be empty, e.g. \"incident_id\"."
  }
}

variable "incident_table_range_key" {
  description = "Sort key (string) of the created incident table. With it, an incident is the item whose sort key is `incident` and each remediation log an item of its own beside it (`remediation#<timestamp>#<action>`); `null` for none, where a remediation log written with the incident's id replaces the incident. Changing it replaces the table."
  type        = string
  default     = "entry_id"

  validation {
    condition     = var.incident_table_range_key == null ? true : length(var.incident_table_range_key) > 0 && var.incident_table_range_key != var.incident_table_hash_key
    error_message = "incident_table_range_key must be a name other than incident_table_hash_key, e.g. \"entry_id\", or null for a table without a sort key."
  }
}

variable "incident_stream_view_type" {
  description = "What the created table's stream records: `NEW_AND_OLD_IMAGES` (default) or `NEW_IMAGE`."
  type        = string
  default     = "NEW_AND_OLD_IMAGES"

  validation {
    condition     = contains(["NEW_AND_OLD_IMAGES", "NEW_IMAGE"], var.incident_stream_view_type)
    error_message = "incident_stream_view_type must be \"NEW_AND_OLD_IMAGES\" or \"NEW_IMAGE\": the stream processor builds its messages from the new image."
  }
}

variable "incident_stream_arn" {
  description = "Stream ARN of an existing incident table (its stream must include new images). Required when `create_incident_table` is false, ignored otherwise."
  type        = string
  default     = null

  validation {
    condition     = var.create_incident_table || var.incident_stream_arn != null
    error_message = "incident_stream_arn is required when create_incident_table = false: set it to your table's stream ARN (aws_dynamodb_table.x.stream_arn), or set create_incident_table = true."
  }

  validation {
    condition     = var.incident_stream_arn == null || can(regex("^arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:[0-9]{12}:table/[A-Za-z0-9_.-]{3,255}/stream/.+$", var.incident_stream_arn))
    error_message = "incident_stream_arn must be a DynamoDB stream ARN, arn:aws:dynamodb:<region>:<account>:table/<name>/stream/<label> (a table ARN is not enough)."
  }
}

variable "incident_table_point_in_time_recovery" {
  description = "Whether point-in-time recovery is enabled on the created incident table."
  type        = bool
  default     = true
}

variable "incident_table_deletion_protection" {
  description = "Whether the created incident table is protected against deletion; recommended in production (`terraform destroy` then fails until it is turned off)."
  type        = bool
  default     = false
}

variable "stream_batch_size" {
  description = "Largest number of stream records per stream processor invocation (1-10000)."
  type        = number
  default     = 100

  validation {
    condition     = var.stream_batch_size >= 1 && var.stream_batch_size <= 10000
    error_message = "stream_batch_size must be between 1 and 10000 (the DynamoDB Streams event source limit)."
  }
}

variable "stream_maximum_batching_window_in_seconds" {
  description = "Seconds to gather stream records before invoking (0-300); 0 broadcasts as soon as a change arrives."
  type        = number
  default     = 0

  validation {
    condition     = var.stream_maximum_batching_window_in_seconds >= 0 && var.stream_maximum_batching_window_in_seconds <= 300
    error_message = "stream_maximum_batching_window_in_seconds must be between 0 and 300."
  }
}

variable "stream_maximum_retry_attempts" {
  description = "Retries of a failing batch before it goes to the dead-letter queue (0-10000; unlimited retries are not allowed because they block the shard)."
  type        = number
  default     = 3

  validation {
    condition     = var.stream_maximum_retry_attempts >= 0 && var.stream_maximum_retry_attempts <= 10000
    error_message = "stream_maximum_retry_attempts must be between 0 and 10000; -1 (retry forever) would block the shard behind one bad record."
  }
}

variable "stream_maximum_record_age_in_seconds" {
  description = "Age in seconds after which a record goes to the dead-letter queue instead of being retried (60-604800)."
  type        = number
  default     = 3600

  validation {
    condition     = var.stream_maximum_record_age_in_seconds >= 60 && var.stream_maximum_record_age_in_seconds <= 604800
    error_message = "stream_maximum_record_age_in_seconds must be between 60 and 604800; -1 (no limit) is not allowed because a stale alert is worse than none."
  }
}

variable "stream_parallelization_factor" {
  description = "Concurrent batches per stream shard (1-10); changes to the same item stay in order."
  type        = number
  default     = 1

  validation {
    condition     = var.stream_parallelization_factor >= 1 && var.stream_parallelization_factor <= 10
    error_message = "stream_parallelization_factor must be between 1 and 10."
  }
}

variable "stream_starting_position" {
  description = "Where a new event source mapping starts reading: `LATEST` (default) or `TRIM_HORIZON` (up to 24 h back)."
  type        = string
  default     = "LATEST"

  validation {
    condition     = contains(["LATEST", "TRIM_HORIZON"], var.stream_starting_position)
    error_message = "stream_starting_position must be \"LATEST\" or \"TRIM_HORIZON\"."
  }
}

################################################################################
# Heartbeat
################################################################################

variable "heartbeat_schedule_expression" {
  description = "EventBridge schedule of the heartbeat, under API Gateway's 10-minute idle timeout: `rate(1 minute)` to `rate(9 minutes)`, or a cron whose minutes field is `*`, `*/N` or `0/N` (N from 1 to 9) and that runs every hour of every day, e.g. `cron(*/5 * * * ? *)`."
  type        = string
  default     = "rate(5 minutes)"

  validation {
    condition = anytrue([
      can(regex("^rate\\((1 minute|[2-9] minutes)\\)$", var.heartbeat_schedule_expression)),
      can(regex("^cron\\((\\*|[*0]/[1-9]) \\* [*?] \\* [*?] \\*\\)$", var.heartbeat_schedule_expression)),
    ])
    error_message = "heartbeat_schedule_expression must fire more often than API Gateway's 10-minute idle timeout, or idle connections are closed: use rate(1 minute) ... rate(9 minutes), or cron(*/N * * * ? *) with N from 1 to 9."
  }
}

################################################################################
# Findings
################################################################################

variable "finding_sources" {
  description = <<-EOT
    Security findings that become incidents in the incident table (and so reach the channels like any other incident), through EventBridge rules of the default event bus. Each source is off unless given:
    `guardduty = { minimum_severity }` (GuardDuty findings); `security_hub = { minimum_severity, formats }` (Security Hub findings: `formats` lists `asff`, the events `Security Hub Findings - Imported`, and/or `ocsf`, the events `Findings Imported V2`; default `["asff"]`).
    `minimum_severity` is one of `INFORMATIONAL`, `LOW`, `MEDIUM` (default), `HIGH`, `CRITICAL`; it is matched in the rules' event patterns, so findings below it never invoke anything.
    With `kms_key_arn`, the key's policy must let `events.amazonaws.com` use it (`kms:GenerateDataKey`, `kms:Decrypt`) so that EventBridge can reach the findings dead-letter queue. With `create_incident_table = false`, your table's key names are read from it (`dynamodb:DescribeTable` at plan time); its keys must be strings.
  EOT
  type = object({
    guardduty = optional(object({
      minimum_severity = optional(string, "MEDIUM")
    }))
    security_hub = optional(object({
      minimum_severity = optional(string, "MEDIUM")
      formats          = optional(list(string), ["asff"])
    }))
  })
  default  = {}
  nullable = false

  validation {
    condition = alltrue([
      for source in [var.finding_sources.guardduty, var.finding_sources.security_hub] :
      contains(["INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL"], source.minimum_severity) if source != null
    ])
    error_message = "finding_sources: minimum_severity must be one of \"INFORMATIONAL\", \"LOW\", \"MEDIUM\", \"HIGH\" or \"CRITICAL\" (in capitals), e.g. { guardduty = { minimum_severity = \"HIGH\" } }."
  }

  validation {
    condition = var.finding_sources.security_hub == null ? true : (
      length(var.finding_sources.security_hub.formats) > 0 &&
      length(distinct(var.finding_sources.security_hub.formats)) == length(var.finding_sources.security_hub.formats) &&
      alltrue([for format in var.finding_sources.security_hub.formats : contains(["asff", "ocsf"], format)])
    )
    error_message = "finding_sources.security_hub.formats must name \"asff\" (events \"Security Hub Findings - Imported\") and/or \"ocsf\" (events \"Findings Imported V2\"), each at most once, e.g. [\"asff\", \"ocsf\"]; to turn Security Hub off, leave security_hub out."
  }
}

################################################################################
# Functions
################################################################################

variable "function_packages_dir" {
  description = "Directory with `connect.zip`, `disconnect.zip`, `authorizer.zip`, `stream_processor.zip` and `heartbeat.zip` (and `replay.zip` with `message_log`, `presence.zip` with a channel's `presence`, `findings.zip` with `finding_sources`); `null` uses the packages shipped in this module's `functions/dist`."
  type        = string
  default     = null
}

variable "lambda_runtime" {
  description = "Python runtime of every function, e.g. `python3.12`."
  type        = string
  default     = "python3.12"

  validation {
    condition     = can(regex("^python3\\.[0-9]+$", var.lambda_runtime))
    error_message = "lambda_runtime must be a Python 3 runtime such as \"python3.12\": the handlers are Python."
  }
}

variable "lambda_architecture" {
  description = "Instruction set of every function: `x86_64` or `arm64` (the handlers are pure Python)."
  type        = string
  default     = "x86_64"

  validation {
    condition     = contains(["x86_64", "arm64"], var.lambda_architecture)
    error_message = "lambda_architecture must be \"x86_64\" or \"arm64\"."
  }
}

variable "lambda_memory_size" {
  description = "Memory in MB (128-10240) of every function that `lambda_memory_sizes` does not name; `null` (default) leaves each function its own default (see `lambda_memory_sizes`). CPU grows with memory: 1,769 MB is one vCPU."
  type        = number
  default     = null

  validation {
    condition     = var.lambda_memory_size == null || try(var.lambda_memory_size >= 128 && var.lambda_memory_size <= 10240 && floor(var.lambda_memory_size) == var.lambda_memory_size, false)
    error_message = "lambda_memory_size must be a whole number of MB between 128 and 10240, or null to keep each function's default."
  }
}

variable "lambda_memory_sizes" {
  description = "Memory in MB (128-10240) of each function; CPU grows with it (1,769 MB is one vCPU). A function given here takes this value, else `lambda_memory_size` when set, else its default: `connect` 576, `disconnect` 256, `authorizer` 128, `replay` 640, `stream_processor` 960, `heartbeat` 960, `presence` 960, `fanout_worker` 960, `findings` 192. The defaults come from `python -m dev.bench.sizing` (README, \"Sizing\"): the functions that broadcast get the memory at which CPU stops limiting `max_concurrency` posts in flight, the others the smallest whose cold start and warm call stay within a latency budget."
  type = object({
    connect          = optional(number)
    disconnect       = optional(number)
    authorizer       = optional(number)
    replay           = optional(number)
    stream_processor = optional(number)
    heartbeat        = optional(number)
    presence         = optional(number)
    fanout_worker    = optional(number)
    findings         = optional(number)
  })
  default  = {}
  nullable = false

  validation {
    condition     = alltrue([for memory in values(var.lambda_memory_sizes) : memory == null || try(memory >= 128 && memory <= 10240 && floor(memory) == memory, false)])
    error_message = "lambda_memory_sizes.<function> must be a whole number of MB between 128 and 10240 (Lambda's range), or null for the default; e.g. lambda_memory_sizes = { stream_processor = 1024 }."
  }
}

variable "lambda_timeouts" {
  description = "Timeout in seconds of each function: `connect`/`disconnect`/`authorizer`/`replay` (1-29, API Gateway waits at most 29 s), `stream_processor`, `heartbeat` and `presence` (10-900; they stop starting work 7.5 s before it, so that what is in flight ends in time), `fanout_worker` (10-900 and at least 10 s less than `stream_processor`, which waits for its answers; `null`, the default, is `stream_processor` - 10, at least 10), `findings` (10-900)."
  type = object({
    connect          = optional(number, 10)
    disconnect       = optional(number, 10)
    authorizer       = optional(number, 10)
    replay           = optional(number, 29)
    stream_processor = optional(number, 60)
    heartbeat        = optional(number, 60)
    presence         = optional(number, 60)
    fanout_worker    = optional(number)
    findings         = optional(number, 30)
  })
  default = {}

  validation {
    condition     = alltrue([for timeout in [var.lambda_timeouts.connect, var.lambda_timeouts.disconnect, var.lambda_timeouts.authorizer, var.lambda_timeouts.replay] : timeout >= 1 && timeout <= 29])
    error_message = "lambda_timeouts.connect, .disconnect, .authorizer and .replay must be between 1 and 29 seconds: API Gateway gives up on an integration or authorizer after 29 s."
  }

  validation {
    condition     = alltrue([for timeout in [var.lambda_timeouts.stream_processor, var.lambda_timeouts.heartbeat, var.lambda_timeouts.presence] : timeout >= 10 && timeout <= 900])
    error_message = "lambda_timeouts.stream_processor, .heartbeat and .presence must be between 10 and 900 seconds: they stop starting work 7.5 s before their timeout so that the requests in flight end in time."
  }

  validation {
    condition     = var.lambda_timeouts.fanout_worker == null || try(var.lambda_timeouts.fanout_worker >= 10 && var.lambda_timeouts.fanout_worker + 10 <= var.lambda_timeouts.stream_processor, false)
    error_message = "lambda_timeouts.fanout_worker must be at least 10 seconds and at least 10 s less than lambda_timeouts.stream_processor: the stream processor waits for its workers' answers until its own deadline."
  }

  validation {
    condition     = var.lambda_timeouts.findings >= 10 && var.lambda_timeouts.findings <= 900
    error_message = "lambda_timeouts.findings must be between 10 and 900 seconds: each finding's write is given up to three attempts of 7 s."
  }
}

variable "lambda_reserved_concurrency" {
  description = "Concurrent executions reserved for the functions a connection storm hits, per function: `connect` (every channel's connect function) and `authorizer` (every JWT channel's authorizer), whole numbers >= 1; `null` (default) leaves them unreserved. A reservation also caps the function, and Lambda keeps at least 100 of the account's concurrency unreserved."
  type = object({
    connect    = optional(number)
    authorizer = optional(number)
  })
  default  = {}
  nullable = false

  validation {
    condition     = alltrue([for reserved in values(var.lambda_reserved_concurrency) : reserved == null || try(reserved >= 1 && floor(reserved) == reserved, false)])
    error_message = "lambda_reserved_concurrency.connect and .authorizer must be whole numbers >= 1 (0 would refuse every connection), or null for no reservation."
  }
}

variable "fan_out_sharding" {
  description = "When the stream processor shares a channel with fan-out workers: a channel of more than `connections_per_worker` estimated connections (whole number >= 1; the default 113000 is half of what one invocation at the default memory and `max_concurrency` posts to within its budget, README \"Sizing\") is read as ceil(connections / connections_per_worker) parallel-Scan segments, at most `max_workers` (1-100; 1 never shards; the default 2 carries API Gateway's default 10,000 requests/s: raise it with your account's limit), one in the stream processor and each other one by a concurrent invocation of `<prefix>-fanout-worker`."
  type = object({
    connections_per_worker = optional(number, 113000)
    max_workers            = optional(number, 2)
  })
  default  = {}
  nullable = false

  validation {
    condition     = var.fan_out_sharding.connections_per_worker >= 1 && floor(var.fan_out_sharding.connections_per_worker) == var.fan_out_sharding.connections_per_worker
    error_message = "fan_out_sharding.connections_per_worker must be a whole number >= 1."
  }

  validation {
    condition     = var.fan_out_sharding.max_workers >= 1 && var.fan_out_sharding.max_workers <= 100 && floor(var.fan_out_sharding.max_workers) == var.fan_out_sharding.max_workers
    error_message = "fan_out_sharding.max_workers must be a whole number between 1 and 100 (1: never shard); each is a concurrent invocation of the fan-out worker."
  }
}

variable "max_concurrency" {
  description = "Posts to `@connections` in flight at once in the stream processor, the heartbeat and the presence function (`MAX_CONCURRENCY`, 1-256)."
  type        = number
  default     = 128

  validation {
    condition     = var.max_concurrency >= 1 && var.max_concurrency <= 256 && floor(var.max_concurrency) == var.max_concurrency
    error_message = "max_concurrency must be a whole number between 1 and 256."
  }
}

variable "log_retention_in_days" {
  description = "Retention of every function's log group in days: one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653, or 0 to keep logs forever."
  type        = number
  default     = 30

  validation {
    condition     = contains(local.log_retention_values, var.log_retention_in_days)
    error_message = "log_retention_in_days must be a value CloudWatch Logs accepts: ${join(", ", local.log_retention_values)} (0 = never expire)."
  }
}

locals {
  # What CloudWatch Logs accepts as a retention in days; 0 keeps logs forever.
  log_retention_values = [0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653]
}

variable "iam_role_permissions_boundary" {
  description = "ARN of an IAM policy set as the permissions boundary of every function role, if your organisation requires one; `null` for none."
  type        = string
  default     = null

  validation {
    condition     = var.iam_role_permissions_boundary == null || can(regex("^arn:aws[a-z-]*:iam::([0-9]{12}|aws):policy/.+$", var.iam_role_permissions_boundary))
    error_message = "iam_role_permissions_boundary must be an IAM policy ARN, arn:aws:iam::<account>:policy/<name>."
  }
}

################################################################################
# Encryption
################################################################################

variable "kms_key_arn" {
  description = "ARN of a customer managed KMS key for the connections tables, the message logs, the incident table, the dead-letter queues and every log group (the functions' and the access logs'); `null` uses AWS managed encryption. The functions get only the KMS actions they need on this key; the key policy must allow CloudWatch Logs (`logs.<region>.amazonaws.com`) to use it."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN, arn:aws:kms:<region>:<account>:key/<key-id> (not an alias or a bare key id)."
  }
}

################################################################################
# Monitoring
################################################################################

variable "metrics_namespace" {
  description = "CloudWatch namespace every function emits its metrics in (Embedded Metric Format lines in its log, no `PutMetricData` and no IAM permission) and that the alarms and the dashboard read: 1-255 of letters, digits and `. - _ / # :`, not starting with `AWS/`. `null` (default) is `IncidentWebSocket/<name_prefix>`, so that two deployments in one account never mix their metrics."
  type        = string
  default     = null

  validation {
    condition     = var.metrics_namespace == null || try(can(regex("^[0-9A-Za-z.\\-_/#:]{1,255}$", var.metrics_namespace)) && !startswith(var.metrics_namespace, "AWS/"), false)
    error_message = "metrics_namespace must be a CloudWatch namespace of your own: 1-255 of letters, digits and . - _ / # :, not starting with AWS/ (reserved for AWS), e.g. \"IncidentWebSocket/secops\"; or null for IncidentWebSocket/<name_prefix>."
  }
}

variable "alarms" {
  description = <<-EOT
    CloudWatch alarms that notify `sns_topic_arn` (required: an SNS topic ARN, for the alarm and the OK notification) when something needs a person; `null` (default) creates none. Each threshold may be overridden (every period is 5 minutes unless said otherwise; missing data is not breaching):
    `dead_letter_queue_messages` (default 1: messages visible in any dead-letter queue, at least),
    `iterator_age_milliseconds` (default 60000: age of the oldest stream record the stream processor read, at least),
    `function_errors` and `function_throttles` (default 1 each: errors and throttles of any function, at least; the authorizer's errors do not count the 401s it answers by failing),
    `delivery_failure_percent` (default 5: failed posts of a channel's broadcasts, of failed and delivered, over 15 minutes, more than) once `delivery_minimum_posts` (default 20) posts were made in those 15 minutes,
    `latency_p99_milliseconds` (default 5000: p99 of a channel's end-to-end latency over 15 minutes, more than),
    `api_client_errors` (default 100: a channel's 4xx answered by API Gateway itself, `ClientError`, at least),
    `api_server_errors` (default 1: a channel's failed calls of its functions, `ExecutionError`, at least),
    `connection_rejections` (default 100: a channel's refused connections, every reason of connect and the authorizer, more than).
  EOT
  type = object({
    sns_topic_arn              = string
    dead_letter_queue_messages = optional(number, 1)
    iterator_age_milliseconds  = optional(number, 60000)
    function_errors            = optional(number, 1)
    function_throttles         = optional(number, 1)
    delivery_failure_percent   = optional(number, 5)
    delivery_minimum_posts     = optional(number, 20)
    latency_p99_milliseconds   = optional(number, 5000)
    api_client_errors          = optional(number, 100)
    api_server_errors          = optional(number, 1)
    connection_rejections      = optional(number, 100)
  })
  default = null

  validation {
    condition     = var.alarms == null || try(can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}$", var.alarms.sns_topic_arn)), false)
    error_message = "alarms.sns_topic_arn must be the ARN of a standard SNS topic, arn:aws:sns:<region>:<account>:<topic-name>."
  }

  validation {
    condition = var.alarms == null || try(alltrue([
      for threshold in [var.alarms.dead_letter_queue_messages, var.alarms.function_errors, var.alarms.function_throttles, var.alarms.delivery_minimum_posts, var.alarms.api_client_errors, var.alarms.api_server_errors, var.alarms.connection_rejections] :
      threshold >= 1 && floor(threshold) == threshold
    ]), false)
    error_message = "alarms.dead_letter_queue_messages, function_errors, function_throttles, delivery_minimum_posts, api_client_errors, api_server_errors and connection_rejections are counts: whole numbers >= 1 (0 would keep the alarm firing)."
  }

  validation {
    condition     = var.alarms == null || try(var.alarms.delivery_failure_percent > 0 && var.alarms.delivery_failure_percent < 100, false)
    error_message = "alarms.delivery_failure_percent must be a percentage between 0 and 100 (exclusive), e.g. 5."
  }

  validation {
    condition     = var.alarms == null || try(var.alarms.iterator_age_milliseconds > 0 && var.alarms.latency_p99_milliseconds > 0, false)
    error_message = "alarms.iterator_age_milliseconds and latency_p99_milliseconds must be durations in milliseconds greater than 0, e.g. 60000 and 5000."
  }
}

variable "create_dashboard" {
  description = "Whether to create a CloudWatch dashboard, `<name_prefix>-incident-websocket`: per channel the connected clients, the connections opened and refused by reason, the broadcasts' posts (delivered, failed, gone), end-to-end latency and fan-out duration (p50, p99), API Gateway's connects, messages and errors; then every function's errors, throttles and duration, the stream's iterator age, the dead-letter queues' depth and, with `alarms`, their states."
  type        = bool
  default     = false
  nullable    = false
}
