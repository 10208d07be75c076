# modules/lambda-function: the one definition every function shares.

mock_provider "aws" {
  override_during = plan
  source          = "./tests/terraform/mocks"
}

variables {
  function_name         = "incident-ws-heartbeat"
  package               = "heartbeat"
  timeout               = 60
  environment_variables = { MAX_CONCURRENCY = "8" }
  lambda                = { packages_dir = "functions/dist", runtime = "python3.12", architecture = "arm64", memory_size = 512, log_retention_in_days = 14 }
}

run "function_runs_the_zip_and_logs_json_to_its_own_retained_group" {
  command = plan

  module {
    source = "./modules/lambda-function"
  }

  variables {
    lambda = merge(var.lambda, { role_permissions_boundary = "arn:aws:iam::123456789012:policy/boundary" })
  }

  assert {
    condition     = aws_lambda_function.this.handler == "handler.handler" && aws_lambda_function.this.source_code_hash == filebase64sha256("functions/dist/heartbeat.zip")
    error_message = "The function must run handler.handler from the zip, redeployed when the zip's hash changes."
  }

  assert {
    condition     = aws_lambda_function.this.architectures == tolist(["arm64"]) && aws_lambda_function.this.memory_size == 512 && aws_lambda_function.this.timeout == 60
    error_message = "Architecture, memory and timeout must be the given ones."
  }

  assert {
    condition     = aws_lambda_function.this.logging_config[0].log_format == "JSON" && aws_lambda_function.this.logging_config[0].log_group == "/aws/lambda/incident-ws-heartbeat"
    error_message = "The function must log JSON to /aws/lambda/<name>."
  }

  assert {
    condition     = aws_cloudwatch_log_group.this.retention_in_days == 14
    error_message = "The log group must keep logs for log_retention_in_days."
  }

  assert {
    condition     = jsondecode(aws_iam_role.this.assume_role_policy).Statement[0].Principal == { Service = "lambda.amazonaws.com" }
    error_message = "Only Lambda may assume the function's role."
  }

  assert {
    condition     = aws_iam_role.this.permissions_boundary == "arn:aws:iam::123456789012:policy/boundary"
    error_message = "The role must carry the given permissions boundary."
  }

  assert {
    condition     = aws_lambda_function.this.reserved_concurrent_executions == null && aws_cloudwatch_log_group.this.kms_key_id == null
    error_message = "Unless asked, the function must reserve no concurrency (Lambda reports -1, unreserved) and its log group keep CloudWatch Logs' own encryption."
  }
}

run "metrics_namespace_reaches_the_function_as_METRICS_NAMESPACE" {
  command = plan

  module {
    source = "./modules/lambda-function"
  }

  variables {
    lambda = merge(var.lambda, { metrics_namespace = "IncidentWebSocket/secops" })
  }

  assert {
    condition     = aws_lambda_function.this.environment[0].variables == tomap({ MAX_CONCURRENCY = "8", METRICS_NAMESPACE = "IncidentWebSocket/secops" })
    error_message = "lambda.metrics_namespace must be added to the function's environment as METRICS_NAMESPACE."
  }
}

run "without_a_metrics_namespace_the_environment_is_the_given_one" {
  command = plan

  module {
    source = "./modules/lambda-function"
  }

  assert {
    condition     = aws_lambda_function.this.environment[0].variables == tomap({ MAX_CONCURRENCY = "8" })
    error_message = "Without lambda.metrics_namespace the function must get exactly environment_variables."
  }
}

run "environment_over_the_lambda_limit_is_refused" {
  command = plan

  module {
    source = "./modules/lambda-function"
  }

  variables {
    environment_variables = { CHANNELS = format("%04097d", 0) }
  }

  expect_failures = [aws_lambda_function.this]
}

run "kms_actions_are_granted_on_the_key_only" {
  command = plan

  module {
    source = "./modules/lambda-function"
  }

  variables {
    kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    kms_actions = ["kms:Decrypt"]
  }

  assert {
    condition = [
      for statement in jsondecode(aws_iam_role_policy.this.policy).Statement : [statement.Action, statement.Resource]
      if statement.Sid == "EncryptionKey"
    ] == [[["kms:Decrypt"], [var.kms_key_arn]]]
    error_message = "kms_actions must be granted on kms_key_arn only, in one EncryptionKey statement."
  }
}

run "kms_actions_without_a_key_grant_nothing" {
  command = plan

  module {
    source = "./modules/lambda-function"
  }

  variables {
    kms_actions = ["kms:Decrypt"]
  }

  assert {
    condition     = [for statement in jsondecode(aws_iam_role_policy.this.policy).Statement : statement.Sid] == ["WriteOwnLogs"]
    error_message = "Without kms_key_arn the function may only write its own logs."
  }
}

run "reserved_concurrency_and_log_group_key_are_applied" {
  command = plan

  module {
    source = "./modules/lambda-function"
  }

  variables {
    reserved_concurrent_executions = 25
    lambda                         = merge(var.lambda, { log_group_kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab" })
  }

  assert {
    condition     = aws_lambda_function.this.reserved_concurrent_executions == 25 && output.reserved_concurrent_executions == 25
    error_message = "reserved_concurrent_executions must reserve (and cap) the function's concurrency."
  }

  assert {
    condition     = aws_cloudwatch_log_group.this.kms_key_id == "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    error_message = "lambda.log_group_kms_key_arn must encrypt the function's log group."
  }
}
