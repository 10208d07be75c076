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

run "statements_allow_scan_delete_and_post_on_the_channels_reached_only" {
  command = plan

  module {
    source = "./modules/fan-out"
  }

  assert {
    condition = output.policy_statements == {
      ConnectionsTables = { actions = ["dynamodb:Scan", "dynamodb:DeleteItem"], resources = [for channel in var.channels : channel.connections_table_arn] }
      PostToConnections = { actions = ["execute-api:ManageConnections"], resources = [for channel in var.channels : channel.manage_connections_arn] }
    }
    error_message = "The statements must be exactly Scan+DeleteItem on the channels' tables and ManageConnections on their @connections."
  }

  assert {
    condition     = output.kms_actions == ["kms:Decrypt"]
    error_message = "Reading encrypted connections tables needs kms:Decrypt, nothing more."
  }
}
