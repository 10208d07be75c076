locals {
  # The attributes the findings function writes into an incident item, and `action`, which makes
  # an item a remediation log: the table's keys must not be any of them (but `incident_id`).
  incident_item_attributes = [
    "incident_id", "finding_id", "severity", "title", "description", "account", "region", "arn",
    "status", "source", "type", "created_at", "updated_at", "count", "action",
  ]

  # The events each rule matches, by what the rule's name ends with.
  event_types = {
    guardduty          = { source = "aws.guardduty", detail_type = "GuardDuty Finding", name = "GuardDuty findings" }
    "securityhub-asff" = { source = "aws.securityhub", detail_type = "Security Hub Findings - Imported", name = "Security Hub findings (ASFF)" }
    "securityhub-ocsf" = { source = "aws.securityhub", detail_type = "Findings Imported V2", name = "Security Hub findings (OCSF)" }
  }

  # The minimum severity of each event type that is switched on (null: no rule).
  minimum_severities = {
    guardduty          = try(var.guardduty.minimum_severity, null)
    "securityhub-asff" = contains(try(var.security_hub.formats, []), "asff") ? var.security_hub.minimum_severity : null
    "securityhub-ocsf" = contains(try(var.security_hub.formats, []), "ocsf") ? var.security_hub.minimum_severity : null
  }

  # The lowest value of each severity band on each event type's scale: a rule for minimum
  # severity X matches X and every band above it (the findings function maps the same bands back
  # to severities).
  severity_floors = {
    guardduty          = { INFORMATIONAL = 0, LOW = 0, MEDIUM = 4, HIGH = 7, CRITICAL = 9 }
    "securityhub-asff" = { INFORMATIONAL = 0, LOW = 1, MEDIUM = 40, HIGH = 70, CRITICAL = 90 }
    "securityhub-ocsf" = { INFORMATIONAL = 1, LOW = 2, MEDIUM = 3, HIGH = 4, CRITICAL = 5 }
  }
  floors = {
    for key, minimum in local.minimum_severities : key => minimum == null ? null : local.severity_floors[key][minimum]
  }

  # Where each event type carries the severity, matched numerically from the floor to the top of
  # its scale; `findings` is a list, and a pattern matches when any of its findings does.
  severity_filters = {
    guardduty          = { severity = [{ numeric = [">=", local.floors["guardduty"], "<=", 10] }] }
    "securityhub-asff" = { findings = { Severity = { Normalized = [{ numeric = [">=", local.floors["securityhub-asff"], "<=", 100] }] } } }
    "securityhub-ocsf" = { findings = { severity_id = [{ numeric = [">=", local.floors["securityhub-ocsf"], "<=", 6] }] } }
  }

  # The severity filter sits in the pattern: findings below the minimum never invoke anything.
  rules = {
    for key, minimum in local.minimum_severities : key => {
      description = "${local.event_types[key].name} of severity ${minimum} or higher become incidents"
      event_pattern = jsonencode({
        source        = [local.event_types[key].source]
        "detail-type" = [local.event_types[key].detail_type]
        detail        = local.severity_filters[key]
      })
    } if minimum != null
  }
}

################################################################################
# Dead-letter queue
################################################################################

# One queue for every finding that did not become an incident: events EventBridge could not
# deliver (the original event, with RULE_ARN and ERROR_CODE attributes) and invocations that still
# failed after Lambda's retries (Lambda's invocation record, the event in `requestPayload`).
resource "aws_sqs_queue" "this" {
  name                      = "${var.name_prefix}-findings-dlq"
  message_retention_seconds = 1209600 # 14 days, the longest SQS keeps a message
  sqs_managed_sse_enabled   = var.kms_key_arn == null ? true : null
  kms_master_key_id         = var.kms_key_arn

  tags = var.tags
}

locals {
  # EventBridge may send here on behalf of these rules only; the function sends with its role.
  undelivered_events_statement = {
    Sid       = "UndeliveredFindingEvents"
    Principal = { Service = "events.amazonaws.com" }
    Effect    = "Allow"
    Action    = "sqs:SendMessage"
    Resource  = aws_sqs_queue.this.arn
    Condition = { ArnEquals = { "aws:SourceArn" = [for rule in aws_cloudwatch_event_rule.this : rule.arn] } }
  }
}

resource "aws_sqs_queue_policy" "this" {
  queue_url = aws_sqs_queue.this.id
  policy    = jsonencode({ Version = "2012-10-17", Statement = [local.undelivered_events_statement] })
}

################################################################################
# Findings function
################################################################################

module "function" {
  source = "../lambda-function"

  function_name = "${var.name_prefix}-findings"
  description   = "Writes GuardDuty and Security Hub findings into the incident table as incidents"
  package       = "findings"
  timeout       = var.timeout

  environment_variables = merge(
    {
      INCIDENT_TABLE    = var.incident_table.name
      INCIDENT_HASH_KEY = var.incident_table.hash_key
    },
    var.incident_table.range_key == null ? {} : { INCIDENT_RANGE_KEY = var.incident_table.range_key },
  )

  policy_statements = {
    IncidentTable = {
      actions   = ["dynamodb:PutItem"]
      resources = [var.incident_table.arn]
    }
    DeadLetterQueue = {
      actions   = ["sqs:SendMessage"]
      resources = [aws_sqs_queue.this.arn]
    }
  }
  # Decrypt and GenerateDataKey: the encrypted incident table's write (and the stored item a stale
  # write returns), and the queue.
  kms_key_arn = var.kms_key_arn
  kms_actions = ["kms:Decrypt", "kms:GenerateDataKey"]

  lambda = var.lambda
  tags   = var.tags
}

# EventBridge invokes asynchronously: when the function raises (a write failed), Lambda retries
# the event itself and then hands it to this destination. The target's own retry policy and
# dead-letter queue below only cover events EventBridge cannot hand to Lambda at all.
resource "aws_lambda_function_event_invoke_config" "this" {
  function_name                = module.function.function_name
  maximum_event_age_in_seconds = var.maximum_event_age_in_seconds
  maximum_retry_attempts       = var.maximum_retry_attempts

  destination_config {
    on_failure {
      destination = aws_sqs_queue.this.arn
    }
  }
}

################################################################################
# Rules
################################################################################

resource "aws_cloudwatch_event_rule" "this" {
  for_each = local.rules

  name          = "${var.name_prefix}-findings-${each.key}"
  description   = each.value.description
  event_pattern = each.value.event_pattern

  tags = var.tags
}

resource "aws_cloudwatch_event_target" "this" {
  for_each = aws_cloudwatch_event_rule.this

  rule      = each.value.name
  target_id = "findings"
  arn       = module.function.function_arn

  retry_policy {
    maximum_event_age_in_seconds = var.maximum_event_age_in_seconds
    maximum_retry_attempts       = var.delivery_retry_attempts
  }

  dead_letter_config {
    arn = aws_sqs_queue.this.arn
  }
}

resource "aws_lambda_permission" "this" {
  for_each = aws_cloudwatch_event_rule.this

  statement_id  = "AllowInvokeFrom-${each.key}"
  action        = "lambda:InvokeFunction"
  function_name = module.function.function_name
  principal     = "events.amazonaws.com"
  source_arn    = each.value.arn
}
