################################################################################
# Monitoring: alarms and a dashboard on the functions' metrics and AWS's own
################################################################################

locals {
  # Every deployed function by the handler it runs (the `function_names` output).
  function_names = {
    connect          = { for key, channel in module.channel : key => channel.function_names.connect }
    disconnect       = { for key, channel in module.channel : key => channel.function_names.disconnect }
    authorizer       = { for key, channel in module.channel : key => channel.function_names.authorizer if channel.authorization_type == "jwt" }
    replay           = { for key, channel in module.channel : key => channel.function_names.replay if var.message_log.enabled }
    stream_processor = module.incident_stream.function_name
    fanout_worker    = module.incident_stream.fanout_worker_function_name
    heartbeat        = module.heartbeat.function_name
    presence         = try(module.presence[0].function_name, null)
    findings         = try(module.findings[0].function_name, null)
  }
}

module "monitoring" {
  source = "./modules/monitoring"

  name_prefix = var.name_prefix
  namespace   = local.metrics_namespace
  # Every channel lives in the provider's region: its execution ARN names it.
  region = split(":", values(module.channel)[0].execution_arn)[3]

  channels = {
    for key, channel in module.channel : key => {
      api_id             = channel.api_id
      stage_name         = channel.stage_name
      authorization_type = channel.authorization_type
      broadcast          = contains(module.fan_out["stream_processor"].channels, key)
    }
  }
  function_names = local.function_names
  dead_letter_queue_names = merge(
    { stream-processor = module.incident_stream.dead_letter_queue_name },
    { for presence in module.presence : "presence" => presence.dead_letter_queue_name },
    { for findings in module.findings : "findings" => findings.dead_letter_queue_name },
  )

  alarms           = var.alarms
  create_dashboard = var.create_dashboard
  tags             = var.tags
}
