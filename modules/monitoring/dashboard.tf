################################################################################
# Dashboard
################################################################################

locals {
  # Each channel's graphs: a graph is a title and its metrics (namespace, name, dimensions, the
  # statistic shown and a label). Channels the stream processor does not post to have no
  # broadcast graphs.
  channel_graphs = {
    for key, channel in var.channels : key => concat(
      [
        {
          title = "${key}: connected clients"
          metrics = [
            { namespace = var.namespace, name = "Connections", dimensions = tomap({ Function = "heartbeat", Channel = key }), stat = "Maximum", label = "connected (heartbeat)" },
            { namespace = var.namespace, name = "Gone", dimensions = tomap({ Function = "heartbeat", Channel = key }), stat = "Sum", label = "gone, removed by the heartbeat" },
          ]
        },
        {
          title = "${key}: connections opened and refused"
          metrics = concat(
            [{ namespace = var.namespace, name = "ConnectionsAccepted", dimensions = tomap({ Function = "connect", Channel = key }), stat = "Sum", label = "accepted" }],
            flatten([
              for function in local.rejecting_functions[key] : [
                for reason in local.rejection_reasons[function] : {
                  namespace = var.namespace, name = "ConnectionsRejected", dimensions = tomap({ Function = function, Channel = key, Reason = reason }), stat = "Sum", label = "refused by ${function}: ${reason}"
                }
              ]
            ]),
            [{ namespace = var.namespace, name = "Disconnections", dimensions = tomap({ Function = "disconnect", Channel = key }), stat = "Sum", label = "disconnected" }],
          )
        },
      ],
      !channel.broadcast ? [] : [
        {
          title = "${key}: broadcast posts"
          metrics = [
            for name in ["Delivered", "Failed", "Gone", "Unattempted", "Retried"] : {
              namespace = var.namespace, name = name, dimensions = tomap({ Function = "stream_processor", Channel = key }), stat = "Sum", label = lower(name)
            }
          ]
        },
        {
          title = "${key}: end-to-end latency and fan-out duration (ms)"
          metrics = [
            for pair in setproduct(["EndToEndLatency", "FanOutDuration"], ["p50", "p99"]) : {
              namespace = var.namespace, name = pair[0], dimensions = tomap({ Function = "stream_processor", Channel = key }), stat = pair[1], label = "${pair[0] == "EndToEndLatency" ? "end to end" : "fan-out"} ${pair[1]}"
            }
          ]
        },
      ],
      [
        {
          title = "${key}: API Gateway requests"
          metrics = [
            for name in ["ConnectCount", "MessageCount"] : {
              namespace = "AWS/ApiGateway", name = name, dimensions = tomap({ ApiId = channel.api_id, Stage = channel.stage_name }), stat = "Sum", label = name
            }
          ]
        },
        {
          title = "${key}: API Gateway errors"
          metrics = [
            for name in ["ClientError", "IntegrationError", "ExecutionError"] : {
              namespace = "AWS/ApiGateway", name = name, dimensions = tomap({ ApiId = channel.api_id, Stage = channel.stage_name }), stat = "Sum", label = name
            }
          ]
        },
      ],
    )
  }

  # The graphs of the deployment as a whole.
  shared_graphs = concat(
    [
      for graph in [["function errors", "Errors", "Sum"], ["function throttles", "Throttles", "Sum"], ["function duration p99 (ms)", "Duration", "p99"]] : {
        title = graph[0]
        metrics = [
          for key, function in local.functions : {
            namespace = "AWS/Lambda", name = graph[1], dimensions = tomap({ FunctionName = function.name }), stat = graph[2], label = key
          }
        ]
      }
    ],
    [
      {
        title   = "stream iterator age (ms)"
        metrics = [{ namespace = "AWS/Lambda", name = "IteratorAge", dimensions = tomap({ FunctionName = var.function_names.stream_processor }), stat = "Maximum", label = "oldest record read" }]
      },
      {
        title = "stream batches"
        metrics = [
          for name, label in { Records = "records", Messages = "messages", FailedRecords = "records failed (retried)" } : {
            namespace                  = var.namespace, name = name, dimensions = tomap({ Function = "stream_processor" }), stat = "Sum", label = label
          }
        ]
      },
      {
        title = "dead-letter queues: messages waiting"
        metrics = [
          for key, queue in var.dead_letter_queue_names : {
            namespace = "AWS/SQS", name = "ApproximateNumberOfMessagesVisible", dimensions = tomap({ QueueName = queue }), stat = "Maximum", label = key
          }
        ]
      },
    ],
    var.function_names.findings == null ? [] : [
      {
        title = "findings"
        metrics = [
          for pair in setproduct(["FindingsWritten", "FindingsSkipped", "FindingsFailed"], ["guardduty", "securityhub", "other"]) : {
            namespace = var.namespace, name = pair[0], dimensions = tomap({ Function = "findings", Source = pair[1] }), stat = "Sum", label = "${lower(trimprefix(pair[0], "Findings"))}: ${pair[1]}"
          }
        ]
      },
    ],
  )

  # Every graph with the section it is shown in: a channel's key, or null for the shared ones. A
  # row holds three graphs (a channel with four graphs: four), 6 high in a 24-column grid.
  graphs = concat(
    flatten([
      for key, graphs in local.channel_graphs : [
        for graph in graphs : merge(graph, { section = key, width = length(graphs) == 4 ? 6 : 8 })
      ]
    ]),
    [for graph in local.shared_graphs : merge(graph, { section = null, width = 8 })],
  )

  graph_widgets = [
    for graph in local.graphs : {
      type   = "metric"
      width  = graph.width
      height = 6
      properties = {
        title  = graph.title
        region = var.region
        view   = "timeSeries"
        period = 300
        # [namespace, name, dimension, value, ..., options]
        metrics = [
          for metric in graph.metrics : concat(
            [metric.namespace, metric.name],
            flatten([for dimension, value in metric.dimensions : [dimension, value]]),
            [{ stat = metric.stat, label = metric.label }],
          )
        ]
      }
    }
  ]

  # Widgets without x and y are placed in order, row after row.
  dashboard_widgets = concat(
    flatten([
      for key, channel in var.channels : concat(
        [{ type = "text", width = 24, height = 2, properties = { markdown = "## Channel `${key}`\nAPI `${channel.api_id}`, stage `${channel.stage_name}`" } }],
        [for index, graph in local.graphs : local.graph_widgets[index] if graph.section == key],
      )
    ]),
    [{ type = "text", width = 24, height = 2, properties = { markdown = "## Functions and queues" } }],
    [for index, graph in local.graphs : local.graph_widgets[index] if graph.section == null],
    # An alarm status widget shows at most 100 alarms.
    length(aws_cloudwatch_metric_alarm.this) == 0 ? [] : [
      {
        type       = "alarm"
        width      = 24
        height     = 6
        properties = { title = "alarms", alarms = slice(sort(values(aws_cloudwatch_metric_alarm.this)[*].arn), 0, min(100, length(aws_cloudwatch_metric_alarm.this))) }
      },
    ],
  )
}

resource "aws_cloudwatch_dashboard" "this" {
  count = var.create_dashboard ? 1 : 0

  dashboard_name = "${var.name_prefix}-incident-websocket"
  dashboard_body = jsonencode({ widgets = local.dashboard_widgets })
}
