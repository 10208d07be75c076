# Root module contract: defaults, outputs and which channels each function reaches, planned
# against a mock provider.

mock_provider "aws" {
  override_during = plan
  source          = "./tests/terraform/mocks"
}

variables {
  authorization = { type = "none" }
}

run "defaults_give_the_three_original_channels_and_the_incident_table" {
  command = plan

  assert {
    condition     = keys(output.channels) == ["events", "history", "remediation"]
    error_message = "The default channels must be events, remediation and history."
  }

  assert {
    condition     = [for channel in values(output.channels) : channel.connections_table_name] == ["incident-ws-events-connections", "incident-ws-history-connections", "incident-ws-remediation-connections"]
    error_message = "Without connections_table_name a channel's table must be named <name_prefix>-<channel>-connections."
  }

  assert {
    condition     = alltrue([for channel in values(output.channels) : channel.stage_name == "prod"])
    error_message = "The default stage must be prod."
  }

  assert {
    condition     = output.channels.history.websocket_url == "wss://${output.channels.history.api_id}.execute-api.eu-west-1.amazonaws.com/prod"
    error_message = "websocket_url must be wss://{api-id}.execute-api.{region}.amazonaws.com/{stage}, got ${output.channels.history.websocket_url}."
  }

  assert {
    condition     = output.channels.history.management_endpoint == "https://${output.channels.history.api_id}.execute-api.eu-west-1.amazonaws.com/prod"
    error_message = "management_endpoint must be https://{api-id}.execute-api.{region}.amazonaws.com/{stage}, got ${output.channels.history.management_endpoint}."
  }

  assert {
    condition     = output.function_names.connect == { events = "incident-ws-events-connect", history = "incident-ws-history-connect", remediation = "incident-ws-remediation-connect" }
    error_message = "Every channel must have its own connect function named <prefix>-<channel>-connect."
  }

  assert {
    condition     = output.function_names.disconnect.history == "incident-ws-history-disconnect"
    error_message = "Every channel must have its own disconnect function named <prefix>-<channel>-disconnect."
  }

  assert {
    condition     = output.function_names.stream_processor == "incident-ws-stream-processor" && output.function_names.heartbeat == "incident-ws-heartbeat"
    error_message = "The stream processor and the heartbeat must be named <prefix>-stream-processor and <prefix>-heartbeat."
  }

  assert {
    condition     = output.function_names.fanout_worker == "incident-ws-fanout-worker"
    error_message = "The fan-out worker must be named <prefix>-fanout-worker."
  }

  assert {
    condition     = module.incident_stream.function_name == "incident-ws-stream-processor" && module.fan_out["fanout_worker"].channels == module.fan_out["stream_processor"].channels && !contains(keys(module.fan_out["fanout_worker"].policy_statements), "MessageLogs")
    error_message = "The fan-out worker must reach the stream processor's channels and write no message log."
  }

  assert {
    condition     = output.incident_table_name == "Incident"
    error_message = "The default incident table must be named Incident."
  }

  assert {
    condition     = output.incident_stream_arn != null && output.dead_letter_queue_url != null
    error_message = "The created table's stream and the dead-letter queue must be outputs."
  }
}

run "given_table_names_and_stages_are_kept" {
  command = plan

  variables {
    channels = {
      events      = { connections_table_name = "WebSocketConnections_v2" }
      remediation = { connections_table_name = "RemediationWebSocketConnections" }
      history     = { connections_table_name = "IncidentWebSocketConnections", stage_name = "v1" }
    }
  }

  assert {
    condition     = { for key, channel in output.channels : key => channel.connections_table_name } == { events = "WebSocketConnections_v2", remediation = "RemediationWebSocketConnections", history = "IncidentWebSocketConnections" }
    error_message = "A channel's connections_table_name must be used as given."
  }

  assert {
    condition     = endswith(output.channels.history.websocket_url, "/v1") && output.channels.history.stage_name == "v1"
    error_message = "A channel's stage_name must name its stage and end its URLs."
  }
}

run "bring_your_own_incident_stream" {
  command = plan

  variables {
    create_incident_table = false
    incident_stream_arn   = "arn:aws:dynamodb:eu-west-1:123456789012:table/SecurityIncidents/stream/2024-01-01T00:00:00.000"
  }

  assert {
    condition     = output.incident_table_name == "SecurityIncidents"
    error_message = "incident_table_name must be the table behind incident_stream_arn."
  }

  assert {
    condition     = output.incident_table_arn == "arn:aws:dynamodb:eu-west-1:123456789012:table/SecurityIncidents"
    error_message = "incident_table_arn must be the table ARN behind incident_stream_arn."
  }

  assert {
    condition     = output.incident_stream_arn == var.incident_stream_arn
    error_message = "incident_stream_arn must be passed through."
  }
}

run "stream_processor_reaches_the_routed_channels_and_heartbeat_every_channel" {
  command = plan

  variables {
    stream_routes = { incident = ["events", "history"], remediation = ["history"] }
  }

  assert {
    condition     = module.fan_out["stream_processor"].channels == tolist(["events", "history"])
    error_message = "The stream processor must reach exactly the channels named in stream_routes."
  }

  assert {
    condition     = keys(jsondecode(module.fan_out["stream_processor"].environment_variables.CHANNELS)) == ["events", "history"]
    error_message = "The stream processor's CHANNELS must list exactly the routed channels."
  }

  assert {
    condition     = module.fan_out["stream_processor"].policy_statements.ConnectionsTables.resources == [module.channel["events"].connections_table_arn, module.channel["history"].connections_table_arn]
    error_message = "The stream processor may Scan and DeleteItem on the routed channels' tables only."
  }

  assert {
    condition     = module.channel["history"].audience_index_arn == "${module.channel["history"].connections_table_arn}/index/audience"
    error_message = "Each channel must output its connections table's audience index for the stream processor."
  }

  assert {
    condition     = module.fan_out["heartbeat"].channels == tolist(["events", "history", "remediation"])
    error_message = "The heartbeat must reach every channel."
  }

  assert {
    condition     = module.fan_out["heartbeat"].environment_variables.MAX_CONCURRENCY == "128" && module.fan_out["stream_processor"].environment_variables.MAX_CONCURRENCY == "128"
    error_message = "Both functions must post with max_concurrency (default 128) in flight."
  }
}

run "root_authorization_applies_to_every_channel" {
  command = plan

  variables {
    authorization = { type = "jwt", issuer = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123", audiences = ["dashboard"] }
  }

  assert {
    condition     = [for channel in values(output.channels) : channel.authorization_type] == ["jwt", "jwt", "jwt"]
    error_message = "Without a channel's own authorization, every channel must use the root setting."
  }

  assert {
    condition     = output.function_names.authorizer == { events = "incident-ws-events-authorizer", history = "incident-ws-history-authorizer", remediation = "incident-ws-remediation-authorizer" }
    error_message = "Every JWT channel must have its own authorizer function named <prefix>-<channel>-authorizer."
  }
}

run "channel_authorization_replaces_the_root_setting" {
  command = plan

  variables {
    channels = {
      events      = {}
      remediation = { authorization = { type = "iam" } }
      history     = { authorization = { type = "jwt", issuer = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123", audiences = ["dashboard"] } }
    }
  }

  assert {
    condition     = { for key, channel in output.channels : key => channel.authorization_type } == { events = "none", remediation = "iam", history = "jwt" }
    error_message = "A channel's own authorization must replace the root setting for that channel only."
  }

  assert {
    condition     = output.function_names.authorizer == { history = "incident-ws-history-authorizer" }
    error_message = "Only the JWT channels may have an authorizer function."
  }
}

run "access_logs_go_to_a_retained_log_group_per_channel" {
  command = plan

  assert {
    condition     = { for key, group in aws_cloudwatch_log_group.access : key => group.name } == { events = "/aws/apigateway/incident-ws-events", history = "/aws/apigateway/incident-ws-history", remediation = "/aws/apigateway/incident-ws-remediation" }
    error_message = "Each channel's access log must go to its own log group, /aws/apigateway/<prefix>-<channel>."
  }

  assert {
    condition     = alltrue([for group in values(aws_cloudwatch_log_group.access) : group.retention_in_days == 365 && group.kms_key_id == null])
    error_message = "Access logs must be kept 365 days by default, with CloudWatch Logs' own encryption unless kms_key_arn is set."
  }

  assert {
    condition     = output.channels.history.access_log_group_name == "/aws/apigateway/incident-ws-history"
    error_message = "Each channel must output its access log group."
  }

  assert {
    condition     = length(aws_iam_role.api_gateway_cloudwatch) == 0 && length(aws_api_gateway_account.this) == 0 && output.api_gateway_cloudwatch_role_arn == null
    error_message = "The account's API Gateway CloudWatch role is account-wide: it must not be touched unless asked for."
  }
}

run "access_logs_can_be_turned_off" {
  command = plan

  variables {
    access_logs = { enabled = false }
  }

  assert {
    condition     = length(aws_cloudwatch_log_group.access) == 0 && output.channels.history.access_log_group_name == null
    error_message = "access_logs.enabled = false must create no access log group."
  }
}

run "kms_key_encrypts_the_access_logs" {
  command = plan

  variables {
    kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    access_logs = { retention_in_days = 731 }
  }

  assert {
    condition     = alltrue([for group in values(aws_cloudwatch_log_group.access) : group.kms_key_id == var.kms_key_arn && group.retention_in_days == 731])
    error_message = "kms_key_arn must encrypt every access log group, kept access_logs.retention_in_days."
  }
}

run "account_role_lets_api_gateway_write_this_account_and_regions_logs" {
  command = plan

  variables {
    create_api_gateway_account_role = true
  }

  assert {
    condition     = jsondecode(aws_iam_role.api_gateway_cloudwatch[0].assume_role_policy).Statement[0].Principal == { Service = "apigateway.amazonaws.com" } && aws_iam_role.api_gateway_cloudwatch[0].name == "incident-ws-apigateway-cloudwatch"
    error_message = "Only API Gateway may assume the role <prefix>-apigateway-cloudwatch."
  }

  assert {
    condition = [for statement in jsondecode(aws_iam_role_policy.api_gateway_cloudwatch[0].policy).Statement : [statement.Effect, statement.Action, statement.Resource]] == [[
      "Allow",
      ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:DescribeLogGroups", "logs:DescribeLogStreams", "logs:PutLogEvents", "logs:GetLogEvents", "logs:FilterLogEvents"],
      ["arn:aws:logs:eu-west-1:123456789012:log-group:*"],
    ]]
    error_message = "The role may use the CloudWatch Logs actions API Gateway needs, on the log groups of this account and region only."
  }

  assert {
    condition     = aws_api_gateway_account.this[0].cloudwatch_role_arn == aws_iam_role.api_gateway_cloudwatch[0].arn && output.api_gateway_cloudwatch_role_arn == aws_iam_role.api_gateway_cloudwatch[0].arn
    error_message = "The role must be set as the account's API Gateway CloudWatch role, and output."
  }
}

run "each_channel_chooses_what_data_its_messages_carry" {
  command = plan

  variables {
    channels = {
      events      = { data_attributes = [] }
      remediation = {}
      history     = { data_attributes = ["incident_id", "severity"] }
    }
    stream_routes = { incident = ["events", "history"], remediation = ["remediation"] }
  }

  assert {
    condition     = { for key, channel in jsondecode(module.fan_out["stream_processor"].environment_variables.CHANNELS) : key => channel.data_attributes } == { events = [], history = ["incident_id", "severity"], remediation = null }
    error_message = "CHANNELS must carry each channel's data_attributes: [] for no data, the list, or null for the whole item."
  }
}

run "default_routes_give_every_default_channel_a_producer" {
  command = plan

  assert {
    condition     = module.fan_out["stream_processor"].channels == tolist(["events", "history", "remediation"])
    error_message = "By default the stream processor must reach every channel: incidents to events and history, remediation logs to remediation and history."
  }

  assert {
    condition     = jsondecode(module.fan_out["stream_processor"].environment_variables.CHANNELS).remediation.table == "incident-ws-remediation-connections"
    error_message = "The remediation channel must be among the stream processor's CHANNELS by default."
  }
}

run "every_channel_logs_its_messages_for_replay_by_default" {
  command = plan

  variables {
    stream_routes = { incident = ["events", "history"] }
  }

  assert {
    condition     = { for key, channel in output.channels : key => channel.messages_table_name } == { events = "incident-ws-events-messages", history = "incident-ws-history-messages", remediation = "incident-ws-remediation-messages" }
    error_message = "Every channel must have a message log named <name_prefix>-<channel>-messages by default."
  }

  assert {
    condition     = output.function_names.replay == { events = "incident-ws-events-replay", history = "incident-ws-history-replay", remediation = "incident-ws-remediation-replay" }
    error_message = "Every channel must have its own replay function named <prefix>-<channel>-replay."
  }

  assert {
    condition     = { for key, channel in jsondecode(module.fan_out["stream_processor"].environment_variables.CHANNELS) : key => channel.messages_table } == { events = "incident-ws-events-messages", history = "incident-ws-history-messages" }
    error_message = "The stream processor's CHANNELS must name the routed channels' message logs."
  }

  assert {
    condition     = module.fan_out["stream_processor"].policy_statements.MessageLogs.resources == [module.channel["events"].messages_table_arn, module.channel["history"].messages_table_arn]
    error_message = "The stream processor may BatchWriteItem on the routed channels' message logs only."
  }

  assert {
    condition     = module.fan_out["stream_processor"].environment_variables.MESSAGE_RETENTION_SECONDS == "86400" && module.channel["history"].messages_table_name != null
    error_message = "Messages must be kept 24 h (MESSAGE_RETENTION_SECONDS = 86400) by default."
  }

  assert {
    condition     = !strcontains(module.fan_out["heartbeat"].environment_variables.CHANNELS, "messages_table") && !contains(keys(module.fan_out["heartbeat"].policy_statements), "MessageLogs")
    error_message = "The heartbeat sends only pings: it must be told of no message log and may write none."
  }
}

run "message_log_settings_reach_the_stream_processor" {
  command = plan

  variables {
    channels = {
      events      = { messages_table_name = "IncidentWebSocketMessages" }
      remediation = {}
      history     = {}
    }
    message_log = { retention_in_hours = 48 }
  }

  assert {
    condition     = module.fan_out["stream_processor"].environment_variables.MESSAGE_RETENTION_SECONDS == "172800"
    error_message = "retention_in_hours must reach the stream processor in seconds."
  }

  assert {
    condition     = output.channels.events.messages_table_name == "IncidentWebSocketMessages" && jsondecode(module.fan_out["stream_processor"].environment_variables.CHANNELS).events.messages_table == "IncidentWebSocketMessages"
    error_message = "A channel's messages_table_name must name its message log."
  }
}

run "message_log_can_be_turned_off" {
  command = plan

  variables {
    message_log = { enabled = false }
  }

  assert {
    condition     = alltrue([for channel in values(output.channels) : channel.messages_table_name == null && channel.messages_table_arn == null]) && output.function_names.replay == {}
    error_message = "message_log.enabled = false must create no message log and no replay function."
  }

  assert {
    condition     = alltrue([for channel in values(jsondecode(module.fan_out["stream_processor"].environment_variables.CHANNELS)) : channel.messages_table == null]) && !contains(keys(module.fan_out["stream_processor"].policy_statements), "MessageLogs")
    error_message = "Without a message log the stream processor must be told messages_table = null and may write no log."
  }
}

run "presence_is_off_unless_a_channel_asks_for_it" {
  command = plan

  assert {
    condition     = length(module.presence) == 0 && output.function_names.presence == null && output.presence_dead_letter_queue_url == null
    error_message = "Without a channel with presence there must be no presence function or queue."
  }

  assert {
    condition     = alltrue([for channel in values(output.channels) : !channel.presence]) && alltrue([for channel in values(module.channel) : channel.connections_table_stream_arn == null])
    error_message = "Without presence no connections table may stream."
  }
}

run "channels_with_presence_share_one_presence_function" {
  command = plan

  variables {
    channels = {
      events      = {}
      remediation = { presence = true }
      history     = { presence = true }
    }
  }

  assert {
    condition     = output.function_names.presence == "incident-ws-presence" && output.presence_dead_letter_queue_url != null
    error_message = "The channels with presence must share one function, <prefix>-presence, and its queue."
  }

  assert {
    condition     = { for key, channel in output.channels : key => channel.presence } == { events = false, history = true, remediation = true }
    error_message = "The channels output must say which channels have presence."
  }

  assert {
    condition     = module.fan_out["presence"].channels == tolist(["history", "remediation"]) && module.fan_out["presence"].policy_statements.ConnectionsTables.actions == tolist(["dynamodb:Scan", "dynamodb:GetItem"])
    error_message = "The presence function must reach the channels with presence only, reading their tables."
  }

  assert {
    condition     = keys(module.presence[0].event_source_mapping_uuids) == ["history", "remediation"]
    error_message = "Each channel with presence must feed its stream to the presence function."
  }

  assert {
    condition     = module.channel["events"].connections_table_stream_arn == null && module.channel["history"].presence_source_arn == "${module.channel["history"].execution_arn}/prod/presence"
    error_message = "Only the channels with presence may stream their connections and route presence frames."
  }
}

run "metrics_go_to_a_namespace_of_the_deployment_and_nothing_is_alarmed_by_default" {
  command = plan

  assert {
    condition     = output.metrics_namespace == "IncidentWebSocket/incident-ws"
    error_message = "Without metrics_namespace the metrics must go to IncidentWebSocket/<name_prefix>."
  }

  assert {
    condition     = output.alarm_arns == {} && output.dashboard_name == null
    error_message = "Without alarms and create_dashboard there must be no alarm and no dashboard."
  }
}

run "alarms_and_dashboard_watch_every_function_queue_and_channel_deployed" {
  command = plan

  variables {
    metrics_namespace = "SecOps/WebSockets"
    alarms            = { sns_topic_arn = "arn:aws:sns:eu-west-1:123456789012:oncall" }
    create_dashboard  = true
    channels = {
      events      = {}
      remediation = { presence = true }
      history     = { authorization = { type = "jwt", issuer = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123", audiences = ["dashboard"] } }
    }
    stream_routes   = { incident = ["history"], remediation = ["history"] }
    finding_sources = { guardduty = {} }
  }

  assert {
    condition     = output.metrics_namespace == "SecOps/WebSockets"
    error_message = "A given metrics_namespace must be used as it is."
  }

  assert {
    condition = sort(keys(output.alarm_arns)) == sort(concat(
      [for queue in ["stream-processor", "presence", "findings"] : "incident-ws-dlq-${queue}"],
      ["incident-ws-iterator-age"],
      flatten([
        for function in concat(
          flatten([for kind in ["connect", "disconnect", "replay"] : [for channel in ["events", "history", "remediation"] : "${kind}-${channel}"]]),
          ["authorizer-history", "stream-processor", "fanout-worker", "heartbeat", "presence", "findings"],
        ) : ["incident-ws-errors-${function}", "incident-ws-throttles-${function}"]
      ]),
      ["incident-ws-delivery-failures-history", "incident-ws-latency-p99-history"],
      flatten([for channel in ["events", "history", "remediation"] : ["incident-ws-api-4xx-${channel}", "incident-ws-api-5xx-${channel}", "incident-ws-connect-rejections-${channel}"]]),
    ))
    error_message = "There must be an alarm for every dead-letter queue and function deployed, the stream, every channel, and the delivery and latency of the channels the stream processor posts to."
  }

  assert {
    condition     = output.dashboard_name == "incident-ws-incident-websocket"
    error_message = "create_dashboard must create the dashboard <name_prefix>-incident-websocket."
  }
}
