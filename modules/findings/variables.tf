variable "name_prefix" {
  description = "Prefix of this module's resource names: the function `<prefix>-findings`, its queue `<prefix>-findings-dlq` and its rules `<prefix>-findings-<source>`."
  type        = string
}

################################################################################
# Sources and rules
################################################################################

variable "sources" {
  description = "The finding sources to turn into incidents, as the root module's `finding_sources` (which validates them): `guardduty` (`minimum_severity`) and `security_hub` (`minimum_severity`, `formats` from `asff` and `ocsf`); a source left out (or `null`) gets no rule. Severities: `INFORMATIONAL`, `LOW`, `MEDIUM`, `HIGH`, `CRITICAL`."
  type = object({
    guardduty = optional(object({
      minimum_severity = optional(string, "MEDIUM")
    }))
    security_hub = optional(object({
      minimum_severity = optional(string, "MEDIUM")
      formats          = optional(list(string), ["asff"])
    }))
  })
}

variable "maximum_event_age_in_seconds" {
  description = "Seconds an event is retried for, by EventBridge (delivering it to Lambda) and by Lambda (invoking the function), before it goes to the dead-letter queue (60-21600)."
  type        = number
  default     = 3600

  validation {
    condition     = var.maximum_event_age_in_seconds >= 60 && var.maximum_event_age_in_seconds <= 21600
    error_message = "maximum_event_age_in_seconds must be between 60 and 21600 (Lambda's limit for asynchronous invocations)."
  }
}

variable "delivery_retry_attempts" {
  description = "Retries of EventBridge delivering an event to the function, within `maximum_event_age_in_seconds` (0-185)."
  type        = number
  default     = 185

  validation {
    condition     = var.delivery_retry_attempts >= 0 && var.delivery_retry_attempts <= 185
    error_message = "delivery_retry_attempts must be between 0 and 185 (EventBridge's limit)."
  }
}

variable "maximum_retry_attempts" {
  description = "Retries of an invocation that raised (a table write failed), by Lambda, before the event goes to the dead-letter queue (0-2)."
  type        = number
  default     = 2

  validation {
    condition     = var.maximum_retry_attempts >= 0 && var.maximum_retry_attempts <= 2
    error_message = "maximum_retry_attempts must be between 0 and 2 (Lambda's limit for asynchronous invocations)."
  }
}

variable "dead_letter_queue_retention_seconds" {
  description = "Seconds the dead-letter queue keeps an event that did not become an incident (60-1209600)."
  type        = number
  default     = 1209600
}

################################################################################
# Incident table
################################################################################

variable "table_name" {
  description = "Name of the incident table the findings are written to (`INCIDENT_TABLE`)."
  type        = string
}

variable "table_arn" {
  description = "ARN of the incident table: the function may `dynamodb:PutItem` on it, and on nothing else."
  type        = string
}

variable "hash_key" {
  description = "Partition key of the incident table (`INCIDENT_HASH_KEY`): `incident_id`, or a name that is none of the incident item's attributes."
  type        = string
  default     = "incident_id"

  validation {
    condition     = var.hash_key == "incident_id" || !contains(local.incident_item_attributes, var.hash_key)
    error_message = "hash_key (the incident table's partition key: the root module's incident_table_hash_key, or your table's) must be \"incident_id\" or a name the incident item does not use otherwise (finding_id, severity, title, description, account, region, arn, status, source, type, created_at, updated_at, count, action)."
  }
}

variable "range_key" {
  description = "Sort key of the incident table (`INCIDENT_RANGE_KEY`; the incident is the item whose sort key is `incident`), or `null` when the table has none."
  type        = string
  default     = null

  validation {
    condition     = var.range_key == null ? true : var.range_key != var.hash_key && !contains(local.incident_item_attributes, var.range_key)
    error_message = "range_key (the incident table's sort key: the root module's incident_table_range_key, or your table's) must differ from the partition key and be a name the incident item does not use otherwise (incident_id, finding_id, severity, title, description, account, region, arn, status, source, type, created_at, updated_at, count, action), e.g. \"entry_id\"."
  }
}

variable "kms_key_arn" {
  description = "ARN of the customer managed KMS key of the incident table and of the dead-letter queue; `null` uses AWS managed encryption (SSE-SQS for the queue). The key's policy must let `events.amazonaws.com` use it (`kms:GenerateDataKey`, `kms:Decrypt`) for EventBridge to reach the queue."
  type        = string
  default     = null
}

################################################################################
# Function
################################################################################

variable "lambda" {
  description = "Settings the findings function shares with the other functions, as modules/lambda-function takes them (`packages_dir` with `findings.zip`, ...)."
  type        = any
}

variable "timeout" {
  description = "Timeout of the findings function in seconds (10-900)."
  type        = number
  default     = 30

  validation {
    condition     = var.timeout >= 10 && var.timeout <= 900
    error_message = "timeout must be between 10 and 900 seconds: a write is given up to three attempts of 7 s before the event is retried."
  }
}

variable "tags" {
  description = "Tags applied to every resource of this module."
  type        = map(string)
  default     = {}
}
