# No resources: what a function needs to send messages to the live connections of some channels,
# built once for every function that fans out.
locals {
  environment_variables = {
    CHANNELS = jsonencode({
      for key, channel in var.channels : key => {
        table           = channel.connections_table_name
        endpoint        = channel.management_endpoint
        data_attributes = channel.data_attributes
      }
    })
    MAX_CONCURRENCY = tostring(var.max_concurrency)
  }

  # Scan finds the connections, DeleteItem removes the ones API Gateway reports gone (410), and
  # ManageConnections posts to them; each only on these channels.
  policy_statements = {
    ConnectionsTables = {
      actions   = ["dynamodb:Scan", "dynamodb:DeleteItem"]
      resources = [for channel in var.channels : channel.connections_table_arn]
    }
    PostToConnections = {
      actions   = ["execute-api:ManageConnections"]
      resources = [for channel in var.channels : channel.manage_connections_arn]
    }
  }
}
