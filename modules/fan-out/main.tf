# No resources: what a function needs to send messages to the live connections of some channels,
# built once for every function that fans out.
locals {
  # The channels with a message log, when this function writes to them.
  logged_channels = var.message_log == null ? {} : { for key, channel in var.channels : key => channel if channel.messages_table_arn != null }

  environment_variables = merge(
    {
      CHANNELS = jsonencode({
        for key, channel in var.channels : key => merge(
          {
            table           = channel.connections_table_name
            endpoint        = channel.management_endpoint
            data_attributes = channel.data_attributes
          },
          var.message_log == null ? {} : { messages_table = channel.messages_table_name },
          var.presence ? { presence = true } : {},
        )
      })
      MAX_CONCURRENCY = tostring(var.max_concurrency)
    },
    var.message_log == null ? {} : { MESSAGE_RETENTION_SECONDS = tostring(var.message_log.retention_seconds) },
  )

  # Scan finds the connections and ManageConnections posts to them, on these channels only. A
  # function that delivers messages also marks (UpdateItem) and removes (DeleteItem) the
  # connections API Gateway reports gone (410); presence instead reads the requester's own row
  # (GetItem) and leaves cleaning up to the others.
  policy_statements = merge(
    {
      ConnectionsTables = {
        actions   = var.presence ? ["dynamodb:Scan", "dynamodb:GetItem"] : ["dynamodb:Scan", "dynamodb:UpdateItem", "dynamodb:DeleteItem"]
        resources = [for channel in var.channels : channel.connections_table_arn]
      }
      PostToConnections = {
        actions   = ["execute-api:ManageConnections"]
        resources = [for channel in var.channels : channel.manage_connections_arn]
      }
    },
    length(local.logged_channels) == 0 ? {} : {
      MessageLogs = {
        actions   = ["dynamodb:BatchWriteItem"]
        resources = [for channel in local.logged_channels : channel.messages_table_arn]
      }
    },
  )
}
