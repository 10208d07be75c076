# Every validation rejects what a user can get wrong, one run per bad value (expect_failures):
# first the root module's inputs, then the internal modules' inputs where they are consumed.
# The schedules that do beat API Gateway's 10-minute idle timeout are accepted.

mock_provider "aws" {
  override_during = plan
  source          = "./tests/terraform/mocks"
}

# Valid inputs of the root module and the internal modules (each ignores the ones it does not
# declare).
variables {
  authorization   = { type = "none" }
  name_prefix     = "incident-ws"
  channel         = "history"
  function_name   = "incident-ws-heartbeat"
  package         = "heartbeat"
  timeout         = 60
  message_routing = { incident = ["history"] }
  fan_out         = { channels = ["history"], environment_variables = {}, policy_statements = { ConnectionsTables = { actions = ["dynamodb:Scan"], resources = ["arn:aws:dynamodb:eu-west-1:123456789012:table/history"] } }, kms_actions = [] }
  worker_fan_out  = { channels = ["history"], environment_variables = {}, policy_statements = {}, kms_actions = [] }
  lambda          = { packages_dir = "functions/dist", runtime = "python3.12", architecture = "x86_64", memory_size = 256, log_retention_in_days = 30 }
}

run "name_prefix_starting_with_a_digit_is_rejected" {
  command = plan

  variables {
    name_prefix = "1ws"
  }

  expect_failures = [var.name_prefix]
}

run "empty_channels_are_rejected" {
  command = plan

  variables {
    channels      = {}
    stream_routes = {}
  }

  expect_failures = [var.channels]
}

run "channel_key_with_uppercase_is_rejected" {
  command = plan

  variables {
    channels      = { Events = {} }
    stream_routes = { incident = ["Events"] }
  }

  expect_failures = [var.channels]
}

run "stage_name_with_a_slash_is_rejected" {
  command = plan

  variables {
    channels      = { history = { stage_name = "prod/v1" } }
    stream_routes = { incident = ["history"] }
  }

  expect_failures = [var.channels]
}

run "zero_burst_limit_is_rejected" {
  command = plan

  variables {
    channels      = { history = { throttling_burst_limit = 0 } }
    stream_routes = { incident = ["history"] }
  }

  expect_failures = [var.channels]
}

run "negative_rate_limit_is_rejected" {
  command = plan

  variables {
    channels      = { history = { throttling_rate_limit = -1 } }
    stream_routes = { incident = ["history"] }
  }

  expect_failures = [var.channels]
}

run "negative_connection_ttl_is_rejected" {
  command = plan

  variables {
    channels      = { history = { connection_ttl_seconds = -1 } }
    stream_routes = { incident = ["history"] }
  }

  expect_failures = [var.channels]
}

run "too_short_connections_table_name_is_rejected" {
  command = plan

  variables {
    channels      = { history = { connections_table_name = "ab" } }
    stream_routes = { incident = ["history"] }
  }

  expect_failures = [var.channels]
}

run "two_channels_sharing_a_table_are_rejected" {
  command = plan

  variables {
    channels = {
      events  = { connections_table_name = "Connections" }
      history = { connections_table_name = "Connections" }
    }
  }

  expect_failures = [var.channels]
}

run "unknown_message_type_in_routes_is_rejected" {
  command = plan

  variables {
    stream_routes = { alert = ["history"] }
  }

  expect_failures = [var.stream_routes]
}

run "route_to_a_missing_channel_is_rejected" {
  command = plan

  variables {
    stream_routes = { incident = ["dashboard"] }
  }

  expect_failures = [var.stream_routes]
}

run "routes_that_reach_no_channel_are_rejected" {
  command = plan

  variables {
    stream_routes = { incident = [] }
  }

  expect_failures = [var.stream_routes]
}

run "invalid_incident_table_name_is_rejected" {
  command = plan

  variables {
    incident_table_name = "Incident table"
  }

  expect_failures = [var.incident_table_name]
}

run "empty_incident_table_hash_key_is_rejected" {
  command = plan

  variables {
    incident_table_hash_key = ""
  }

  expect_failures = [var.incident_table_hash_key]
}

run "keys_only_stream_view_type_is_rejected" {
  command = plan

  variables {
    incident_stream_view_type = "KEYS_ONLY"
  }

  expect_failures = [var.incident_stream_view_type]
}

run "own_table_without_stream_arn_is_rejected" {
  command = plan

  variables {
    create_incident_table = false
  }

  expect_failures = [var.incident_stream_arn]
}

run "table_arn_instead_of_stream_arn_is_rejected" {
  command = plan

  variables {
    create_incident_table = false
    incident_stream_arn   = "arn:aws:dynamodb:eu-west-1:123456789012:table/Incident"
  }

  expect_failures = [var.incident_stream_arn]
}

run "zero_batch_size_is_rejected" {
  command = plan

  variables {
    stream_batch_size = 0
  }

  expect_failures = [var.stream_batch_size]
}

run "batching_window_over_300_seconds_is_rejected" {
  command = plan

  variables {
    stream_maximum_batching_window_in_seconds = 301
  }

  expect_failures = [var.stream_maximum_batching_window_in_seconds]
}

run "unlimited_retries_are_rejected" {
  command = plan

  variables {
    stream_maximum_retry_attempts = -1
  }

  expect_failures = [var.stream_maximum_retry_attempts]
}

run "unlimited_record_age_is_rejected" {
  command = plan

  variables {
    stream_maximum_record_age_in_seconds = -1
  }

  expect_failures = [var.stream_maximum_record_age_in_seconds]
}

run "parallelization_factor_over_10_is_rejected" {
  command = plan

  variables {
    stream_parallelization_factor = 11
  }

  expect_failures = [var.stream_parallelization_factor]
}

run "unknown_starting_position_is_rejected" {
  command = plan

  variables {
    stream_starting_position = "AT_TIMESTAMP"
  }

  expect_failures = [var.stream_starting_position]
}

run "heartbeat_every_10_minutes_is_rejected" {
  command = plan

  variables {
    heartbeat_schedule_expression = "rate(10 minutes)"
  }

  expect_failures = [var.heartbeat_schedule_expression]
}

run "hourly_heartbeat_rate_is_rejected" {
  command = plan

  variables {
    heartbeat_schedule_expression = "rate(1 hour)"
  }

  expect_failures = [var.heartbeat_schedule_expression]
}

run "hourly_heartbeat_cron_is_rejected" {
  command = plan

  variables {
    heartbeat_schedule_expression = "cron(0 * * * ? *)"
  }

  expect_failures = [var.heartbeat_schedule_expression]
}

run "heartbeat_cron_every_10_minutes_is_rejected" {
  command = plan

  variables {
    heartbeat_schedule_expression = "cron(*/10 * * * ? *)"
  }

  expect_failures = [var.heartbeat_schedule_expression]
}

run "heartbeat_cron_during_office_hours_only_is_rejected" {
  command = plan

  variables {
    heartbeat_schedule_expression = "cron(*/5 8-18 ? * MON-FRI *)"
  }

  expect_failures = [var.heartbeat_schedule_expression]
}

run "non_python_runtime_is_rejected" {
  command = plan

  variables {
    lambda_runtime = "nodejs20.x"
  }

  expect_failures = [var.lambda_runtime]
}

run "unknown_architecture_is_rejected" {
  command = plan

  variables {
    lambda_architecture = "x86"
  }

  expect_failures = [var.lambda_architecture]
}

run "memory_below_128_mb_is_rejected" {
  command = plan

  variables {
    lambda_memory_size = 64
  }

  expect_failures = [var.lambda_memory_size]
}

run "memory_above_10240_mb_is_rejected" {
  command = plan

  variables {
    lambda_memory_size = 10241
  }

  expect_failures = [var.lambda_memory_size]
}

run "a_functions_memory_below_128_mb_is_rejected" {
  command = plan

  variables {
    lambda_memory_sizes = { heartbeat = 64 }
  }

  expect_failures = [var.lambda_memory_sizes]
}

run "a_functions_memory_above_10240_mb_is_rejected" {
  command = plan

  variables {
    lambda_memory_sizes = { stream_processor = 20480 }
  }

  expect_failures = [var.lambda_memory_sizes]
}

run "a_functions_memory_in_fractions_of_a_mb_is_rejected" {
  command = plan

  variables {
    lambda_memory_sizes = { connect = 256.5 }
  }

  expect_failures = [var.lambda_memory_sizes]
}

run "connect_timeout_beyond_api_gateway_limit_is_rejected" {
  command = plan

  variables {
    lambda_timeouts = { connect = 30 }
  }

  expect_failures = [var.lambda_timeouts]
}

run "stream_processor_timeout_shorter_than_its_safety_margin_is_rejected" {
  command = plan

  variables {
    lambda_timeouts = { stream_processor = 9 }
  }

  expect_failures = [var.lambda_timeouts]
}

run "zero_heartbeat_timeout_is_rejected" {
  command = plan

  variables {
    lambda_timeouts = { heartbeat = 0 }
  }

  expect_failures = [var.lambda_timeouts]
}

run "fanout_worker_timeout_must_leave_the_stream_processor_ten_seconds" {
  command = plan

  variables {
    lambda_timeouts = { stream_processor = 60, fanout_worker = 51 }
  }

  expect_failures = [var.lambda_timeouts]
}

run "fan_out_sharding_needs_at_least_one_worker" {
  command = plan

  variables {
    fan_out_sharding = { max_workers = 0 }
  }

  expect_failures = [var.fan_out_sharding]
}

run "log_retention_cloudwatch_does_not_offer_is_rejected" {
  command = plan

  variables {
    log_retention_in_days = 2
  }

  expect_failures = [var.log_retention_in_days]
}

run "zero_max_concurrency_is_rejected" {
  command = plan

  variables {
    max_concurrency = 0
  }

  expect_failures = [var.max_concurrency]
}

run "permissions_boundary_that_is_not_a_policy_arn_is_rejected" {
  command = plan

  variables {
    iam_role_permissions_boundary = "arn:aws:iam::123456789012:role/boundary"
  }

  expect_failures = [var.iam_role_permissions_boundary]
}

run "kms_alias_instead_of_key_arn_is_rejected" {
  command = plan

  variables {
    kms_key_arn = "alias/incident-ws"
  }

  expect_failures = [var.kms_key_arn]
}

run "heartbeat_rate_of_1_minute_is_accepted" {
  command = plan

  variables {
    heartbeat_schedule_expression = "rate(1 minute)"
  }

  assert {
    condition     = module.heartbeat.rule_name == "incident-ws-heartbeat"
    error_message = "rate(1 minute) fires more often than the 10-minute idle timeout and must be accepted."
  }
}

run "heartbeat_rate_of_9_minutes_is_accepted" {
  command = plan

  variables {
    heartbeat_schedule_expression = "rate(9 minutes)"
  }

  assert {
    condition     = module.heartbeat.rule_name == "incident-ws-heartbeat"
    error_message = "rate(9 minutes) fires more often than the 10-minute idle timeout and must be accepted."
  }
}

run "heartbeat_cron_every_9_minutes_is_accepted" {
  command = plan

  variables {
    heartbeat_schedule_expression = "cron(*/9 * * * ? *)"
  }

  assert {
    condition     = module.heartbeat.rule_name == "incident-ws-heartbeat"
    error_message = "cron(*/9 * * * ? *) fires more often than the 10-minute idle timeout and must be accepted."
  }
}

run "heartbeat_cron_from_minute_0_every_5_minutes_is_accepted" {
  command = plan

  variables {
    heartbeat_schedule_expression = "cron(0/5 * * * ? *)"
  }

  assert {
    condition     = module.heartbeat.rule_name == "incident-ws-heartbeat"
    error_message = "cron(0/5 * * * ? *) fires more often than the 10-minute idle timeout and must be accepted."
  }
}

################################################################################
# Internal modules
################################################################################

run "channel_module_channel_name_with_uppercase_is_rejected" {
  command = plan

  module {
    source = "./modules/websocket-channel"
  }

  variables {
    channel = "History"
  }

  expect_failures = [var.channel]
}

run "channel_module_stage_name_with_a_slash_is_rejected" {
  command = plan

  module {
    source = "./modules/websocket-channel"
  }

  variables {
    stage_name = "prod/v1"
  }

  expect_failures = [var.stage_name]
}

run "channel_module_zero_burst_limit_is_rejected" {
  command = plan

  module {
    source = "./modules/websocket-channel"
  }

  variables {
    throttling_burst_limit = 0
  }

  expect_failures = [var.throttling_burst_limit]
}

run "channel_module_negative_rate_limit_is_rejected" {
  command = plan

  module {
    source = "./modules/websocket-channel"
  }

  variables {
    throttling_rate_limit = -1
  }

  expect_failures = [var.throttling_rate_limit]
}

run "channel_module_negative_connection_ttl_is_rejected" {
  command = plan

  module {
    source = "./modules/websocket-channel"
  }

  variables {
    connection_ttl_seconds = -1
  }

  expect_failures = [var.connection_ttl_seconds]
}

run "channel_module_too_short_connections_table_name_is_rejected" {
  command = plan

  module {
    source = "./modules/websocket-channel"
  }

  variables {
    connections_table_name = "ab"
  }

  expect_failures = [var.connections_table_name]
}

run "channel_module_connect_timeout_beyond_api_gateway_limit_is_rejected" {
  command = plan

  module {
    source = "./modules/websocket-channel"
  }

  variables {
    timeouts = { connect = 30 }
  }

  expect_failures = [var.timeouts]
}

run "fan_out_module_without_channels_is_rejected" {
  command = plan

  module {
    source = "./modules/fan-out"
  }

  variables {
    channels = {}
  }

  expect_failures = [var.channels]
}

run "fan_out_module_fractional_max_concurrency_is_rejected" {
  command = plan

  module {
    source = "./modules/fan-out"
  }

  variables {
    channels        = { history = { connections_table_name = "t", connections_table_arn = "arn", management_endpoint = "https://h", manage_connections_arn = "arn/*" } }
    max_concurrency = 1.5
  }

  expect_failures = [var.max_concurrency]
}

run "incident_stream_module_routing_to_a_channel_beyond_its_fan_out_is_rejected" {
  command = plan

  module {
    source = "./modules/incident-stream"
  }

  variables {
    message_routing = { incident = ["events"] }
  }

  expect_failures = [var.message_routing]
}

run "incident_stream_module_unknown_message_type_in_routing_is_rejected" {
  command = plan

  module {
    source = "./modules/incident-stream"
  }

  variables {
    message_routing = { alert = ["history"] }
  }

  expect_failures = [var.message_routing]
}

run "incident_stream_module_keys_only_stream_view_type_is_rejected" {
  command = plan

  module {
    source = "./modules/incident-stream"
  }

  variables {
    stream_view_type = "KEYS_ONLY"
  }

  expect_failures = [var.stream_view_type]
}

run "incident_stream_module_own_table_without_stream_arn_is_rejected" {
  command = plan

  module {
    source = "./modules/incident-stream"
  }

  variables {
    create_table = false
  }

  expect_failures = [var.stream_arn]
}

run "incident_stream_module_table_arn_instead_of_stream_arn_is_rejected" {
  command = plan

  module {
    source = "./modules/incident-stream"
  }

  variables {
    stream_arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/Incident"
  }

  expect_failures = [var.stream_arn]
}

run "incident_stream_module_zero_batch_size_is_rejected" {
  command = plan

  module {
    source = "./modules/incident-stream"
  }

  variables {
    batch_size = 0
  }

  expect_failures = [var.batch_size]
}

run "incident_stream_module_batching_window_over_300_seconds_is_rejected" {
  command = plan

  module {
    source = "./modules/incident-stream"
  }

  variables {
    maximum_batching_window_in_seconds = 301
  }

  expect_failures = [var.maximum_batching_window_in_seconds]
}

run "incident_stream_module_unlimited_retries_are_rejected" {
  command = plan

  module {
    source = "./modules/incident-stream"
  }

  variables {
    maximum_retry_attempts = -1
  }

  expect_failures = [var.maximum_retry_attempts]
}

run "incident_stream_module_unlimited_record_age_is_rejected" {
  command = plan

  module {
    source = "./modules/incident-stream"
  }

  variables {
    maximum_record_age_in_seconds = -1
  }

  expect_failures = [var.maximum_record_age_in_seconds]
}

run "incident_stream_module_unknown_starting_position_is_rejected" {
  command = plan

  module {
    source = "./modules/incident-stream"
  }

  variables {
    starting_position = "AT_TIMESTAMP"
  }

  expect_failures = [var.starting_position]
}

run "lambda_function_module_non_python_runtime_is_rejected" {
  command = plan

  module {
    source = "./modules/lambda-function"
  }

  variables {
    lambda = merge(var.lambda, { runtime = "nodejs20.x" })
  }

  expect_failures = [var.lambda]
}

run "lambda_function_module_permissions_boundary_that_is_not_a_policy_arn_is_rejected" {
  command = plan

  module {
    source = "./modules/lambda-function"
  }

  variables {
    lambda = merge(var.lambda, { role_permissions_boundary = "arn:aws:iam::123456789012:role/boundary" })
  }

  expect_failures = [var.lambda]
}

run "lambda_function_module_wildcard_action_is_rejected" {
  command = plan

  module {
    source = "./modules/lambda-function"
  }

  variables {
    policy_statements = { Everything = { actions = ["dynamodb:*"], resources = ["arn:aws:dynamodb:eu-west-1:123456789012:table/x"] } }
  }

  expect_failures = [var.policy_statements]
}

run "lambda_function_module_kms_alias_instead_of_key_arn_is_rejected" {
  command = plan

  module {
    source = "./modules/lambda-function"
  }

  variables {
    kms_key_arn = "alias/incident-ws"
  }

  expect_failures = [var.kms_key_arn]
}

run "lambda_function_module_wildcard_kms_action_is_rejected" {
  command = plan

  module {
    source = "./modules/lambda-function"
  }

  variables {
    kms_actions = ["kms:*"]
  }

  expect_failures = [var.kms_actions]
}

run "heartbeat_module_schedule_of_10_minutes_is_rejected" {
  command = plan

  module {
    source = "./modules/heartbeat"
  }

  variables {
    schedule_expression = "rate(10 minutes)"
  }

  expect_failures = [var.schedule_expression]
}

run "incident_stream_module_timeout_shorter_than_its_safety_margin_is_rejected" {
  command = plan

  module {
    source = "./modules/incident-stream"
  }

  variables {
    timeout = 9
  }

  expect_failures = [var.timeout]
}

run "heartbeat_module_timeout_shorter_than_its_safety_margin_is_rejected" {
  command = plan

  module {
    source = "./modules/heartbeat"
  }

  variables {
    timeout = 9
  }

  expect_failures = [var.timeout]
}

run "unknown_authorization_type_is_rejected" {
  command = plan

  variables {
    authorization = { type = "oidc" }
  }

  expect_failures = [var.authorization]
}

run "unknown_authorization_type_of_a_channel_is_rejected" {
  command = plan

  variables {
    channels      = { history = { authorization = { type = "cognito" } } }
    stream_routes = { incident = ["history"] }
  }

  expect_failures = [var.authorization]
}

run "jwt_without_issuer_is_rejected" {
  command = plan

  variables {
    authorization = { type = "jwt", audiences = ["dashboard"] }
  }

  expect_failures = [var.authorization]
}

run "jwt_without_audience_is_rejected" {
  command = plan

  variables {
    authorization = { type = "jwt", issuer = "https://issuer.example.com" }
  }

  expect_failures = [var.authorization]
}

run "iam_with_an_issuer_is_rejected" {
  command = plan

  variables {
    authorization = { type = "iam", issuer = "https://issuer.example.com" }
  }

  expect_failures = [var.authorization]
}

run "none_with_allowed_origins_on_a_channel_is_rejected" {
  command = plan

  variables {
    channels      = { history = { authorization = { type = "none", allowed_origins = ["https://soc.example.com"] } } }
    stream_routes = { incident = ["history"] }
  }

  expect_failures = [var.authorization]
}

run "plain_http_issuer_is_rejected" {
  command = plan

  variables {
    authorization = { type = "jwt", issuer = "http://issuer.example.com", audiences = ["dashboard"] }
  }

  expect_failures = [var.authorization]
}

run "audience_with_a_comma_is_rejected" {
  command = plan

  variables {
    authorization = { type = "jwt", issuer = "https://issuer.example.com", audiences = ["dashboard,cli"] }
  }

  expect_failures = [var.authorization]
}

run "empty_accounts_claim_is_rejected" {
  command = plan

  variables {
    authorization = { type = "jwt", issuer = "https://issuer.example.com", audiences = ["dashboard"], accounts_claim = "" }
  }

  expect_failures = [var.authorization]
}

run "allowed_origin_with_a_path_is_rejected" {
  command = plan

  variables {
    authorization = { type = "jwt", issuer = "https://issuer.example.com", audiences = ["dashboard"], allowed_origins = ["https://soc.example.com/app"] }
  }

  expect_failures = [var.authorization]
}

run "empty_data_attribute_name_is_rejected" {
  command = plan

  variables {
    channels      = { history = { data_attributes = ["incident_id", ""] } }
    stream_routes = { incident = ["history"] }
  }

  expect_failures = [var.channels]
}

run "access_log_retention_cloudwatch_does_not_offer_is_rejected" {
  command = plan

  variables {
    access_logs = { retention_in_days = 2 }
  }

  expect_failures = [var.access_logs]
}

run "account_role_without_access_logs_is_rejected" {
  command = plan

  variables {
    access_logs                     = { enabled = false }
    create_api_gateway_account_role = true
  }

  expect_failures = [var.create_api_gateway_account_role]
}

run "zero_reserved_concurrency_is_rejected" {
  command = plan

  variables {
    lambda_reserved_concurrency = { connect = 0 }
  }

  expect_failures = [var.lambda_reserved_concurrency]
}

run "authorizer_timeout_beyond_api_gateways_limit_is_rejected" {
  command = plan

  variables {
    lambda_timeouts = { authorizer = 30 }
  }

  expect_failures = [var.lambda_timeouts]
}

run "websocket_channel_module_unknown_authorization_type_is_rejected" {
  command = plan

  module {
    source = "./modules/websocket-channel"
  }

  variables {
    authorization = { type = "oidc" }
  }

  expect_failures = [var.authorization]
}

run "websocket_channel_module_jwt_without_issuer_is_rejected" {
  command = plan

  module {
    source = "./modules/websocket-channel"
  }

  variables {
    authorization = { type = "jwt", audiences = ["dashboard"] }
  }

  expect_failures = [var.authorization]
}

run "lambda_function_module_fractional_reserved_concurrency_is_rejected" {
  command = plan

  module {
    source = "./modules/lambda-function"
  }

  variables {
    reserved_concurrent_executions = 2.5
  }

  expect_failures = [var.reserved_concurrent_executions]
}

run "message_retention_of_zero_hours_is_rejected" {
  command = plan

  variables {
    message_log = { retention_in_hours = 0 }
  }

  expect_failures = [var.message_log]
}

run "fractional_message_retention_is_rejected" {
  command = plan

  variables {
    message_log = { retention_in_hours = 1.5 }
  }

  expect_failures = [var.message_log]
}

run "replay_of_more_than_1000_messages_is_rejected" {
  command = plan

  variables {
    message_log = { replay_max_messages = 1001 }
  }

  expect_failures = [var.message_log]
}

run "too_short_messages_table_name_is_rejected" {
  command = plan

  variables {
    channels      = { history = { messages_table_name = "ab" } }
    stream_routes = { incident = ["history"] }
  }

  expect_failures = [var.channels]
}

run "message_log_named_like_another_channels_connections_table_is_rejected" {
  command = plan

  variables {
    channels = {
      events  = { messages_table_name = "incident-ws-history-connections" }
      history = {}
    }
    stream_routes = { incident = ["history"] }
  }

  expect_failures = [var.channels]
}

run "replay_timeout_beyond_api_gateways_limit_is_rejected" {
  command = plan

  variables {
    lambda_timeouts = { replay = 30 }
  }

  expect_failures = [var.lambda_timeouts]
}

run "presence_timeout_shorter_than_its_safety_margin_is_rejected" {
  command = plan

  variables {
    lambda_timeouts = { presence = 9 }
  }

  expect_failures = [var.lambda_timeouts]
}

run "websocket_channel_module_replay_of_no_message_is_rejected" {
  command = plan

  module {
    source = "./modules/websocket-channel"
  }

  variables {
    message_log = { replay_max_messages = 0 }
  }

  expect_failures = [var.message_log]
}

run "websocket_channel_module_too_short_messages_table_name_is_rejected" {
  command = plan

  module {
    source = "./modules/websocket-channel"
  }

  variables {
    message_log = { table_name = "ab" }
  }

  expect_failures = [var.message_log]
}

run "websocket_channel_module_presence_function_arn_instead_of_name_is_rejected" {
  command = plan

  module {
    source = "./modules/websocket-channel"
  }

  variables {
    presence_function_name = "arn:aws:lambda:eu-west-1:123456789012:function:incident-ws-presence"
  }

  expect_failures = [var.presence_function_name]
}

run "fan_out_module_message_retention_under_a_minute_is_rejected" {
  command = plan

  module {
    source = "./modules/fan-out"
  }

  variables {
    channels    = { history = { connections_table_name = "t", connections_table_arn = "arn", management_endpoint = "https://h", manage_connections_arn = "arn/*" } }
    message_log = { retention_seconds = 59 }
  }

  expect_failures = [var.message_log]
}

run "presence_module_without_channels_is_rejected" {
  command = plan

  module {
    source = "./modules/presence"
  }

  variables {
    channels = {}
  }

  expect_failures = [var.channels]
}

run "presence_module_timeout_shorter_than_its_safety_margin_is_rejected" {
  command = plan

  module {
    source = "./modules/presence"
  }

  variables {
    channels = { history = { connections_table_stream_arn = "arn/stream/1", presence_source_arn = "arn/prod/presence" } }
    timeout  = 9
  }

  expect_failures = [var.timeout]
}

run "metrics_namespace_reserved_for_aws_is_rejected" {
  command = plan

  variables {
    metrics_namespace = "AWS/IncidentWebSocket"
  }

  expect_failures = [var.metrics_namespace]
}

run "metrics_namespace_with_a_space_is_rejected" {
  command = plan

  variables {
    metrics_namespace = "Incident WebSocket"
  }

  expect_failures = [var.metrics_namespace]
}

run "alarms_topic_that_is_not_an_sns_arn_is_rejected" {
  command = plan

  variables {
    alarms = { sns_topic_arn = "arn:aws:sqs:eu-west-1:123456789012:oncall" }
  }

  expect_failures = [var.alarms]
}

run "zero_alarm_count_threshold_is_rejected" {
  command = plan

  variables {
    alarms = { sns_topic_arn = "arn:aws:sns:eu-west-1:123456789012:oncall", dead_letter_queue_messages = 0 }
  }

  expect_failures = [var.alarms]
}

run "delivery_failure_percentage_of_100_is_rejected" {
  command = plan

  variables {
    alarms = { sns_topic_arn = "arn:aws:sns:eu-west-1:123456789012:oncall", delivery_failure_percent = 100 }
  }

  expect_failures = [var.alarms]
}

run "zero_latency_threshold_is_rejected" {
  command = plan

  variables {
    alarms = { sns_topic_arn = "arn:aws:sns:eu-west-1:123456789012:oncall", latency_p99_milliseconds = 0 }
  }

  expect_failures = [var.alarms]
}

run "channel_function_memory_above_10240_mb_is_rejected" {
  command = plan

  module {
    source = "./modules/websocket-channel"
  }

  variables {
    memory_sizes = { replay = 16384 }
  }

  expect_failures = [var.memory_sizes]
}

run "fanout_worker_memory_below_128_mb_is_rejected" {
  command = plan

  module {
    source = "./modules/incident-stream"
  }

  variables {
    worker_memory_size = 100
  }

  expect_failures = [var.worker_memory_size]
}
