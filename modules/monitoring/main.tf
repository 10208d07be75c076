locals {
  # Every function, keyed as its alarms are named: `<handler>-<channel>` for a channel's own,
  # `<handler>` for the shared ones. `handler` is also its `Function` dimension value.
  functions = merge(
    {
      for function in flatten([
        for handler in ["connect", "disconnect", "authorizer", "replay"] : [
          for channel, name in var.function_names[handler] : { key = "${handler}-${channel}", handler = handler, channel = channel, name = name }
        ]
      ]) : function.key => function
    },
    {
      for handler in ["stream_processor", "fanout_worker", "heartbeat", "presence", "findings"] : replace(handler, "_", "-") => {
        key = replace(handler, "_", "-"), handler = handler, channel = null, name = var.function_names[handler]
      } if var.function_names[handler] != null
    },
  )

  # The `Reason` words of each function's `ConnectionsRejected` (incident_ws.metrics).
  rejection_reasons = {
    connect    = ["validation", "forbidden", "store_error"]
    authorizer = ["unauthorized", "forbidden"]
  }

  # The functions that refuse a channel's connections: connect, and the authorizer with JWT.
  rejecting_functions = {
    for key, channel in var.channels : key => channel.authorization_type == "jwt" ? ["connect", "authorizer"] : ["connect"]
  }
}

################################################################################
# Alarms
################################################################################

locals {
  # Each alarm by the name it gets after the prefix: the metrics it reads (`id`s the expression
  # uses) and, for metric math, the expression it watches. Every period is 5 minutes but the
  # delivery and latency alarms' 15.
  alarms = var.alarms == null ? {} : merge(
    {
      for key, queue in var.dead_letter_queue_names : "dlq-${key}" => {
        description         = "${var.alarms.dead_letter_queue_messages} or more messages wait in the dead-letter queue ${queue}: work that failed for good. Read them (the error and the payload), fix the cause, then replay or delete them."
        comparison_operator = "GreaterThanOrEqualToThreshold"
        threshold           = var.alarms.dead_letter_queue_messages
        period              = 300
        expression          = null
        metrics = [
          { id = "messages", namespace = "AWS/SQS", metric_name = "ApproximateNumberOfMessagesVisible", dimensions = tomap({ QueueName = queue }), stat = "Maximum", unit = null },
        ]
      }
    },
    {
      iterator-age = {
        description         = "Broadcasts fall behind: the stream processor read records ${var.alarms.iterator_age_milliseconds} ms old or older. Look at its errors, throttles and duration and the channels' fan-out duration; if it is only slow, raise stream_parallelization_factor or max_concurrency."
        comparison_operator = "GreaterThanOrEqualToThreshold"
        threshold           = var.alarms.iterator_age_milliseconds
        period              = 300
        expression          = null
        metrics = [
          { id = "age", namespace = "AWS/Lambda", metric_name = "IteratorAge", dimensions = tomap({ FunctionName = var.function_names.stream_processor }), stat = "Maximum", unit = null },
        ]
      }
    },
    {
      for key, function in local.functions : "errors-${key}" => {
        description = (function.handler == "authorizer"
          ? "The authorizer ${function.name} failed beyond the 401s it answers (it times out, runs out of memory or cannot start). Read its log group for the error; meanwhile connections to the channel are refused."
          : "The function ${function.name} failed. Read its log group for the error; the stream and the findings retry and then keep what failed in their dead-letter queue."
        )
        comparison_operator = "GreaterThanOrEqualToThreshold"
        threshold           = var.alarms.function_errors
        period              = 300
        # The authorizer answers 401 by failing: the refusals it counts are not errors.
        expression = function.handler == "authorizer" ? "errors - FILL(unauthorized, 0)" : null
        metrics = concat(
          [{ id = "errors", namespace = "AWS/Lambda", metric_name = "Errors", dimensions = tomap({ FunctionName = function.name }), stat = "Sum", unit = null }],
          function.handler != "authorizer" ? [] : [
            { id = "unauthorized", namespace = var.namespace, metric_name = "ConnectionsRejected", dimensions = tomap({ Function = "authorizer", Channel = function.channel, Reason = "unauthorized" }), stat = "Sum", unit = "Count" },
          ],
        )
      }
    },
    {
      for key, function in local.functions : "throttles-${key}" => {
        description         = "Lambda throttled ${function.name}: the account's concurrency, or the function's reservation, is used up. Raise the account's limit or lambda_reserved_concurrency, or find what else uses the concurrency."
        comparison_operator = "GreaterThanOrEqualToThreshold"
        threshold           = var.alarms.function_throttles
        period              = 300
        expression          = null
        metrics = [
          { id = "throttles", namespace = "AWS/Lambda", metric_name = "Throttles", dimensions = tomap({ FunctionName = function.name }), stat = "Sum", unit = null },
        ]
      }
    },
    {
      for key, channel in var.channels : "delivery-failures-${key}" => {
        description         = "More than ${var.alarms.delivery_failure_percent} % of the ${key} channel's posts failed (not 410) over 15 minutes. Read the stream processor's post_failed log lines for their status: 429 (raise the stage's throttling limits), 403 (its permission on @connections) or 5xx (API Gateway)."
        comparison_operator = "GreaterThanThreshold"
        threshold           = var.alarms.delivery_failure_percent
        period              = 900
        expression          = "IF(failed + delivered >= ${var.alarms.delivery_minimum_posts}, 100 * failed / (failed + delivered), 0)"
        metrics = [
          { id = "failed", namespace = var.namespace, metric_name = "Failed", dimensions = tomap({ Function = "stream_processor", Channel = key }), stat = "Sum", unit = "Count" },
          { id = "delivered", namespace = var.namespace, metric_name = "Delivered", dimensions = tomap({ Function = "stream_processor", Channel = key }), stat = "Sum", unit = "Count" },
        ]
      } if channel.broadcast
    },
    {
      for key, channel in var.channels : "latency-p99-${key}" => {
        description         = "The ${key} channel's slowest messages (p99 over 15 minutes) reached their clients more than ${var.alarms.latency_p99_milliseconds} ms after their change was written. Look at the stream's iterator age, the channel's fan-out duration and its retried or failed posts."
        comparison_operator = "GreaterThanThreshold"
        threshold           = var.alarms.latency_p99_milliseconds
        period              = 900
        expression          = null
        metrics = [
          { id = "latency", namespace = var.namespace, metric_name = "EndToEndLatency", dimensions = tomap({ Function = "stream_processor", Channel = key }), stat = "p99", unit = "Milliseconds" },
        ]
      } if channel.broadcast
    },
    {
      for key, channel in var.channels : "api-4xx-${key}" => {
        description         = "API Gateway itself refused ${var.alarms.api_client_errors} or more of the ${key} channel's requests in 5 minutes (ClientError: throttled, IAM signature refused, unknown route). Read the stage's access log for the statuses and the sources; raise the stage's throttling if the clients are legitimate."
        comparison_operator = "GreaterThanOrEqualToThreshold"
        threshold           = var.alarms.api_client_errors
        period              = 300
        expression          = null
        metrics = [
          { id = "client_errors", namespace = "AWS/ApiGateway", metric_name = "ClientError", dimensions = tomap({ ApiId = channel.api_id, Stage = channel.stage_name }), stat = "Sum", unit = null },
        ]
      }
    },
    {
      for key, channel in var.channels : "api-5xx-${key}" => {
        description         = "API Gateway could not call the ${key} channel's functions (ExecutionError). Look at the functions' throttles and errors and at their invoke permissions; the stage's access log has the error message."
        comparison_operator = "GreaterThanOrEqualToThreshold"
        threshold           = var.alarms.api_server_errors
        period              = 300
        expression          = null
        metrics = [
          { id = "execution_errors", namespace = "AWS/ApiGateway", metric_name = "ExecutionError", dimensions = tomap({ ApiId = channel.api_id, Stage = channel.stage_name }), stat = "Sum", unit = null },
        ]
      }
    },
    {
      for key, channel in var.channels : "connect-rejections-${key}" => {
        description         = "More than ${var.alarms.connection_rejections} connections to the ${key} channel were refused in 5 minutes (every reason of connect and the authorizer): an attack, or misconfigured clients. The dashboard shows the reasons; the connect_rejected and authorizer log lines and the access log show who."
        comparison_operator = "GreaterThanThreshold"
        threshold           = var.alarms.connection_rejections
        period              = 300
        expression          = "SUM([${join(", ", flatten([for function in local.rejecting_functions[key] : [for reason in local.rejection_reasons[function] : "${function}_${reason}"]]))}])"
        metrics = flatten([
          for function in local.rejecting_functions[key] : [
            for reason in local.rejection_reasons[function] : {
              id = "${function}_${reason}", namespace = var.namespace, metric_name = "ConnectionsRejected", dimensions = tomap({ Function = function, Channel = key, Reason = reason }), stat = "Sum", unit = "Count"
            }
          ]
        ])
      }
    },
  )
}

resource "aws_cloudwatch_metric_alarm" "this" {
  for_each = local.alarms

  alarm_name          = "${var.name_prefix}-${each.key}"
  alarm_description   = each.value.description
  comparison_operator = each.value.comparison_operator
  threshold           = each.value.threshold
  evaluation_periods  = 1
  treat_missing_data  = "notBreaching"
  alarm_actions       = [var.alarms.sns_topic_arn]
  ok_actions          = [var.alarms.sns_topic_arn]

  dynamic "metric_query" {
    for_each = each.value.metrics

    content {
      id          = metric_query.value.id
      return_data = each.value.expression == null

      metric {
        namespace   = metric_query.value.namespace
        metric_name = metric_query.value.metric_name
        dimensions  = metric_query.value.dimensions
        stat        = metric_query.value.stat
        unit        = metric_query.value.unit
        period      = each.value.period
      }
    }
  }

  dynamic "metric_query" {
    for_each = each.value.expression == null ? [] : [each.value.expression]

    content {
      id          = "alarm"
      expression  = metric_query.value
      label       = each.key
      return_data = true
    }
  }

  tags = var.tags
}
