provider "aws" {
  region = var.region
}

# The original system: three channels with their original table names, incident and remediation
# changes of the `Incident` table broadcast to the history channel, and the account's high and
# critical GuardDuty and Security Hub findings written into that table as incidents. Agents and
# services connect with SigV4 (IAM); dashboards on the history channel sign in with Cognito (JWT).
# Every channel keeps a day of messages for clients that reconnect (the default message log);
# the remediation agents and the history dashboards see who else is connected (presence).
module "incident_ws" {
  source = "../../"

  name_prefix = "incident-ws"

  # Every channel unless it says otherwise: handshakes signed with SigV4 by IAM principals that
  # may execute-api:Invoke the channel's $connect.
  authorization = { type = "iam" }

  channels = {
    events = {
      connections_table_name = "WebSocketConnections_v2"
    }
    remediation = {
      connections_table_name = "RemediationWebSocketConnections"

      # Agent status monitoring: every agent that connects or drops off is announced.
      presence = true
    }
    history = {
      connections_table_name = "IncidentWebSocketConnections"
      throttling_burst_limit = 200
      throttling_rate_limit  = 100
      presence               = true

      # Dashboards: a Cognito user pool's tokens; each user sees the accounts in the token's
      # `custom:accounts` claim (`*` for all).
      authorization = {
        type           = "jwt"
        issuer         = var.oidc_issuer
        audiences      = var.oidc_audiences
        accounts_claim = "custom:accounts"
      }
    }
  }

  stream_routes = {
    incident    = ["history"]
    remediation = ["history"]
  }

  # Each channel's messages stay replayable for three days (a weekend), 200 per replay frame.
  message_log = {
    retention_in_hours  = 72
    replay_max_messages = 200
  }

  incident_table_name           = "Incident"
  incident_table_hash_key       = "incident_id"
  incident_table_range_key      = "entry_id"
  heartbeat_schedule_expression = "rate(5 minutes)"
  log_retention_in_days         = 30

  access_logs                     = { retention_in_days = 365 }
  create_api_gateway_account_role = var.create_api_gateway_account_role
  kms_key_arn                     = var.kms_key_arn
  lambda_reserved_concurrency     = var.lambda_reserved_concurrency

  finding_sources = {
    guardduty = { minimum_severity = "HIGH" }
    security_hub = {
      minimum_severity = "HIGH"
      formats          = ["asff", "ocsf"]
    }
  }

  # With an on-call address, CloudWatch alarms on what needs a person, with the documented
  # thresholds but one: the SOC expects an incident on its dashboards within 2 seconds.
  alarms = var.alarm_email == null ? null : {
    sns_topic_arn            = aws_sns_topic.alarms[0].arn
    latency_p99_milliseconds = 2000
  }
  create_dashboard = var.create_dashboard

  tags = {
    Project = "incident-websocket"
    Example = "complete"
  }
}

# The alarms' notifications (when one fires and when it is OK again) by email to the on-call
# address, which must confirm the subscription first.
resource "aws_sns_topic" "alarms" {
  count = var.alarm_email == null ? 0 : 1

  name = "incident-ws-alarms"
}

resource "aws_sns_topic_subscription" "alarms" {
  count = var.alarm_email == null ? 0 : 1

  topic_arn = aws_sns_topic.alarms[0].arn
  protocol  = "email"
  endpoint  = var.alarm_email
}
