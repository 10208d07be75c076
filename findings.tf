################################################################################
# Findings: GuardDuty and Security Hub findings become incidents
################################################################################

locals {
  findings_enabled = var.finding_sources.guardduty != null || var.finding_sources.security_hub != null

  # The table the findings are written to, with the key names the function writes with: the
  # created table's, or those read from your own table.
  findings_incident_table = {
    name      = module.incident_stream.table_name
    arn       = module.incident_stream.table_arn
    hash_key  = var.create_incident_table ? var.incident_table_hash_key : one(data.aws_dynamodb_table.incident[*].hash_key)
    range_key = var.create_incident_table ? var.incident_table_range_key : one(compact(data.aws_dynamodb_table.incident[*].range_key))
  }
}

# Your own incident table (create_incident_table = false), read for its key schema: a finding
# written with other key names than the table's would fail on every write.
data "aws_dynamodb_table" "incident" {
  count = local.findings_enabled && !var.create_incident_table ? 1 : 0

  name = module.incident_stream.table_name

  lifecycle {
    postcondition {
      condition = alltrue([
        for attribute in self.attribute : attribute.type == "S"
        if contains(compact([self.hash_key, self.range_key]), attribute.name)
      ])
      error_message = "The incident table's partition key and sort key must be strings (type S) for finding_sources: the findings function writes the incident's id and the sort key value \"incident\"."
    }
  }
}

module "findings" {
  source = "./modules/findings"
  count  = local.findings_enabled ? 1 : 0

  name_prefix  = var.name_prefix
  guardduty    = var.finding_sources.guardduty
  security_hub = var.finding_sources.security_hub

  incident_table = local.findings_incident_table
  kms_key_arn    = var.kms_key_arn

  lambda  = merge(local.lambda, { memory_size = local.memory_sizes.findings })
  timeout = var.lambda_timeouts.findings
  tags    = var.tags
}
