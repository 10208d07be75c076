provider "aws" {
  region = var.region
}

# The original system: three channels with their original table names, incident and remediation
# changes of the `Incident` table broadcast to the history channel, and the account's high and
# critical GuardDuty and Security Hub findings written into that table as incidents.
module "incident_ws" {
  source = "../../"

  name_prefix = "incident-ws"

  channels = {
    events = {
      connections_table_name = "WebSocketConnections_v2"
    }
    remediation = {
      connections_table_name = "RemediationWebSocketConnections"
    }
    history = {
      connections_table_name = "IncidentWebSocketConnections"
      throttling_burst_limit = 200
      throttling_rate_limit  = 100
    }
  }

  stream_routes = {
    incident    = ["history"]
    remediation = ["history"]
  }

  incident_table_name           = "Incident"
  incident_table_hash_key       = "incident_id"
  incident_table_range_key      = "entry_id"
  heartbeat_schedule_expression = "rate(5 minutes)"
  log_retention_in_days         = 30

  finding_sources = {
    guardduty = { minimum_severity = "HIGH" }
    security_hub = {
      minimum_severity = "HIGH"
      formats          = ["asff", "ocsf"]
    }
  }

  tags = {
    Project = "incident-websocket"
    Example = "complete"
  }
}
