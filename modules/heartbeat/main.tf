################################################################################
# Heartbeat function
################################################################################

module "function" {
  source = "../lambda-function"

  function_name         = "${var.name_prefix}-heartbeat"
  description           = "Pings every WebSocket connection and removes the ones that are gone"
  package               = "heartbeat"
  timeout               = var.timeout
  environment_variables = var.fan_out.environment_variables
  policy_statements     = var.fan_out.policy_statements
  kms_key_arn           = var.kms_key_arn
  kms_actions           = var.fan_out.kms_actions

  lambda = var.lambda
  tags   = var.tags
}

################################################################################
# Schedule
################################################################################

resource "aws_cloudwatch_event_rule" "this" {
  name                = "${var.name_prefix}-heartbeat"
  description         = "Keeps idle WebSocket connections open and cleans up gone ones"
  schedule_expression = var.schedule_expression

  tags = var.tags
}

resource "aws_cloudwatch_event_target" "this" {
  rule = aws_cloudwatch_event_rule.this.name
  arn  = module.function.function_arn
}

resource "aws_lambda_permission" "this" {
  statement_id  = "AllowInvokeFromSchedule"
  action        = "lambda:InvokeFunction"
  function_name = module.function.function_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.this.arn
}
