variable "name_prefix" {
  description = "Prefix of this module's resource names: the alarms `<prefix>-<what>[-<channel>]` and the dashboard `<prefix>-incident-websocket`."
  type        = string
}

variable "namespace" {
  description = "CloudWatch namespace the functions emit their metrics in (`METRICS_NAMESPACE`), e.g. `IncidentWebSocket/incident-ws`."
  type        = string
}

variable "region" {
  description = "Region of the deployment, where its metrics are: the dashboard's widgets read them there."
  type        = string
}

variable "channels" {
  description = "The channels, by key: their WebSocket API's `api_id` and `stage_name` (API Gateway's metrics dimensions), `authorization_type` (`jwt` adds the authorizer's refusals) and `broadcast` (whether the stream processor posts to it: its delivery and latency are watched)."
  type = map(object({
    api_id             = string
    stage_name         = string
    authorization_type = string
    broadcast          = bool
  }))
}

variable "function_names" {
  description = "Every deployed function's name by the handler it runs, as the root module's `function_names` output gives them: `connect`, `disconnect`, `authorizer` and `replay` keyed by channel; `stream_processor`, `heartbeat`, `fanout_worker`, `presence` and `findings` (`null` when not deployed)."
  type = object({
    connect          = map(string)
    disconnect       = map(string)
    authorizer       = map(string)
    replay           = map(string)
    stream_processor = string
    heartbeat        = string
    fanout_worker    = optional(string)
    presence         = optional(string)
    findings         = optional(string)
  })
}

variable "dead_letter_queue_names" {
  description = "Names of the SQS dead-letter queues, keyed as their alarms are named (`stream-processor`, `presence`, `findings`)."
  type        = map(string)
}

variable "alarms" {
  description = "The root module's `alarms` (its defaults applied): `sns_topic_arn` and every threshold; `null` creates no alarm."
  type = object({
    sns_topic_arn              = string
    dead_letter_queue_messages = number
    iterator_age_milliseconds  = number
    function_errors            = number
    function_throttles         = number
    delivery_failure_percent   = number
    delivery_minimum_posts     = number
    latency_p99_milliseconds   = number
    api_client_errors          = number
    api_server_errors          = number
    connection_rejections      = number
  })
  default = null
}

variable "create_dashboard" {
  description = "Whether to create the CloudWatch dashboard."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags applied to every alarm and the dashboard."
  type        = map(string)
  default     = {}
}
