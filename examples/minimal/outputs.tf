output "channels" {
  description = "The events channel: websocket_url (for clients), management_endpoint, api_id, stage_name, connections_table_name, connections_table_arn."
  value       = module.incident_ws.channels
}
