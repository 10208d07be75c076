output "api_id" {
  description = "ID of the WebSocket API."
  value       = aws_apigatewayv2_api.this.id
}

output "stage_name" {
  description = "Name of the WebSocket API stage."
  value       = aws_apigatewayv2_stage.this.name
}

output "websocket_url" {
  description = "URL clients connect to: `wss://{api-id}.execute-api.{region}.amazonaws.com/{stage}`."
  value       = "wss://${local.api_host}/${aws_apigatewayv2_stage.this.name}"
}

output "management_endpoint" {
  description = "`@connections` management endpoint: `https://{api-id}.execute-api.{region}.amazonaws.com/{stage}`."
  value       = "https://${local.api_host}/${aws_apigatewayv2_stage.this.name}"
}

output "manage_connections_arn" {
  description = "The only resource `execute-api:ManageConnections` needs to post to this channel's clients: `<execution-arn>/<stage>/POST/@connections/*`."
  value       = "${aws_apigatewayv2_api.this.execution_arn}/${aws_apigatewayv2_stage.this.name}/POST/@connections/*"
}

output "connections_table_name" {
  description = "Name of the connections table."
  value       = aws_dynamodb_table.this.name
}

output "connections_table_arn" {
  description = "ARN of the connections table."
  value       = aws_dynamodb_table.this.arn
}

output "connections_table_stream_arn" {
  description = "ARN of the connections table's stream (new and old images), which feeds the presence function; `null` without presence."
  value       = local.presence ? aws_dynamodb_table.this.stream_arn : null
}

output "audience_index_name" {
  description = "Name of the connections table's index by `audience` (sort key `connectionId`; projects `account`, `accounts`, `region`, `ttl`)."
  value       = local.audience_index
}

output "audience_index_arn" {
  description = "ARN of the connections table's `audience` index, the only resource `dynamodb:Query` needs to read it."
  value       = "${aws_dynamodb_table.this.arn}/index/${local.audience_index}"
}

output "audience_index_query_from" {
  description = "RFC 3339 time from which every open connection of the channel is in the `audience` index: when the index and the `$connect` writing `audience` were in place, plus 2 hours (API Gateway's longest connection), the `$connect` timeout and 5 minutes. Before it, the stream processor reads the whole table."
  value       = local.audience_index_query_from
}

output "messages_table_name" {
  description = "Name of the channel's message log table (keys `channel` and `id`, TTL on `ttl`); `null` without the message log."
  value       = try(aws_dynamodb_table.messages[0].name, null)
}

output "messages_table_arn" {
  description = "ARN of the channel's message log table; `null` without the message log."
  value       = try(aws_dynamodb_table.messages[0].arn, null)
}

output "presence_source_arn" {
  description = "What API Gateway invokes the presence function as for this channel, `<execution-arn>/<stage>/presence` (the source ARN of its invoke permission); `null` without presence."
  value       = local.presence ? "${local.stage_path}/presence" : null
}

output "execution_arn" {
  description = "Execution ARN of the WebSocket API, `arn:<partition>:execute-api:<region>:<account>:<api-id>`."
  value       = aws_apigatewayv2_api.this.execution_arn
}

output "function_names" {
  description = "Names of the channel's functions: `{ connect = ..., disconnect = ... }`, `replay` with the message log, and `authorizer` with JWT authorization."
  value       = { for key, function in module.function : key => function.function_name }
}

output "authorizer_id" {
  description = "ID of the `$connect` REQUEST authorizer with JWT authorization, else `null`."
  value       = try(aws_apigatewayv2_authorizer.this[0].id, null)
}

output "authorization_type" {
  description = "How `$connect` is authorized: `jwt`, `iam` or `none`."
  value       = var.authorization.type
}

output "data_attributes" {
  description = "What a message's `data` carries on this channel: `null` the whole item, `[]` nothing, or the listed attributes."
  value       = var.data_attributes
}
