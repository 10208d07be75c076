# modules/websocket-channel: the API, its stage, the connections table, the message log, the
# lifecycle and replay functions with exactly the permissions they need, and the presence route.

mock_provider "aws" {
  override_during = plan
  source          = "./tests/terraform/mocks"
}

variables {
  authorization          = { type = "none" }
  name_prefix            = "incident-ws"
  channel                = "history"
  connections_table_name = "IncidentWebSocketConnections"
  lambda                 = { packages_dir = "functions/dist", runtime = "python3.12", architecture = "arm64", memory_size = 256, log_retention_in_days = 30 }
}

run "connections_table_is_on_demand_keyed_by_connection_id_and_expires_on_ttl" {
  command = plan

  module {
    source = "./modules/websocket-channel"
  }

  assert {
    condition     = aws_dynamodb_table.this.billing_mode == "PAY_PER_REQUEST" && aws_dynamodb_table.this.hash_key == "connectionId"
    error_message = "The connections table must be PAY_PER_REQUEST with partition key connectionId."
  }

  assert {
    condition     = aws_dynamodb_table.this.server_side_encryption[0].enabled
    error_message = "The connections table must be encrypted with KMS."
  }

  assert {
    condition     = !aws_dynamodb_table.this.point_in_time_recovery[0].enabled
    error_message = "Point-in-time recovery of the connections table must be off unless asked for."
  }

  assert {
    condition     = aws_dynamodb_table.this.ttl[0].enabled && aws_dynamodb_table.this.ttl[0].attribute_name == "ttl"
    error_message = "TTL must be enabled on the attribute the connect function writes, `ttl`."
  }
}

run "connections_table_is_indexed_by_audience_with_what_delivery_reads" {
  command = plan

  module {
    source = "./modules/websocket-channel"
  }

  assert {
    condition     = length(aws_dynamodb_table.this.global_secondary_index) == 1
    error_message = "The connections table must have one index."
  }

  assert {
    condition = alltrue([for index in aws_dynamodb_table.this.global_secondary_index :
      index.name == "audience" && index.hash_key == "audience" && index.range_key == "connectionId"
    ])
    error_message = "The index must be `audience`, partition key audience, sort key connectionId."
  }

  assert {
    condition = alltrue([for index in aws_dynamodb_table.this.global_secondary_index :
      index.projection_type == "INCLUDE" && sort(index.non_key_attributes) == tolist(["account", "accounts", "region", "ttl"])
    ])
    error_message = "The index must project exactly the attributes delivery reads: account, accounts, region, ttl."
  }

  assert {
    condition     = contains([for attribute in aws_dynamodb_table.this.attribute : attribute if attribute.name == "audience"], { name = "audience", type = "S" })
    error_message = "`audience` must be declared a string attribute."
  }

  assert {
    condition     = output.audience_index_name == "audience" && output.audience_index_arn == "${aws_dynamodb_table.this.arn}/index/audience"
    error_message = "The index's name and ARN (<table-arn>/index/audience) must be output for the stream processor's policy."
  }
}

run "zero_ttl_turns_table_ttl_off_and_keeps_the_attribute_name" {
  command = plan

  module {
    source = "./modules/websocket-channel"
  }

  variables {
    connection_ttl_seconds = 0
  }

  assert {
    condition     = !aws_dynamodb_table.this.ttl[0].enabled
    error_message = "connection_ttl_seconds = 0 must disable TTL on the table."
  }

  assert {
    condition     = aws_dynamodb_table.this.ttl[0].attribute_name == "ttl"
    error_message = "Disabling TTL needs the attribute name (UpdateTimeToLive rejects an empty one)."
  }

  assert {
    condition     = module.function["connect"].environment_variables.CONNECTION_TTL_SECONDS == "0"
    error_message = "The connect function must be told not to write a ttl attribute."
  }
}

run "customer_managed_key_encrypts_the_table_and_scopes_kms_actions" {
  command = plan

  module {
    source = "./modules/websocket-channel"
  }

  variables {
    kms_key_arn            = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    point_in_time_recovery = true
  }

  assert {
    condition     = aws_dynamodb_table.this.server_side_encryption[0].kms_key_arn == var.kms_key_arn && aws_dynamodb_table.messages[0].server_side_encryption[0].kms_key_arn == var.kms_key_arn
    error_message = "kms_key_arn must encrypt the connections table and the message log."
  }

  assert {
    condition = [
      for statement in jsondecode(module.function["replay"].policy).Statement : statement.Action
      if statement.Sid == "EncryptionKey"
    ] == [["kms:Decrypt"]]
    error_message = "replay only reads the encrypted tables: kms:Decrypt."
  }

  assert {
    condition     = aws_dynamodb_table.this.point_in_time_recovery[0].enabled
    error_message = "point_in_time_recovery = true must enable PITR."
  }

  assert {
    condition = [
      for statement in jsondecode(module.function["disconnect"].policy).Statement : statement
      if statement.Sid == "EncryptionKey"
    ][0].Action == ["kms:Decrypt"]
    error_message = "disconnect only reads the deleted item: kms:Decrypt."
  }

  assert {
    condition = [
      for statement in jsondecode(module.function["connect"].policy).Statement : statement.Resource
      if statement.Sid == "EncryptionKey"
    ][0] == [var.kms_key_arn]
    error_message = "KMS permissions must be scoped to the given key."
  }
}

run "lifecycle_routes_proxy_to_their_functions_through_one_deployment" {
  command = plan

  module {
    source = "./modules/websocket-channel"
  }

  assert {
    condition     = aws_apigatewayv2_api.this.protocol_type == "WEBSOCKET" && aws_apigatewayv2_api.this.route_selection_expression == "$request.body.action"
    error_message = "The API must be a WebSocket API selecting routes by $request.body.action."
  }

  assert {
    condition     = sort([for route in aws_apigatewayv2_route.this : route.route_key]) == tolist(["$connect", "$disconnect", "replay"])
    error_message = "The API must have exactly the $connect, $disconnect and replay routes (no $default: unknown actions keep API Gateway's answer)."
  }

  assert {
    condition     = alltrue([for integration in aws_apigatewayv2_integration.this : integration.integration_type == "AWS_PROXY"])
    error_message = "Every route must be an AWS_PROXY integration."
  }

  assert {
    condition     = aws_apigatewayv2_api.this.tags["incident-websocket:channel"] == "history"
    error_message = "The API must be tagged with its channel key."
  }

  assert {
    condition     = can(regex("^[0-9a-f]{40}$", aws_apigatewayv2_deployment.this.triggers.redeployment))
    error_message = "The deployment's triggers must hold a hash of the routes and integrations."
  }

  assert {
    condition     = aws_apigatewayv2_stage.this.deployment_id == aws_apigatewayv2_deployment.this.id
    error_message = "The stage must serve the deployment."
  }

  assert {
    condition     = aws_lambda_permission.this["connect"].source_arn == "${aws_apigatewayv2_api.this.execution_arn}/prod/$connect"
    error_message = "The connect permission must be scoped to the $connect route of the stage."
  }

  assert {
    condition     = aws_lambda_permission.this["disconnect"].source_arn == "${aws_apigatewayv2_api.this.execution_arn}/prod/$disconnect"
    error_message = "The disconnect permission must be scoped to the $disconnect route of the stage."
  }

  assert {
    condition     = output.manage_connections_arn == "arn:aws:execute-api:eu-west-1:123456789012:${aws_apigatewayv2_api.this.id}/prod/POST/@connections/*"
    error_message = "ManageConnections must be granted on <api-id>/<stage>/POST/@connections/* only."
  }
}

run "stage_is_throttled_and_never_traces_message_bodies" {
  command = plan

  module {
    source = "./modules/websocket-channel"
  }

  variables {
    throttling_burst_limit = 300
    throttling_rate_limit  = 150
  }

  assert {
    condition     = aws_apigatewayv2_stage.this.default_route_settings[0].throttling_burst_limit == 300 && aws_apigatewayv2_stage.this.default_route_settings[0].throttling_rate_limit == 150
    error_message = "The stage must carry the configured throttling limits."
  }

  assert {
    condition     = aws_apigatewayv2_stage.this.default_route_settings[0].data_trace_enabled == false
    error_message = "Data tracing must be off: it would log message bodies."
  }
}

run "connect_and_disconnect_get_the_channel_environment" {
  command = plan

  module {
    source = "./modules/websocket-channel"
  }

  variables {
    store_source_ip = false
  }

  assert {
    condition = module.function["connect"].environment_variables == tomap({
      CONNECTIONS_TABLE      = "IncidentWebSocketConnections"
      CHANNEL_NAME           = "history"
      CONNECTION_TTL_SECONDS = "10800"
      STORE_SOURCE_IP        = "false"
      AUTHORIZATION_TYPE     = "none"
    })
    error_message = "connect must get CONNECTIONS_TABLE, CHANNEL_NAME, CONNECTION_TTL_SECONDS, STORE_SOURCE_IP and AUTHORIZATION_TYPE."
  }

  assert {
    condition = module.function["disconnect"].environment_variables == tomap({
      CONNECTIONS_TABLE = "IncidentWebSocketConnections"
      CHANNEL_NAME      = "history"
    })
    error_message = "disconnect must get CONNECTIONS_TABLE and CHANNEL_NAME."
  }
}

run "functions_may_only_touch_their_own_table_and_log_group" {
  command = plan

  module {
    source = "./modules/websocket-channel"
  }

  assert {
    condition = [
      for statement in jsondecode(module.function["connect"].policy).Statement : statement
      if statement.Sid == "ConnectionsTable"
      ] == [{
        Sid      = "ConnectionsTable"
        Effect   = "Allow"
        Action   = ["dynamodb:PutItem"]
        Resource = [aws_dynamodb_table.this.arn]
    }]
    error_message = "connect must be allowed dynamodb:PutItem on its own table and nothing else on it."
  }

  assert {
    condition = [
      for statement in jsondecode(module.function["disconnect"].policy).Statement : statement
      if statement.Sid == "ConnectionsTable"
      ] == [{
        Sid      = "ConnectionsTable"
        Effect   = "Allow"
        Action   = ["dynamodb:DeleteItem"]
        Resource = [aws_dynamodb_table.this.arn]
    }]
    error_message = "disconnect must be allowed dynamodb:DeleteItem on its own table and nothing else on it."
  }

  assert {
    condition     = sort([for statement in jsondecode(module.function["connect"].policy).Statement : statement.Sid]) == tolist(["ConnectionsTable", "WriteOwnLogs"])
    error_message = "Without a KMS key, connect must have no permission besides its table and its logs."
  }

  assert {
    condition     = module.function["connect"].log_group_name == "/aws/lambda/incident-ws-history-connect"
    error_message = "Each function must have its own /aws/lambda/<name> log group."
  }

  assert {
    condition = [
      for statement in jsondecode(module.function["connect"].policy).Statement : statement
      if statement.Sid == "WriteOwnLogs"
      ] == [{
        Sid      = "WriteOwnLogs"
        Effect   = "Allow"
        Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
        Resource = ["arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/mocked:*"]
    }]
    error_message = "A function may only create streams in and write to its own log group."
  }
}

run "table_name_defaults_to_prefix_channel_connections" {
  command = plan

  module {
    source = "./modules/websocket-channel"
  }

  variables {
    connections_table_name = null
  }

  assert {
    condition     = aws_dynamodb_table.this.name == "incident-ws-history-connections"
    error_message = "Without connections_table_name the table must be named <name_prefix>-<channel>-connections."
  }

  assert {
    condition     = aws_apigatewayv2_api.this.name == "incident-ws-history" && module.function["disconnect"].function_name == "incident-ws-history-disconnect"
    error_message = "The API must be named <name_prefix>-<channel> and its functions <name_prefix>-<channel>-<route>."
  }
}

run "jwt_puts_a_request_authorizer_function_in_front_of_connect" {
  command = plan

  module {
    source = "./modules/websocket-channel"
  }

  variables {
    authorization = {
      type            = "jwt"
      issuer          = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123"
      audiences       = ["dashboard", "cli"]
      accounts_claim  = "custom:accounts"
      allowed_origins = ["https://soc.example.com", "https://soc.example.org:8443"]
    }
    reserved_concurrency = { connect = 50, authorizer = 20 }
  }

  assert {
    condition     = aws_apigatewayv2_authorizer.this[0].authorizer_type == "REQUEST" && aws_apigatewayv2_authorizer.this[0].authorizer_uri == module.function["authorizer"].invoke_arn
    error_message = "jwt must deploy a Lambda REQUEST authorizer backed by the channel's authorizer function."
  }

  assert {
    condition     = aws_apigatewayv2_authorizer.this[0].identity_sources == null && aws_apigatewayv2_authorizer.this[0].authorizer_payload_format_version == null
    error_message = "The authorizer must list no identity source (a missing one answers 401 before the function runs) and set no payload format version (WebSocket APIs take none)."
  }

  assert {
    condition     = aws_apigatewayv2_route.this["connect"].authorization_type == "CUSTOM" && aws_apigatewayv2_route.this["connect"].authorizer_id == aws_apigatewayv2_authorizer.this[0].id
    error_message = "$connect must be authorized by the channel's authorizer."
  }

  assert {
    condition     = aws_apigatewayv2_route.this["disconnect"].authorization_type == "NONE" && aws_apigatewayv2_route.this["disconnect"].authorizer_id == null
    error_message = "Only $connect is authorized in a WebSocket API: $disconnect must stay NONE."
  }

  assert {
    condition     = aws_lambda_permission.this["authorizer"].function_name == module.function["authorizer"].function_name && aws_lambda_permission.this["authorizer"].source_arn == "${aws_apigatewayv2_api.this.execution_arn}/authorizers/${aws_apigatewayv2_authorizer.this[0].id}"
    error_message = "API Gateway may invoke the authorizer function only as this API's authorizer: <execution-arn>/authorizers/<authorizer-id>."
  }

  assert {
    condition = module.function["authorizer"].environment_variables == tomap({
      CHANNEL_NAME    = "history"
      OIDC_ISSUER     = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123"
      OIDC_AUDIENCES  = "dashboard,cli"
      ACCOUNTS_CLAIM  = "custom:accounts"
      ALLOWED_ORIGINS = "https://soc.example.com,https://soc.example.org:8443"
    })
    error_message = "The authorizer must get CHANNEL_NAME (its metrics' Channel), OIDC_ISSUER, OIDC_AUDIENCES and ALLOWED_ORIGINS (comma-separated) and ACCOUNTS_CLAIM, nothing else."
  }

  assert {
    condition     = module.function["connect"].environment_variables.AUTHORIZATION_TYPE == "jwt"
    error_message = "connect must be told the channel's authorization type, to refuse a connection without a principal."
  }

  assert {
    condition     = [for statement in jsondecode(module.function["authorizer"].policy).Statement : statement.Sid] == ["WriteOwnLogs"] && module.function["authorizer"].function_name == "incident-ws-history-authorizer"
    error_message = "The authorizer <prefix>-<channel>-authorizer calls no AWS API: it may only write its own logs."
  }

  assert {
    condition     = module.function["connect"].reserved_concurrent_executions == 50 && module.function["authorizer"].reserved_concurrent_executions == 20 && module.function["disconnect"].reserved_concurrent_executions == null
    error_message = "reserved_concurrency must reserve connect and authorizer, and leave disconnect unreserved."
  }

  assert {
    condition     = output.authorization_type == "jwt" && output.authorizer_id == aws_apigatewayv2_authorizer.this[0].id && output.function_names.authorizer == "incident-ws-history-authorizer"
    error_message = "The outputs must name the authorization type, the authorizer and its function."
  }
}

run "authorizer_changes_redeploy_the_stage" {
  command = plan

  module {
    source = "./modules/websocket-channel"
  }

  variables {
    authorization = { type = "jwt", issuer = "https://issuer.example.com", audiences = ["dashboard"] }
  }

  assert {
    condition = aws_apigatewayv2_deployment.this.triggers.redeployment == sha1(jsonencode([
      for resources in [aws_apigatewayv2_route.this, aws_apigatewayv2_integration.this, aws_apigatewayv2_authorizer.this] : {
        for key, resource in resources : key => { for name, value in resource : name => value if name != "region" }
      }
    ]))
    error_message = "The deployment's trigger must hash the routes, the integrations and the authorizer."
  }

  assert {
    condition     = module.function["authorizer"].environment_variables == tomap({ CHANNEL_NAME = "history", OIDC_ISSUER = "https://issuer.example.com", OIDC_AUDIENCES = "dashboard" })
    error_message = "ACCOUNTS_CLAIM and ALLOWED_ORIGINS must be left out when they are not set."
  }
}

run "iam_requires_signed_handshakes_and_deploys_no_authorizer" {
  command = plan

  module {
    source = "./modules/websocket-channel"
  }

  variables {
    authorization = { type = "iam" }
  }

  assert {
    condition     = aws_apigatewayv2_route.this["connect"].authorization_type == "AWS_IAM" && aws_apigatewayv2_route.this["connect"].authorizer_id == null
    error_message = "iam must set AWS_IAM on $connect."
  }

  assert {
    condition     = length(aws_apigatewayv2_authorizer.this) == 0 && keys(module.function) == ["connect", "disconnect", "replay"] && keys(aws_lambda_permission.this) == ["connect", "disconnect", "replay"]
    error_message = "iam must deploy no authorizer and no authorizer function."
  }

  assert {
    condition     = module.function["connect"].environment_variables.AUTHORIZATION_TYPE == "iam" && output.authorization_type == "iam"
    error_message = "connect must be told the channel's authorization type."
  }
}

run "none_leaves_connect_open" {
  command = plan

  module {
    source = "./modules/websocket-channel"
  }

  assert {
    condition     = aws_apigatewayv2_route.this["connect"].authorization_type == "NONE" && length(aws_apigatewayv2_authorizer.this) == 0
    error_message = "none must leave $connect without authorization and deploy no authorizer."
  }
}

run "stage_writes_one_json_line_per_request_to_the_access_log_group" {
  command = plan

  module {
    source = "./modules/websocket-channel"
  }

  variables {
    access_log_group_arn = "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/apigateway/incident-ws-history"
  }

  assert {
    condition     = aws_apigatewayv2_stage.this.access_log_settings[0].destination_arn == var.access_log_group_arn
    error_message = "The stage must send its access log to access_log_group_arn."
  }

  assert {
    condition     = jsondecode(aws_apigatewayv2_stage.this.access_log_settings[0].format) == jsondecode("{\"requestId\":\"$context.requestId\",\"time\":\"$context.requestTime\",\"epochMs\":\"$context.requestTimeEpoch\",\"eventType\":\"$context.eventType\",\"routeKey\":\"$context.routeKey\",\"connectionId\":\"$context.connectionId\",\"sourceIp\":\"$context.identity.sourceIp\",\"userAgent\":\"$context.identity.userAgent\",\"principal\":\"$context.authorizer.principalId\",\"accounts\":\"$context.authorizer.accounts\",\"userArn\":\"$context.identity.userArn\",\"status\":\"$context.status\",\"error\":\"$context.error.message\",\"authorizerError\":\"$context.authorizer.error\"}")
    error_message = "Each access log line must be one JSON object: request id, time, event, route, connection, source IP, user agent, principal, accounts, IAM caller, status and errors."
  }
}

run "stage_without_access_log_group_logs_nothing" {
  command = plan

  module {
    source = "./modules/websocket-channel"
  }

  assert {
    condition     = length(aws_apigatewayv2_stage.this.access_log_settings) == 0
    error_message = "Without access_log_group_arn the stage must not log access."
  }
}

run "message_log_is_keyed_by_channel_and_id_expires_on_ttl_and_keeps_no_backup" {
  command = plan

  module {
    source = "./modules/websocket-channel"
  }

  assert {
    condition     = aws_dynamodb_table.messages[0].name == "incident-ws-history-messages" && output.messages_table_name == aws_dynamodb_table.messages[0].name && output.messages_table_arn == aws_dynamodb_table.messages[0].arn
    error_message = "The message log must be named <name_prefix>-<channel>-messages and output."
  }

  assert {
    condition = (
      aws_dynamodb_table.messages[0].billing_mode == "PAY_PER_REQUEST" &&
      aws_dynamodb_table.messages[0].hash_key == "channel" && aws_dynamodb_table.messages[0].range_key == "id" &&
      aws_dynamodb_table.messages[0].attribute == toset([{ name = "channel", type = "S" }, { name = "id", type = "S" }])
    )
    error_message = "The message log must be on demand, keyed by channel (S) and id (S)."
  }

  assert {
    condition     = aws_dynamodb_table.messages[0].ttl[0].enabled && aws_dynamodb_table.messages[0].ttl[0].attribute_name == "ttl"
    error_message = "Logged messages must expire through TTL on `ttl`."
  }

  assert {
    condition     = aws_dynamodb_table.messages[0].server_side_encryption[0].enabled && !aws_dynamodb_table.messages[0].point_in_time_recovery[0].enabled
    error_message = "The message log must be encrypted with KMS and keep no point-in-time backup."
  }
}

run "given_messages_table_name_is_kept" {
  command = plan

  module {
    source = "./modules/websocket-channel"
  }

  variables {
    message_log = { table_name = "IncidentWebSocketMessages" }
  }

  assert {
    condition     = aws_dynamodb_table.messages[0].name == "IncidentWebSocketMessages" && module.function["replay"].environment_variables.MESSAGES_TABLE == "IncidentWebSocketMessages"
    error_message = "message_log.table_name must name the message log replay reads."
  }
}

run "replay_route_proxies_to_the_channels_replay_function_only" {
  command = plan

  module {
    source = "./modules/websocket-channel"
  }

  assert {
    condition     = aws_apigatewayv2_route.this["replay"].route_key == "replay" && aws_apigatewayv2_route.this["replay"].authorization_type == "NONE"
    error_message = "The replay route must take the frames {\"action\": \"replay\"} of connected clients."
  }

  assert {
    condition     = aws_apigatewayv2_integration.this["replay"].integration_uri == module.function["replay"].invoke_arn && aws_apigatewayv2_route.this["replay"].target == "integrations/${aws_apigatewayv2_integration.this["replay"].id}"
    error_message = "The replay route must be integrated with the channel's replay function."
  }

  assert {
    condition     = aws_lambda_permission.this["replay"].function_name == "incident-ws-history-replay" && aws_lambda_permission.this["replay"].source_arn == "${aws_apigatewayv2_api.this.execution_arn}/prod/replay"
    error_message = "The replay function <prefix>-<channel>-replay may be invoked by the replay route of the stage only."
  }
}

run "replay_gets_its_environment_and_exactly_its_permissions" {
  command = plan

  module {
    source = "./modules/websocket-channel"
  }

  variables {
    message_log = { replay_max_messages = 200 }
    timeouts    = { replay = 20 }
  }

  assert {
    condition = module.function["replay"].environment_variables == tomap({
      CHANNEL_NAME        = "history"
      CONNECTIONS_TABLE   = "IncidentWebSocketConnections"
      MESSAGES_TABLE      = "incident-ws-history-messages"
      MANAGEMENT_ENDPOINT = output.management_endpoint
      REPLAY_MAX_MESSAGES = "200"
    })
    error_message = "replay must get CHANNEL_NAME, CONNECTIONS_TABLE, MESSAGES_TABLE, MANAGEMENT_ENDPOINT and REPLAY_MAX_MESSAGES."
  }

  assert {
    condition = {
      for statement in jsondecode(module.function["replay"].policy).Statement : statement.Sid => [statement.Action, statement.Resource]
      } == {
      ConnectionsTable  = [["dynamodb:GetItem"], [aws_dynamodb_table.this.arn]]
      MessageLog        = [["dynamodb:Query"], [aws_dynamodb_table.messages[0].arn]]
      PostToConnections = [["execute-api:ManageConnections"], [output.manage_connections_arn]]
      WriteOwnLogs      = [["logs:CreateLogStream", "logs:PutLogEvents"], ["arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/mocked:*"]]
    }
    error_message = "replay may only GetItem on its channel's table, Query its message log, post to its own stage's connections and write its logs."
  }

  assert {
    condition     = output.function_names.replay == "incident-ws-history-replay"
    error_message = "The outputs must name the replay function."
  }
}

run "message_log_off_creates_no_table_route_or_function" {
  command = plan

  module {
    source = "./modules/websocket-channel"
  }

  variables {
    message_log = null
  }

  assert {
    condition     = length(aws_dynamodb_table.messages) == 0 && output.messages_table_name == null && output.messages_table_arn == null
    error_message = "Without the message log no table may be created."
  }

  assert {
    condition     = keys(aws_apigatewayv2_route.this) == ["connect", "disconnect"] && keys(module.function) == ["connect", "disconnect"]
    error_message = "Without the message log there must be no replay route or function."
  }
}

run "presence_streams_the_table_and_routes_presence_to_the_shared_function" {
  command = plan

  module {
    source = "./modules/websocket-channel"
  }

  variables {
    presence_function_name = "incident-ws-presence"
  }

  assert {
    condition     = aws_dynamodb_table.this.stream_enabled && aws_dynamodb_table.this.stream_view_type == "NEW_AND_OLD_IMAGES" && output.connections_table_stream_arn == aws_dynamodb_table.this.stream_arn
    error_message = "With presence the connections table must stream new and old images, and output the stream."
  }

  assert {
    condition     = aws_apigatewayv2_route.this["presence"].route_key == "presence" && aws_apigatewayv2_route.this["presence"].authorization_type == "NONE" && aws_apigatewayv2_integration.this["presence"].integration_type == "AWS_PROXY"
    error_message = "With presence the API must route {\"action\": \"presence\"} frames through an AWS_PROXY integration."
  }

  assert {
    condition     = aws_apigatewayv2_integration.this["presence"].integration_uri == "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:incident-ws-presence/invocations"
    error_message = "The presence route must invoke the function named presence_function_name in the API's region and account."
  }

  assert {
    condition     = output.presence_source_arn == "${aws_apigatewayv2_api.this.execution_arn}/prod/presence" && !contains(keys(aws_lambda_permission.this), "presence") && !contains(keys(module.function), "presence")
    error_message = "The channel must output the source ARN of its presence route and leave the function and its permission to the presence module."
  }
}

run "without_presence_the_table_streams_nothing" {
  command = plan

  module {
    source = "./modules/websocket-channel"
  }

  assert {
    condition     = !aws_dynamodb_table.this.stream_enabled
    error_message = "Without presence the connections table must not stream."
  }

  assert {
    condition     = !contains(keys(aws_apigatewayv2_route.this), "presence") && output.connections_table_stream_arn == null && output.presence_source_arn == null
    error_message = "Without presence there must be no presence route, stream or source ARN."
  }
}

run "each_function_takes_its_own_memory_else_the_shared_one" {
  command = plan

  module {
    source = "./modules/websocket-channel"
  }

  variables {
    authorization = { type = "jwt", issuer = "https://issuer.example.com", audiences = ["dashboards"] }
    memory_sizes  = { connect = 320, authorizer = 192 }
  }

  assert {
    condition     = module.function["connect"].memory_size == 320 && module.function["authorizer"].memory_size == 192
    error_message = "memory_sizes.connect and .authorizer must set those functions' memory."
  }

  assert {
    condition     = module.function["disconnect"].memory_size == 256 && module.function["replay"].memory_size == 256
    error_message = "A function memory_sizes leaves out must take lambda.memory_size."
  }
}
