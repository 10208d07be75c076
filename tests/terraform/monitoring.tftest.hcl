# modules/monitoring: the alarms (off unless `alarms` is given) and the dashboard (off unless
# asked for) on the functions' metrics and on AWS's own, for one deployment: a JWT channel that
# the stream processor posts to, an IAM channel it does not, presence and findings.

mock_provider "aws" {
  override_during = plan
  source          = "./tests/terraform/mocks"
}

variables {
  name_prefix = "incident-ws"
  namespace   = "IncidentWebSocket/incident-ws"
  region      = "eu-west-1"
  channels = {
    events  = { api_id = "ev1", stage_name = "prod", authorization_type = "iam", broadcast = false }
    history = { api_id = "hi1", stage_name = "v1", authorization_type = "jwt", broadcast = true }
  }
  function_names = {
    connect          = { events = "incident-ws-events-connect", history = "incident-ws-history-connect" }
    disconnect       = { events = "incident-ws-events-disconnect", history = "incident-ws-history-disconnect" }
    authorizer       = { history = "incident-ws-history-authorizer" }
    replay           = { events = "incident-ws-events-replay", history = "incident-ws-history-replay" }
    stream_processor = "incident-ws-stream-processor"
    fanout_worker    = "incident-ws-fanout-worker"
    heartbeat        = "incident-ws-heartbeat"
    presence         = "incident-ws-presence"
    findings         = "incident-ws-findings"
  }
  dead_letter_queue_names = {
    stream-processor = "incident-ws-stream-processor-dlq"
    presence         = "incident-ws-presence-dlq"
    findings         = "incident-ws-findings-dlq"
  }
  # The root module's defaults.
  alarms = {
    sns_topic_arn              = "arn:aws:sns:eu-west-1:123456789012:oncall"
    dead_letter_queue_messages = 1
    iterator_age_milliseconds  = 60000
    function_errors            = 1
    function_throttles         = 1
    delivery_failure_percent   = 5
    delivery_minimum_posts     = 20
    latency_p99_milliseconds   = 5000
    api_client_errors          = 100
    api_server_errors          = 1
    connection_rejections      = 100
  }
}

run "no_alarm_and_no_dashboard_unless_asked" {
  command = plan

  module {
    source = "./modules/monitoring"
  }

  variables {
    alarms = null
  }

  assert {
    condition     = length(aws_cloudwatch_metric_alarm.this) == 0 && output.alarm_arns == {}
    error_message = "Without alarms there must be no alarm."
  }

  assert {
    condition     = length(aws_cloudwatch_dashboard.this) == 0 && output.dashboard_name == null
    error_message = "Without create_dashboard there must be no dashboard."
  }
}

run "every_queue_function_and_channel_has_its_alarms" {
  command = plan

  module {
    source = "./modules/monitoring"
  }

  assert {
    condition = sort(keys(aws_cloudwatch_metric_alarm.this)) == sort(concat(
      ["dlq-stream-processor", "dlq-presence", "dlq-findings", "iterator-age"],
      flatten([
        for function in ["connect-events", "connect-history", "disconnect-events", "disconnect-history", "authorizer-history", "replay-events", "replay-history", "stream-processor", "fanout-worker", "heartbeat", "presence", "findings"] :
        ["errors-${function}", "throttles-${function}"]
      ]),
      ["delivery-failures-history", "latency-p99-history"],
      flatten([for channel in ["events", "history"] : ["api-4xx-${channel}", "api-5xx-${channel}", "connect-rejections-${channel}"]]),
    ))
    error_message = "Every dead-letter queue and function, the stream, every channel (and the delivery and latency of the broadcast ones) must have their alarms, keyed <what>[-<channel>]."
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.this["latency-p99-history"].alarm_name == "incident-ws-latency-p99-history" && aws_cloudwatch_metric_alarm.this["iterator-age"].alarm_name == "incident-ws-iterator-age"
    error_message = "Alarms must be named <prefix>-<what>[-<channel>]."
  }

  assert {
    condition = alltrue([
      for alarm in values(aws_cloudwatch_metric_alarm.this) :
      alarm.alarm_actions == toset([var.alarms.sns_topic_arn]) && alarm.ok_actions == toset([var.alarms.sns_topic_arn]) && alarm.treat_missing_data == "notBreaching" && alarm.evaluation_periods == 1
    ])
    error_message = "Every alarm must notify the topic when it fires and when it is OK again, and treat missing data as not breaching."
  }

  assert {
    condition     = alltrue([for alarm in values(aws_cloudwatch_metric_alarm.this) : length(alarm.alarm_description) > 0])
    error_message = "Every alarm must say what to do when it fires."
  }
}

run "default_thresholds_are_the_documented_ones" {
  command = plan

  module {
    source = "./modules/monitoring"
  }

  assert {
    condition = {
      for key in ["dlq-findings", "iterator-age", "errors-heartbeat", "throttles-connect-events", "delivery-failures-history", "latency-p99-history", "api-4xx-events", "api-5xx-events", "connect-rejections-history"] :
      key => [aws_cloudwatch_metric_alarm.this[key].comparison_operator, aws_cloudwatch_metric_alarm.this[key].threshold]
      } == {
      dlq-findings               = ["GreaterThanOrEqualToThreshold", 1]
      iterator-age               = ["GreaterThanOrEqualToThreshold", 60000]
      errors-heartbeat           = ["GreaterThanOrEqualToThreshold", 1]
      throttles-connect-events   = ["GreaterThanOrEqualToThreshold", 1]
      delivery-failures-history  = ["GreaterThanThreshold", 5]
      latency-p99-history        = ["GreaterThanThreshold", 5000]
      api-4xx-events             = ["GreaterThanOrEqualToThreshold", 100]
      api-5xx-events             = ["GreaterThanOrEqualToThreshold", 1]
      connect-rejections-history = ["GreaterThanThreshold", 100]
    }
    error_message = "The thresholds must be the documented defaults: DLQ >= 1, iterator age >= 60 s, errors and throttles >= 1, delivery failures > 5 %, latency p99 > 5 s, 4xx >= 100, 5xx >= 1, rejections > 100."
  }

  assert {
    condition = alltrue(flatten([
      for key, alarm in aws_cloudwatch_metric_alarm.this : [
        for query in alarm.metric_query : query.metric[0].period == (contains(["delivery-failures-history", "latency-p99-history"], key) ? 900 : 300) if length(query.metric) > 0
      ]
    ]))
    error_message = "Every alarm must look at 5 minutes, but the delivery failures and the latency at 15."
  }
}

run "thresholds_can_be_overridden" {
  command = plan

  module {
    source = "./modules/monitoring"
  }

  variables {
    alarms = merge(var.alarms, { latency_p99_milliseconds = 2000, delivery_failure_percent = 1, delivery_minimum_posts = 500, connection_rejections = 1000 })
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.this["latency-p99-history"].threshold == 2000 && aws_cloudwatch_metric_alarm.this["connect-rejections-events"].threshold == 1000
    error_message = "A threshold given in alarms must replace the default."
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.this["delivery-failures-history"].threshold == 1 && strcontains(one([for query in aws_cloudwatch_metric_alarm.this["delivery-failures-history"].metric_query : query.expression if query.return_data]), ">= 500,")
    error_message = "delivery_failure_percent and delivery_minimum_posts must reach the delivery failures alarm."
  }
}

run "aws_metrics_are_read_from_this_deployments_resources" {
  command = plan

  module {
    source = "./modules/monitoring"
  }

  assert {
    condition = [
      for query in aws_cloudwatch_metric_alarm.this["dlq-presence"].metric_query : [query.metric[0].namespace, query.metric[0].metric_name, query.metric[0].dimensions, query.metric[0].stat, query.return_data]
    ] == [["AWS/SQS", "ApproximateNumberOfMessagesVisible", tomap({ QueueName = "incident-ws-presence-dlq" }), "Maximum", true]]
    error_message = "A dead-letter queue's alarm must watch the most messages visible in that queue."
  }

  assert {
    condition = [
      for query in aws_cloudwatch_metric_alarm.this["iterator-age"].metric_query : [query.metric[0].namespace, query.metric[0].metric_name, query.metric[0].dimensions, query.metric[0].stat]
    ] == [["AWS/Lambda", "IteratorAge", tomap({ FunctionName = "incident-ws-stream-processor" }), "Maximum"]]
    error_message = "The iterator age alarm must watch the stream processor's oldest record."
  }

  assert {
    condition = [
      for query in aws_cloudwatch_metric_alarm.this["throttles-replay-events"].metric_query : [query.metric[0].namespace, query.metric[0].metric_name, query.metric[0].dimensions, query.metric[0].stat]
    ] == [["AWS/Lambda", "Throttles", tomap({ FunctionName = "incident-ws-events-replay" }), "Sum"]]
    error_message = "A function's throttles alarm must watch that function."
  }

  assert {
    condition = [
      for key in ["api-4xx-history", "api-5xx-history"] : one([for query in aws_cloudwatch_metric_alarm.this[key].metric_query : [query.metric[0].namespace, query.metric[0].metric_name, query.metric[0].dimensions]])
    ] == [["AWS/ApiGateway", "ClientError", tomap({ ApiId = "hi1", Stage = "v1" })], ["AWS/ApiGateway", "ExecutionError", tomap({ ApiId = "hi1", Stage = "v1" })]]
    error_message = "A channel's 4xx and 5xx alarms must watch its API's stage: ClientError and ExecutionError."
  }
}

run "channel_alarms_read_the_handlers_metrics" {
  command = plan

  module {
    source = "./modules/monitoring"
  }

  assert {
    condition = {
      for query in aws_cloudwatch_metric_alarm.this["delivery-failures-history"].metric_query : query.id => [query.metric[0].namespace, query.metric[0].metric_name, query.metric[0].dimensions, query.metric[0].stat, query.metric[0].unit] if length(query.metric) > 0
      } == {
      failed    = ["IncidentWebSocket/incident-ws", "Failed", tomap({ Function = "stream_processor", Channel = "history" }), "Sum", "Count"]
      delivered = ["IncidentWebSocket/incident-ws", "Delivered", tomap({ Function = "stream_processor", Channel = "history" }), "Sum", "Count"]
    }
    error_message = "The delivery failure alarm must read the failed and delivered posts of the channel's broadcasts."
  }

  assert {
    condition     = [for query in aws_cloudwatch_metric_alarm.this["delivery-failures-history"].metric_query : query.expression if query.return_data] == ["IF(failed + delivered >= 20, 100 * failed / (failed + delivered), 0)"]
    error_message = "The delivery failure alarm must watch the percentage of failed posts, once at least delivery_minimum_posts were made."
  }

  assert {
    condition = [
      for query in aws_cloudwatch_metric_alarm.this["latency-p99-history"].metric_query : [query.metric[0].namespace, query.metric[0].metric_name, query.metric[0].dimensions, query.metric[0].stat, query.metric[0].unit]
    ] == [["IncidentWebSocket/incident-ws", "EndToEndLatency", tomap({ Function = "stream_processor", Channel = "history" }), "p99", "Milliseconds"]]
    error_message = "The latency alarm must watch the p99 of the channel's end-to-end latency in milliseconds."
  }

  assert {
    condition = {
      for query in aws_cloudwatch_metric_alarm.this["connect-rejections-history"].metric_query : query.id => query.metric[0].dimensions if length(query.metric) > 0
      } == {
      connect_validation      = tomap({ Function = "connect", Channel = "history", Reason = "validation" })
      connect_forbidden       = tomap({ Function = "connect", Channel = "history", Reason = "forbidden" })
      connect_store_error     = tomap({ Function = "connect", Channel = "history", Reason = "store_error" })
      authorizer_unauthorized = tomap({ Function = "authorizer", Channel = "history", Reason = "unauthorized" })
      authorizer_forbidden    = tomap({ Function = "authorizer", Channel = "history", Reason = "forbidden" })
    }
    error_message = "A JWT channel's rejections alarm must read every reason connect and the authorizer refuse a connection for."
  }

  assert {
    condition     = [for query in aws_cloudwatch_metric_alarm.this["connect-rejections-history"].metric_query : query.expression if query.return_data] == ["SUM([connect_validation, connect_forbidden, connect_store_error, authorizer_unauthorized, authorizer_forbidden])"]
    error_message = "A channel's rejections alarm must watch their sum."
  }

  assert {
    condition     = sort([for query in aws_cloudwatch_metric_alarm.this["connect-rejections-events"].metric_query : query.id if length(query.metric) > 0]) == tolist(["connect_forbidden", "connect_store_error", "connect_validation"])
    error_message = "A channel without JWT has no authorizer: only connect's refusals count."
  }

  assert {
    condition = {
      for query in aws_cloudwatch_metric_alarm.this["errors-authorizer-history"].metric_query : query.id => [query.metric[0].namespace, query.metric[0].metric_name, query.metric[0].dimensions] if length(query.metric) > 0
      } == {
      errors       = ["AWS/Lambda", "Errors", tomap({ FunctionName = "incident-ws-history-authorizer" })]
      unauthorized = ["IncidentWebSocket/incident-ws", "ConnectionsRejected", tomap({ Function = "authorizer", Channel = "history", Reason = "unauthorized" })]
    }
    error_message = "The authorizer's errors alarm must read its errors and the refusals it counts as unauthorized."
  }

  assert {
    condition     = [for query in aws_cloudwatch_metric_alarm.this["errors-authorizer-history"].metric_query : query.expression if query.return_data] == ["errors - FILL(unauthorized, 0)"]
    error_message = "The authorizer answers 401 by failing: its errors alarm must leave those refusals out."
  }
}

run "dashboard_shows_each_channel_then_the_functions_and_queues" {
  command = plan

  module {
    source = "./modules/monitoring"
  }

  variables {
    create_dashboard = true
  }

  assert {
    condition     = aws_cloudwatch_dashboard.this[0].dashboard_name == "incident-ws-incident-websocket"
    error_message = "The dashboard must be named <prefix>-incident-websocket."
  }

  assert {
    condition = [for widget in jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets : widget.type == "text" ? widget.properties.markdown : widget.properties.title] == [
      "## Channel `events`\nAPI `ev1`, stage `prod`",
      "events: connected clients", "events: connections opened and refused", "events: API Gateway requests", "events: API Gateway errors",
      "## Channel `history`\nAPI `hi1`, stage `v1`",
      "history: connected clients", "history: connections opened and refused", "history: broadcast posts", "history: end-to-end latency and fan-out duration (ms)", "history: API Gateway requests", "history: API Gateway errors",
      "## Functions and queues",
      "function errors", "function throttles", "function duration p99 (ms)", "stream iterator age (ms)", "stream batches", "dead-letter queues: messages waiting", "findings",
      "alarms",
    ]
    error_message = "The dashboard must show a row per channel (broadcast graphs only where the stream processor posts), then the functions, the stream, the queues, the findings and the alarms."
  }

  assert {
    condition = alltrue([
      for widget in jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets : alltrue([
        for metric in widget.properties.metrics : contains(["AWS/Lambda", "AWS/SQS", "AWS/ApiGateway", "IncidentWebSocket/incident-ws"], metric[0])
      ]) && widget.properties.region == "eu-west-1" if widget.type == "metric"
    ])
    error_message = "Every graph must read this deployment's namespace or AWS's own, in its region."
  }

  assert {
    condition = [
      for metric in one([for widget in jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets : widget.properties.metrics if try(widget.properties.title, null) == "history: end-to-end latency and fan-out duration (ms)"]) : [metric[1], metric[length(metric) - 1].stat]
    ] == [["EndToEndLatency", "p50"], ["EndToEndLatency", "p99"], ["FanOutDuration", "p50"], ["FanOutDuration", "p99"]]
    error_message = "A broadcast channel's latency graph must show end-to-end latency and fan-out duration at p50 and p99."
  }
}
