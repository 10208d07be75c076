variable "name_prefix" {
  description = "Prefix of this module's resource names: the function `<prefix>-findings`, its queue `<prefix>-findings-dlq` and its rules `<prefix>-findings-<guardduty|securityhub-asff|securityhub-ocsf>`."
  type        = string
}

################################################################################
# Sources and rules
################################################################################

variable "guardduty" {
  description = "GuardDuty findings to turn into incidents: `{ minimum_severity }` (`INFORMATIONAL`, `LOW`, `MEDIUM`, `HIGH` or `CRITICAL`, as the root module's `finding_sources` validates them); `null` for no GuardDuty rule."
  type        = object({ minimum_severity = string })
  default     = null
}

variable "security_hub" {
  description = "Security Hub findings to turn into incidents: `{ minimum_severity, formats }`, `formats` from `asff` (events `Security Hub Findings - Imported`) and `ocsf` (events `Findings Imported V2`), one rule each; `null` for no Security Hub rule."
  type        = object({ minimum_severity = string, formats = list(string) })
  default     = null

  validation {
    condition     = var.guardduty != null || var.security_hub != null
    error_message = "Turn on guardduty or security_hub (or both): without a source nothing would invoke the findings function."
  }
}

################################################################################
# Incident table
################################################################################

variable "incident_table" {
  description = "The incident table the findings are written to: `name` (`INCIDENT_TABLE`), `arn` (the function may `dynamodb:PutItem` on it, and on nothing else), `hash_key` (`INCIDENT_HASH_KEY`) and `range_key` (`INCIDENT_RANGE_KEY`: the incident is the item whose sort key is `incident`; `null` when the table has none)."
  type = object({
    name      = string
    arn       = string
    hash_key  = optional(string, "incident_id")
    range_key = optional(string)
  })

  validation {
    condition     = var.incident_table.hash_key == "incident_id" || !contains(local.incident_item_attributes, var.incident_table.hash_key)
    error_message = "incident_table.hash_key (the root module's incident_table_hash_key, or your table's partition key) must be \"incident_id\" or a name the incident item does not use otherwise (finding_id, severity, title, description, account, region, arn, status, source, type, created_at, updated_at, count, action)."
  }

  validation {
    condition     = var.incident_table.range_key == null ? true : var.incident_table.range_key != var.incident_table.hash_key && !contains(local.incident_item_attributes, var.incident_table.range_key)
    error_message = "incident_table.range_key (the root module's incident_table_range_key, or your table's sort key) must differ from the partition key and be a name the incident item does not use otherwise (incident_id, finding_id, severity, title, description, account, region, arn, status, source, type, created_at, updated_at, count, action), e.g. \"entry_id\"."
  }
}

variable "kms_key_arn" {
  description = "ARN of the customer managed KMS key of the incident table and of the dead-letter queue; `null` uses AWS managed encryption (SSE-SQS for the queue). The key's policy must let `events.amazonaws.com` use it (`kms:GenerateDataKey`, `kms:Decrypt`) for EventBridge to reach the queue."
  type        = string
  default     = null
}

################################################################################
# Retries
################################################################################

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

################################################################################
# Function
################################################################################

variable "lambda" {
  description = "Settings the findings function shares with the other functions, as modules/lambda-function takes them (`packages_dir` with `findings.zip`, ...)."
  type        = any
}

variable "timeout" {
  description = "Timeout of the findings function in seconds (10-900, as the root module's `lambda_timeouts.findings` validates it)."
  type        = number
  default     = 30
}

variable "tags" {
  description = "Tags applied to every resource of this module."
  type        = map(string)
  default     = {}
}
