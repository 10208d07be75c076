# Findings in (modules/findings, then the root module's finding_sources): one EventBridge rule per
# source and format with the minimum severity in its pattern, the findings function's environment
# and permissions, and the one queue that keeps every event that did not become an incident.

mock_provider "aws" {
  override_during = plan
  source          = "./tests/terraform/mocks"
}

# Inputs of modules/findings and of the root module (each ignores the ones it does not declare).
variables {
  authorization  = { type = "none" }
  lambda         = { packages_dir = "functions/dist", runtime = "python3.12", architecture = "x86_64", memory_size = 256, log_retention_in_days = 30 }
  incident_table = { name = "Incident", arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/Incident", range_key = "entry_id" }
  guardduty      = { minimum_severity = "HIGH" }
  security_hub   = { minimum_severity = "MEDIUM", formats = ["asff", "ocsf"] }
  name_prefix    = "incident-ws"
}

# -- rules and their patterns ----------------------------------------------------------------

run "each_source_and_format_gets_a_rule_from_its_minimum_severity_up" {
  command = plan

  module {
    source = "./modules/findings"
  }

  assert {
    condition = { for key, rule in aws_cloudwatch_event_rule.this : key => jsondecode(rule.event_pattern) } == {
      guardduty          = { source = ["aws.guardduty"], "detail-type" = ["GuardDuty Finding"], detail = { severity = [{ numeric = [">=", 7, "<=", 10] }] } }
      "securityhub-asff" = { source = ["aws.securityhub"], "detail-type" = ["Security Hub Findings - Imported"], detail = { findings = { Severity = { Normalized = [{ numeric = [">=", 40, "<=", 100] }] } } } }
      "securityhub-ocsf" = { source = ["aws.securityhub"], "detail-type" = ["Findings Imported V2"], detail = { findings = { severity_id = [{ numeric = [">=", 3, "<=", 6] }] } } }
    }
    error_message = "GuardDuty HIGH must match severity 7-10; Security Hub MEDIUM must match Normalized 40-100 (ASFF) and severity_id 3-6 (OCSF)."
  }

  assert {
    condition     = [for rule in aws_cloudwatch_event_rule.this : rule.name] == ["incident-ws-findings-guardduty", "incident-ws-findings-securityhub-asff", "incident-ws-findings-securityhub-ocsf"]
    error_message = "Rules must be named <prefix>-findings-<source>."
  }
}

run "lowest_minimums_match_every_band_but_ocsf_unknown" {
  command = plan

  module {
    source = "./modules/findings"
  }

  variables {
    guardduty    = { minimum_severity = "INFORMATIONAL" }
    security_hub = { minimum_severity = "LOW", formats = ["asff", "ocsf"] }
  }

  assert {
    condition = { for key, rule in aws_cloudwatch_event_rule.this : key => jsondecode(rule.event_pattern).detail } == {
      guardduty          = { severity = [{ numeric = [">=", 0, "<=", 10] }] }
      "securityhub-asff" = { findings = { Severity = { Normalized = [{ numeric = [">=", 1, "<=", 100] }] } } }
      "securityhub-ocsf" = { findings = { severity_id = [{ numeric = [">=", 2, "<=", 6] }] } }
    }
    error_message = "GuardDuty INFORMATIONAL must match 0-10; Security Hub LOW must match Normalized 1-100 and severity_id 2-6."
  }
}

run "critical_minimum_matches_the_top_band_only" {
  command = plan

  module {
    source = "./modules/findings"
  }

  variables {
    guardduty    = { minimum_severity = "CRITICAL" }
    security_hub = { minimum_severity = "CRITICAL", formats = ["ocsf", "asff"] }
  }

  assert {
    condition = { for key, rule in aws_cloudwatch_event_rule.this : key => jsondecode(rule.event_pattern).detail } == {
      guardduty          = { severity = [{ numeric = [">=", 9, "<=", 10] }] }
      "securityhub-asff" = { findings = { Severity = { Normalized = [{ numeric = [">=", 90, "<=", 100] }] } } }
      "securityhub-ocsf" = { findings = { severity_id = [{ numeric = [">=", 5, "<=", 6] }] } }
    }
    error_message = "CRITICAL must match GuardDuty 9-10, Normalized 90-100 and severity_id 5-6 (Critical and Fatal)."
  }
}

run "security_hub_alone_gets_only_its_rules" {
  command = plan

  module {
    source = "./modules/findings"
  }

  variables {
    guardduty    = null
    security_hub = { minimum_severity = "MEDIUM", formats = ["asff"] }
  }

  assert {
    condition     = keys(aws_cloudwatch_event_rule.this) == ["securityhub-asff"]
    error_message = "Security Hub with the ASFF format alone must get the ASFF rule only, and GuardDuty left out no rule."
  }
}

run "guardduty_alone_gets_only_its_rule" {
  command = plan

  module {
    source = "./modules/findings"
  }

  variables {
    guardduty    = { minimum_severity = "MEDIUM" }
    security_hub = null
  }

  assert {
    condition     = keys(aws_cloudwatch_event_rule.this) == ["guardduty"] && jsondecode(aws_cloudwatch_event_rule.this["guardduty"].event_pattern).detail.severity == [{ numeric = [">=", 4, "<=", 10] }]
    error_message = "GuardDuty alone must get one rule, from MEDIUM (4) up."
  }
}

# -- delivery, retries and the dead-letter queue ------------------------------------------

run "targets_retry_delivery_for_an_hour_then_dead_letter_to_the_encrypted_queue" {
  command = plan

  module {
    source = "./modules/findings"
  }

  assert {
    condition = alltrue([
      for target in aws_cloudwatch_event_target.this :
      target.arn == module.function.function_arn && target.dead_letter_config[0].arn == aws_sqs_queue.this.arn
    ]) && length(aws_cloudwatch_event_target.this) == 3
    error_message = "Every rule must target the findings function, with the findings queue as its dead-letter queue."
  }

  assert {
    condition = alltrue([
      for target in aws_cloudwatch_event_target.this :
      target.retry_policy[0].maximum_event_age_in_seconds == 3600 && target.retry_policy[0].maximum_retry_attempts == 185
    ])
    error_message = "EventBridge must retry delivery for at most an hour (185 attempts at most)."
  }

  assert {
    condition     = aws_sqs_queue.this.name == "incident-ws-findings-dlq" && aws_sqs_queue.this.sqs_managed_sse_enabled && aws_sqs_queue.this.message_retention_seconds == 1209600
    error_message = "The queue must be <prefix>-findings-dlq, encrypted (SSE-SQS without a key), keeping messages 14 days."
  }
}

run "only_the_findings_rules_may_send_to_the_queue" {
  command = plan

  module {
    source = "./modules/findings"
  }

  assert {
    condition = jsondecode(aws_sqs_queue_policy.this.policy).Statement == [{
      Sid       = "UndeliveredFindingEvents"
      Effect    = "Allow"
      Principal = { Service = "events.amazonaws.com" }
      Action    = "sqs:SendMessage"
      Resource  = aws_sqs_queue.this.arn
      Condition = { ArnEquals = { "aws:SourceArn" = [for rule in aws_cloudwatch_event_rule.this : rule.arn] } }
    }]
    error_message = "The queue policy must let EventBridge send on behalf of the findings rules only."
  }
}

run "failed_invocations_are_retried_twice_within_an_hour_then_go_to_the_same_queue" {
  command = plan

  module {
    source = "./modules/findings"
  }

  variables {
    maximum_retry_attempts       = 1
    maximum_event_age_in_seconds = 900
  }

  assert {
    condition = (
      aws_lambda_function_event_invoke_config.this.function_name == module.function.function_name &&
      aws_lambda_function_event_invoke_config.this.maximum_retry_attempts == 1 &&
      aws_lambda_function_event_invoke_config.this.maximum_event_age_in_seconds == 900
    )
    error_message = "Lambda's retries and event age for the function must be the given ones."
  }

  assert {
    condition     = aws_lambda_function_event_invoke_config.this.destination_config[0].on_failure[0].destination == aws_sqs_queue.this.arn
    error_message = "An invocation that still fails must go to the findings queue."
  }

  assert {
    condition     = alltrue([for target in aws_cloudwatch_event_target.this : target.retry_policy[0].maximum_event_age_in_seconds == 900])
    error_message = "EventBridge and Lambda must give up on an event at the same age."
  }
}

run "invoke_config_defaults_to_lambdas_two_retries_within_an_hour" {
  command = plan

  module {
    source = "./modules/findings"
  }

  assert {
    condition     = aws_lambda_function_event_invoke_config.this.maximum_retry_attempts == 2 && aws_lambda_function_event_invoke_config.this.maximum_event_age_in_seconds == 3600
    error_message = "By default Lambda must retry a failed invocation twice, for an hour at most."
  }
}

run "only_the_findings_rules_may_invoke_the_function" {
  command = plan

  module {
    source = "./modules/findings"
  }

  assert {
    condition = { for key, permission in aws_lambda_permission.this : key => [permission.principal, permission.source_arn, permission.function_name] } == {
      for key, rule in aws_cloudwatch_event_rule.this : key => ["events.amazonaws.com", rule.arn, module.function.function_name]
    }
    error_message = "Each rule, and only the rules, must be allowed to invoke the function (source_arn = the rule's ARN)."
  }
}

# -- the function ------------------------------------------------------------------------

run "function_writes_incidents_with_the_tables_key_names" {
  command = plan

  module {
    source = "./modules/findings"
  }

  assert {
    condition     = module.function.environment_variables == tomap({ INCIDENT_TABLE = "Incident", INCIDENT_HASH_KEY = "incident_id", INCIDENT_RANGE_KEY = "entry_id" })
    error_message = "The function must get the table and both of its key names."
  }

  assert {
    condition     = module.function.function_name == "incident-ws-findings" && module.function.log_group_name == "/aws/lambda/incident-ws-findings"
    error_message = "The function must be <prefix>-findings, logging to its own group."
  }
}

run "table_without_sort_key_gives_no_incident_range_key" {
  command = plan

  module {
    source = "./modules/findings"
  }

  variables {
    incident_table = { name = "Incident", arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/Incident" }
  }

  assert {
    condition     = keys(module.function.environment_variables) == tolist(["INCIDENT_HASH_KEY", "INCIDENT_TABLE"])
    error_message = "Without a sort key INCIDENT_RANGE_KEY must be left out."
  }
}

run "function_may_only_put_incidents_and_send_to_its_queue" {
  command = plan

  module {
    source = "./modules/findings"
  }

  assert {
    condition = toset(flatten([
      for statement in jsondecode(module.function.policy).Statement :
      [for grant in setproduct(statement.Action, statement.Resource) : join(" on ", grant)]
      ])) == toset([
      "dynamodb:PutItem on ${var.incident_table.arn}",
      "sqs:SendMessage on ${aws_sqs_queue.this.arn}",
      "logs:CreateLogStream on arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/mocked:*",
      "logs:PutLogEvents on arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/mocked:*",
    ])
    error_message = "The findings function may put items in the incident table, send to its queue and write its logs, nothing else."
  }
}

run "customer_managed_key_encrypts_the_queue_and_lets_the_function_use_it" {
  command = plan

  module {
    source = "./modules/findings"
  }

  variables {
    kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
  }

  assert {
    condition     = aws_sqs_queue.this.kms_master_key_id == var.kms_key_arn && aws_sqs_queue.this.sqs_managed_sse_enabled != true
    error_message = "With a key the queue must be encrypted with it."
  }

  assert {
    condition = toset(flatten([
      for statement in jsondecode(module.function.policy).Statement :
      [for grant in setproduct(statement.Action, statement.Resource) : join(" on ", grant)] if statement.Sid == "EncryptionKey"
    ])) == toset(["kms:Decrypt on ${var.kms_key_arn}", "kms:GenerateDataKey on ${var.kms_key_arn}"])
    error_message = "The function writes the encrypted table and queue: kms:Decrypt and kms:GenerateDataKey on the key."
  }
}

# -- the root module -------------------------------------------------------------------------

run "findings_are_off_by_default" {
  command = plan

  assert {
    condition     = length(module.findings) == 0 && output.function_names.findings == null
    error_message = "Without finding_sources no findings function may be deployed."
  }

  assert {
    condition     = output.finding_rule_arns == {} && output.findings_dead_letter_queue_url == null
    error_message = "Without finding_sources the findings outputs must be empty."
  }
}

run "finding_sources_write_into_the_created_table_with_its_keys" {
  command = plan

  variables {
    finding_sources = { guardduty = {}, security_hub = {} }
  }

  assert {
    condition     = var.finding_sources.guardduty.minimum_severity == "MEDIUM" && var.finding_sources.security_hub.minimum_severity == "MEDIUM" && var.finding_sources.security_hub.formats == tolist(["asff"])
    error_message = "A source switched on without settings must start at MEDIUM, and Security Hub must default to ASFF."
  }

  assert {
    condition     = module.findings[0].function_name == "incident-ws-findings" && output.function_names.findings == "incident-ws-findings"
    error_message = "finding_sources must deploy <prefix>-findings, named in function_names."
  }

  assert {
    condition     = keys(output.finding_rule_arns) == ["guardduty", "securityhub-asff"] && output.findings_dead_letter_queue_url != null
    error_message = "The rules switched on and the findings queue must be outputs."
  }

  assert {
    condition     = module.incident_stream.hash_key == "incident_id" && module.incident_stream.range_key == "entry_id"
    error_message = "The created incident table must be keyed by incident_id and entry_id by default."
  }
}

run "incident_table_without_sort_key_is_still_possible" {
  command = plan

  variables {
    incident_table_range_key = null
  }

  assert {
    condition     = module.incident_stream.hash_key == "incident_id" && module.incident_stream.range_key == null
    error_message = "incident_table_range_key = null must create the table keyed by incident_id alone."
  }
}

run "incident_table_keys_can_be_renamed" {
  command = plan

  variables {
    incident_table_hash_key  = "pk"
    incident_table_range_key = "sk"
  }

  assert {
    condition     = module.incident_stream.hash_key == "pk" && module.incident_stream.range_key == "sk"
    error_message = "The created table must be keyed by the given names."
  }
}

run "findings_use_the_key_names_of_your_own_table" {
  command = plan

  variables {
    create_incident_table = false
    incident_stream_arn   = "arn:aws:dynamodb:eu-west-1:123456789012:table/SecurityIncidents/stream/2024-01-01T00:00:00.000"
    finding_sources       = { guardduty = {} }
  }

  override_data {
    target = data.aws_dynamodb_table.incident[0]
    values = {
      hash_key  = "pk"
      range_key = "sk"
      attribute = [{ name = "pk", type = "S" }, { name = "sk", type = "S" }]
    }
  }

  assert {
    condition     = data.aws_dynamodb_table.incident[0].name == "SecurityIncidents"
    error_message = "The table behind incident_stream_arn must be read."
  }

  assert {
    condition     = local.findings_incident_table.hash_key == "pk" && local.findings_incident_table.range_key == "sk"
    error_message = "The findings function must write with the key names read from your table."
  }
}

run "findings_leave_out_the_sort_key_of_your_table_that_has_none" {
  command = plan

  variables {
    create_incident_table = false
    incident_stream_arn   = "arn:aws:dynamodb:eu-west-1:123456789012:table/SecurityIncidents/stream/2024-01-01T00:00:00.000"
    finding_sources       = { guardduty = {} }
  }

  override_data {
    target = data.aws_dynamodb_table.incident[0]
    values = {
      hash_key  = "incident_id"
      range_key = ""
      attribute = [{ name = "incident_id", type = "S" }]
    }
  }

  assert {
    condition     = local.findings_incident_table.hash_key == "incident_id" && local.findings_incident_table.range_key == null
    error_message = "A table of your own without a sort key must give the findings function none."
  }
}

run "your_table_with_a_number_key_is_refused_for_findings" {
  command = plan

  variables {
    create_incident_table = false
    incident_stream_arn   = "arn:aws:dynamodb:eu-west-1:123456789012:table/SecurityIncidents/stream/2024-01-01T00:00:00.000"
    finding_sources       = { guardduty = {} }
  }

  override_data {
    target = data.aws_dynamodb_table.incident[0]
    values = {
      hash_key  = "incident_id"
      range_key = "version"
      attribute = [{ name = "incident_id", type = "S" }, { name = "version", type = "N" }]
    }
  }

  expect_failures = [data.aws_dynamodb_table.incident]
}

# -- what a user can get wrong (one run per bad value) ----------------------------------------

run "lowercase_minimum_severity_is_rejected" {
  command = plan

  variables {
    finding_sources = { guardduty = { minimum_severity = "high" } }
  }

  expect_failures = [var.finding_sources]
}

run "unknown_security_hub_format_is_rejected" {
  command = plan

  variables {
    finding_sources = { security_hub = { formats = ["asff", "cef"] } }
  }

  expect_failures = [var.finding_sources]
}

run "security_hub_without_formats_is_rejected" {
  command = plan

  variables {
    finding_sources = { security_hub = { formats = [] } }
  }

  expect_failures = [var.finding_sources]
}

run "security_hub_format_named_twice_is_rejected" {
  command = plan

  variables {
    finding_sources = { security_hub = { formats = ["ocsf", "ocsf"] } }
  }

  expect_failures = [var.finding_sources]
}

run "findings_timeout_under_10_seconds_is_rejected" {
  command = plan

  variables {
    lambda_timeouts = { findings = 5 }
  }

  expect_failures = [var.lambda_timeouts]
}

run "incident_table_sort_key_equal_to_its_partition_key_is_rejected" {
  command = plan

  variables {
    incident_table_range_key = "incident_id"
  }

  expect_failures = [var.incident_table_range_key]
}

run "empty_incident_table_sort_key_is_rejected" {
  command = plan

  variables {
    incident_table_range_key = ""
  }

  expect_failures = [var.incident_table_range_key]
}

run "findings_module_partition_key_named_like_an_incident_attribute_is_rejected" {
  command = plan

  module {
    source = "./modules/findings"
  }

  variables {
    incident_table = { name = "Incident", arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/Incident", hash_key = "severity" }
  }

  expect_failures = [var.incident_table]
}

run "findings_module_sort_key_named_like_an_incident_attribute_is_rejected" {
  command = plan

  module {
    source = "./modules/findings"
  }

  variables {
    incident_table = { name = "Incident", arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/Incident", range_key = "updated_at" }
  }

  expect_failures = [var.incident_table]
}

run "findings_module_sort_key_equal_to_the_partition_key_is_rejected" {
  command = plan

  module {
    source = "./modules/findings"
  }

  variables {
    incident_table = { name = "Incident", arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/Incident", hash_key = "pk", range_key = "pk" }
  }

  expect_failures = [var.incident_table]
}

run "findings_module_three_lambda_retries_are_rejected" {
  command = plan

  module {
    source = "./modules/findings"
  }

  variables {
    maximum_retry_attempts = 3
  }

  expect_failures = [var.maximum_retry_attempts]
}

run "findings_module_event_age_beyond_lambdas_six_hours_is_rejected" {
  command = plan

  module {
    source = "./modules/findings"
  }

  variables {
    maximum_event_age_in_seconds = 21601
  }

  expect_failures = [var.maximum_event_age_in_seconds]
}

run "findings_module_more_delivery_retries_than_eventbridge_allows_are_rejected" {
  command = plan

  module {
    source = "./modules/findings"
  }

  variables {
    delivery_retry_attempts = 186
  }

  expect_failures = [var.delivery_retry_attempts]
}

run "findings_module_without_any_source_is_rejected" {
  command = plan

  module {
    source = "./modules/findings"
  }

  variables {
    guardduty    = null
    security_hub = null
  }

  expect_failures = [var.security_hub]
}
