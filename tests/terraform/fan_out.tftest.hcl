# modules/fan-out: the CHANNELS environment value and the IAM statements of a function that
# sends to the live connections of some channels, built from the channels it reaches.

variables {
  channels = {
    events  = { connections_table_name = "WebSocketConnections_v2", connections_table_arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/WebSocketConnections_v2", management_endpoint = "https://ev1.execute-api.eu-west-1.amazonaws.com/prod", manage_connections_arn = "arn:aws:execute-api:eu-west-1:123456789012:ev1/prod/POST/@connections/*" }
    history = { connections_table_name = "IncidentWebSocketConnections", connections_table_arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/IncidentWebSocketConnections", management_endpoint = "https://hi1.execute-api.eu-west-1.amazonaws.com/prod", manage_connections_arn = "arn:aws:execute-api:eu-west-1:123456789012:hi1/prod/POST/@connections/*" }
  }
  max_concurrency = 16
}

run "channels_env_names_each_channels_table_and_endpoint" {
  command = plan

  module {
    source = "./modules/fan-out"
  }

  assert {
    condition = jsondecode(output.environment_variables.CHANNELS) == {
      events  = { table = "WebSocketConnections_v2", endpoint = "https://ev1.execute-api.eu-west-1.amazonaws.com/prod", data_attributes = null }
      history = { table = "IncidentWebSocketConnections", endpoint = "https://hi1.execute-api.eu-west-1.amazonaws.com/prod", data_attributes = null }
    }
    error_message = "CHANNELS must list every channel reached with its table and management endpoint, and data_attributes = null (the whole item) when a channel does not choose."
  }

  assert {
    condition     = output.environment_variables.MAX_CONCURRENCY == "16"
    error_message = "MAX_CONCURRENCY must be max_concurrency."
  }

  assert {
    condition     = output.channels == tolist(["events", "history"])
    error_message = "channels must name the channels reached."
  }
}

run "statements_allow_scan_mark_delete_and_post_on_the_channels_reached_only" {
  command = plan

  module {
    source = "./modules/fan-out"
  }

  assert {
    condition = output.policy_statements == {
      ConnectionsTables = { actions = tolist(["dynamodb:Scan", "dynamodb:UpdateItem", "dynamodb:DeleteItem"]), resources = [for channel in var.channels : channel.connections_table_arn] }
      PostToConnections = { actions = ["execute-api:ManageConnections"], resources = [for channel in var.channels : channel.manage_connections_arn] }
    }
    error_message = "The statements must be exactly Scan+UpdateItem (the gone marker)+DeleteItem on the channels' tables and ManageConnections on their @connections."
  }

  assert {
    condition     = output.kms_actions == tolist(["kms:Decrypt"])
    error_message = "Reading encrypted connections tables needs kms:Decrypt, nothing more."
  }
}

run "message_log_names_each_channels_log_and_allows_batch_writes_to_those_only" {
  command = plan

  module {
    source = "./modules/fan-out"
  }

  variables {
    channels = {
      events  = merge(var.channels.events, { messages_table_name = "incident-ws-events-messages", messages_table_arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/incident-ws-events-messages" })
      history = var.channels.history
    }
    message_log = { retention_seconds = 86400 }
  }

  assert {
    condition     = { for key, channel in jsondecode(output.environment_variables.CHANNELS) : key => channel.messages_table } == { events = "incident-ws-events-messages", history = null }
    error_message = "Every CHANNELS entry must name its channel's message log, null for a channel without one."
  }

  assert {
    condition     = output.environment_variables.MESSAGE_RETENTION_SECONDS == "86400"
    error_message = "MESSAGE_RETENTION_SECONDS must be message_log.retention_seconds."
  }

  assert {
    condition     = output.policy_statements.MessageLogs == { actions = ["dynamodb:BatchWriteItem"], resources = ["arn:aws:dynamodb:eu-west-1:123456789012:table/incident-ws-events-messages"] }
    error_message = "The function may BatchWriteItem on the message logs of the channels reached, nothing else."
  }

  assert {
    condition     = output.kms_actions == tolist(["kms:Decrypt", "kms:GenerateDataKey"])
    error_message = "Writing encrypted message logs needs kms:GenerateDataKey besides kms:Decrypt."
  }
}

run "presence_marks_every_channel_and_only_reads_the_tables" {
  command = plan

  module {
    source = "./modules/fan-out"
  }

  variables {
    presence = true
  }

  assert {
    condition     = [for channel in jsondecode(output.environment_variables.CHANNELS) : channel] == [for channel in var.channels : { table = channel.connections_table_name, endpoint = channel.management_endpoint, data_attributes = null, presence = true }]
    error_message = "With presence every CHANNELS entry must carry presence = true and no messages_table."
  }

  assert {
    condition     = output.policy_statements.ConnectionsTables.actions == tolist(["dynamodb:Scan", "dynamodb:GetItem"]) && keys(output.policy_statements) == ["ConnectionsTables", "PostToConnections"]
    error_message = "Presence may only read the connections tables (Scan, GetItem) and post to their connections."
  }

  assert {
    condition     = !contains(keys(output.environment_variables), "MESSAGE_RETENTION_SECONDS")
    error_message = "A function that logs nothing must not get MESSAGE_RETENTION_SECONDS."
  }
}
