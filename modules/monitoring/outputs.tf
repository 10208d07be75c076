output "alarm_arns" {
  description = "ARNs of the alarms, keyed by alarm name (`<prefix>-<what>[-<channel>]`); `{}` without `alarms`."
  value       = { for alarm in aws_cloudwatch_metric_alarm.this : alarm.alarm_name => alarm.arn }
}

output "dashboard_name" {
  description = "Name of the dashboard, `<prefix>-incident-websocket`; `null` without `create_dashboard`."
  value       = try(aws_cloudwatch_dashboard.this[0].dashboard_name, null)
}
