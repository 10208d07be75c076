################################################################################
# CloudWatch Logs
################################################################################

resource "aws_cloudwatch_log_group" "this" {
  name              = "/aws/lambda/${var.function_name}"
  retention_in_days = var.lambda.log_retention_in_days
  kms_key_id        = var.lambda.log_group_kms_key_arn

  tags = var.tags
}

################################################################################
# IAM
################################################################################

locals {
  # The function may write to its own log group and use the key as the caller says; everything
  # else is given by the caller.
  policy_statements = merge(
    {
      WriteOwnLogs = {
        actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
        resources = ["${aws_cloudwatch_log_group.this.arn}:*"]
      }
    },
    var.kms_key_arn == null || length(var.kms_actions) == 0 ? {} : {
      EncryptionKey = {
        actions   = var.kms_actions
        resources = [var.kms_key_arn]
      }
    },
    var.policy_statements,
  )
}

resource "aws_iam_role" "this" {
  name                 = var.function_name
  permissions_boundary = var.lambda.role_permissions_boundary

  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRole"
      Principal = { Service = "lambda.amazonaws.com" }
    }]
  })

  tags = var.tags
}

resource "aws_iam_role_policy" "this" {
  name = var.function_name
  role = aws_iam_role.this.id

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      for sid, statement in local.policy_statements : {
        Sid      = sid
        Effect   = "Allow"
        Action   = statement.actions
        Resource = statement.resources
      }
    ]
  })
}

################################################################################
# Lambda Function
################################################################################

locals {
  filename = "${var.lambda.packages_dir}/${var.package}.zip"

  # The metrics' namespace reaches every function the same way; without one it emits none.
  environment_variables = merge(
    var.environment_variables,
    var.lambda.metrics_namespace == null ? {} : { METRICS_NAMESPACE = var.lambda.metrics_namespace },
  )
}

resource "aws_lambda_function" "this" {
  function_name    = var.function_name
  description      = var.description
  role             = aws_iam_role.this.arn
  filename         = local.filename
  source_code_hash = filebase64sha256(local.filename)
  handler          = var.handler
  runtime          = var.lambda.runtime
  architectures    = [var.lambda.architecture]
  memory_size      = var.lambda.memory_size
  timeout          = var.timeout

  reserved_concurrent_executions = var.reserved_concurrent_executions

  dynamic "environment" {
    for_each = length(local.environment_variables) > 0 ? [local.environment_variables] : []

    content {
      variables = environment.value
    }
  }

  logging_config {
    log_format = "JSON"
    log_group  = aws_cloudwatch_log_group.this.name
  }

  tags = var.tags

  # The log group must exist (with its retention) before the first invocation creates it unmanaged,
  # and the role must be able to write logs from the first invocation on.
  depends_on = [aws_cloudwatch_log_group.this, aws_iam_role_policy.this]

  lifecycle {
    precondition {
      # Lambda's limit; CHANNELS grows with every channel (about 150 bytes each).
      condition     = length(join("", [for key, value in local.environment_variables : "${key}${value}"])) <= 4096
      error_message = "The environment of ${var.function_name} exceeds Lambda's 4 KB limit: use fewer channels or shorter table names."
    }
  }
}
