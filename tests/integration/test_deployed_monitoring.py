"""examples/complete's alarms and dashboard as deployed, read back through boto3 and checked
against both sides: the handlers' metric catalogue (`incident_ws.metrics`, imported from a
built zip) and the deployment's own resources.

An alarm or a graph on a metric the handlers do not emit (a renamed one), in another unit, with
other dimensions or with a dimension value they never write fails here; so does one on an AWS
metric of a function, queue or stage this deployment does not have.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import pytest

from tests.integration.deployment import (
    ALARM_EMAIL,
    COMPLETE_CHANNELS,
    METRICS_NAMESPACE,
    ROUTED_CHANNELS,
    Deployment,
)
from tests.support.lambda_zip import load_module

# The first test to run also waits for the apply (about a minute, more on a busy machine).
pytestmark = [pytest.mark.terraform, pytest.mark.timeout(600)]

ALARM_PREFIX = "incident-ws-"
# What AWS publishes that the alarms and graphs may read, by namespace: the metric names and
# the names of the dimensions that pick one resource.
AWS_METRICS = {
    "AWS/Lambda": ({"Errors", "Throttles", "Duration", "IteratorAge"}, {"FunctionName"}),
    "AWS/SQS": ({"ApproximateNumberOfMessagesVisible"}, {"QueueName"}),
    "AWS/ApiGateway": (
        {"ConnectCount", "MessageCount", "ClientError", "IntegrationError", "ExecutionError"},
        {"ApiId", "Stage"},
    ),
}
# Alarm thresholds by the alarm's kind (its name after the prefix, without the queue, function
# or channel): the documented defaults, but the latency examples/complete sets.
THRESHOLDS = {
    "dlq": 1,
    "iterator-age": 60000,
    "errors": 1,
    "throttles": 1,
    "delivery-failures": 5,
    "latency-p99": 2000,
    "api-4xx": 100,
    "api-5xx": 1,
    "connect-rejections": 100,
}


@dataclass(frozen=True)
class MetricRead:
    """One metric an alarm or a graph reads."""

    where: str  # the alarm's name or the graph's title
    namespace: str
    name: str
    dimensions: dict[str, str]
    unit: str | None  # an alarm's; a graph has none


@pytest.fixture(scope="module")
def metrics() -> ModuleType:
    """The handlers' metric catalogue, as the stream processor's zip ships it."""
    return load_module("stream_processor", "incident_ws.metrics")


@pytest.fixture(scope="module")
def alarms(deployment: Deployment) -> dict[str, dict[str, Any]]:
    """Every metric alarm of the deployment, by name."""
    pages = (
        deployment.client("cloudwatch")
        .get_paginator("describe_alarms")
        .paginate(AlarmNamePrefix=ALARM_PREFIX)
    )
    return {alarm["AlarmName"]: alarm for page in pages for alarm in page["MetricAlarms"]}


@pytest.fixture(scope="module")
def dashboard(deployment: Deployment) -> dict[str, Any]:
    cloudwatch = deployment.client("cloudwatch")
    body = cloudwatch.get_dashboard(DashboardName=deployment.outputs["dashboard_name"])
    return json.loads(body["DashboardBody"])


def _alarm_reads(alarms: dict[str, dict[str, Any]]) -> list[MetricRead]:
    reads = []
    for name, alarm in alarms.items():
        if "MetricName" in alarm:  # an alarm on one metric, without metric math
            stat = {"Metric": alarm, "Unit": alarm.get("Unit")}
            reads.append(_read(name, stat))
        reads += [
            _read(name, q["MetricStat"]) for q in alarm.get("Metrics", []) if "MetricStat" in q
        ]
    return reads


def _read(where: str, stat: dict[str, Any]) -> MetricRead:
    metric = stat["Metric"]
    dimensions = {d["Name"]: d["Value"] for d in metric.get("Dimensions", [])}
    return MetricRead(
        where, metric["Namespace"], metric["MetricName"], dimensions, stat.get("Unit")
    )


def _graph_reads(dashboard: dict[str, Any]) -> list[MetricRead]:
    """Every metric of every graph: `[namespace, name, dimension, value, ..., {options}]`
    (an entry of options only is a math expression, which reads the graph's metrics)."""
    reads = []
    for widget in dashboard["widgets"]:
        if widget["type"] != "metric":
            continue
        for entry in widget["properties"]["metrics"]:
            fields = [field for field in entry if not isinstance(field, dict)]
            if fields:
                namespace, name, *pairs = fields
                dimensions = dict(zip(pairs[::2], pairs[1::2], strict=True))
                reads.append(
                    MetricRead(widget["properties"]["title"], namespace, name, dimensions, None)
                )
    return reads


def _channels_by_function(deployment: Deployment) -> dict[str, set[str]]:
    """The channels each handler emits metrics for: its own channels' functions, or the
    channels in a shared function's CHANNELS."""
    functions = deployment.functions
    channels = {kind: set(functions[kind]) for kind in ("connect", "disconnect", "authorizer")}
    channels["replay"] = set(functions["replay"])
    for kind in ("stream_processor", "heartbeat", "presence"):
        channels[kind] = set(json.loads(deployment.environment(functions[kind])["CHANNELS"]))
    return channels


def _catalogue_problems(
    reads: Iterable[MetricRead], metrics: ModuleType, deployment: Deployment, with_unit: bool
) -> Iterator[str]:
    """What the catalogue says is wrong with reads of the handlers' namespace."""
    channels = _channels_by_function(deployment)
    for read in reads:
        function = read.dimensions.get(metrics.FUNCTION)
        metric = metrics.metric(function, read.name)
        if metric is None:
            yield f"{read.where}: {function} emits no {read.name}"
            continue
        if set(read.dimensions) != set(metric.dimensions):
            expected = sorted(metric.dimensions)
            yield f"{read.where}: {read.name} by {sorted(read.dimensions)}, emitted by {expected}"
        if with_unit and read.unit != metric.unit:
            yield f"{read.where}: {read.name} in {read.unit}, emitted in {metric.unit}"
        for dimension, value in read.dimensions.items():
            allowed = (
                channels.get(function, set())
                if dimension == metrics.CHANNEL
                else metric.vocabulary(dimension)
            )
            if allowed is not None and value not in allowed:
                yield f"{read.where}: {read.name} with {dimension} {value!r}, not {sorted(allowed)}"


def _aws_problems(reads: Iterable[MetricRead], deployment: Deployment) -> Iterator[str]:
    """What is wrong with reads of AWS's metrics: a metric AWS does not publish there, or a
    resource that is not this deployment's."""
    resources = {
        "AWS/Lambda": {(name,) for _, name in deployment.all_functions()},
        "AWS/SQS": {(name,) for name in deployment.dead_letter_queue_names().values()},
        "AWS/ApiGateway": {(c["api_id"], c["stage_name"]) for c in deployment.channels.values()},
    }
    for read in reads:
        names, dimensions = AWS_METRICS[read.namespace]
        if read.name not in names or set(read.dimensions) != dimensions:
            yield f"{read.where}: no {read.namespace} {read.name} by {sorted(read.dimensions)}"
        elif tuple(read.dimensions[d] for d in sorted(dimensions)) not in resources[read.namespace]:
            yield f"{read.where}: {read.name} of {read.dimensions}, not of this deployment"
        elif (
            read.name == "IteratorAge"
            and read.dimensions["FunctionName"] != deployment.functions["stream_processor"]
        ):
            yield f"{read.where}: IteratorAge of {read.dimensions}, not of the stream processor"


def _by_namespace(reads: list[MetricRead]) -> tuple[list[MetricRead], list[MetricRead]]:
    """(reads of the handlers' namespace, reads of AWS's); anything else fails."""
    assert {read.namespace for read in reads} <= {METRICS_NAMESPACE, *AWS_METRICS}
    ours = [read for read in reads if read.namespace == METRICS_NAMESPACE]
    return ours, [read for read in reads if read.namespace != METRICS_NAMESPACE]


# -- where metrics go ------------------------------------------------------------------


def test_every_function_emits_metrics_in_the_deployments_namespace(deployment):
    namespaces = {
        name: deployment.environment(name).get("METRICS_NAMESPACE")
        for _, name in deployment.all_functions()
    }
    assert namespaces == dict.fromkeys(namespaces, METRICS_NAMESPACE)
    assert deployment.outputs["metrics_namespace"] == METRICS_NAMESPACE


# -- alarms ----------------------------------------------------------------------------


def test_deployed_alarms_are_the_ones_terraform_outputs(deployment, alarms):
    assert {name: alarm["AlarmArn"] for name, alarm in alarms.items()} == deployment.outputs[
        "alarm_arns"
    ]


def test_every_alarm_on_the_handlers_metrics_reads_one_they_emit_in_its_unit_and_dimensions(
    deployment, alarms, metrics
):
    ours, _ = _by_namespace(_alarm_reads(alarms))
    assert {read.name for read in ours} >= {"Failed", "Delivered", "EndToEndLatency"}
    assert list(_catalogue_problems(ours, metrics, deployment, with_unit=True)) == []


def test_every_alarm_on_aws_metrics_reads_a_function_queue_or_stage_of_this_deployment(
    deployment, alarms
):
    _, theirs = _by_namespace(_alarm_reads(alarms))
    assert {read.namespace for read in theirs} == set(AWS_METRICS)
    assert list(_aws_problems(theirs, deployment)) == []


def test_every_function_queue_and_channel_has_its_alarms(deployment, alarms):
    functions = [
        f"{kind}-{channel}"
        for kind in ("connect", "disconnect", "authorizer", "replay")
        for channel in deployment.functions[kind]
    ] + ["stream-processor", "fanout-worker", "heartbeat", "presence", "findings"]
    expected = {
        *(f"dlq-{queue}" for queue in ("stream-processor", "presence", "findings")),
        "iterator-age",
        *(f"{kind}-{function}" for kind in ("errors", "throttles") for function in functions),
        *(
            f"{kind}-{channel}"
            for kind in ("delivery-failures", "latency-p99")
            for channel in ROUTED_CHANNELS
        ),
        *(
            f"{kind}-{channel}"
            for kind in ("api-4xx", "api-5xx", "connect-rejections")
            for channel in COMPLETE_CHANNELS
        ),
    }
    assert {name.removeprefix(ALARM_PREFIX) for name in alarms} == expected


def test_every_dead_letter_queue_has_an_alarm_on_its_waiting_messages(deployment, alarms):
    queues = {
        read.dimensions["QueueName"]
        for read in _alarm_reads(alarms)
        if read.name == "ApproximateNumberOfMessagesVisible"
    }
    assert queues == set(deployment.dead_letter_queue_names().values())


@pytest.mark.parametrize("channel", COMPLETE_CHANNELS)
def test_rejection_alarm_adds_up_every_reason_the_handlers_refuse_a_connection_for(
    deployment, alarms, metrics, channel
):
    alarm = {
        f"{ALARM_PREFIX}connect-rejections-{channel}": alarms[
            f"{ALARM_PREFIX}connect-rejections-{channel}"
        ]
    }
    watched = {(r.dimensions["Function"], r.dimensions["Reason"]) for r in _alarm_reads(alarm)}
    channels = _channels_by_function(deployment)
    refused = {
        (metric.function, reason)
        for metric in metrics.CATALOGUE
        if metric.name == "ConnectionsRejected" and channel in channels[metric.function]
        for reason in metric.reasons
    }
    assert watched == refused


def test_alarms_notify_the_topic_when_they_fire_and_when_they_recover(deployment, alarms):
    topic = deployment.outputs["alarm_topic_arn"]
    settings = {
        name: (alarm["AlarmActions"], alarm["OKActions"], alarm["TreatMissingData"])
        for name, alarm in alarms.items()
    }
    assert settings == dict.fromkeys(alarms, ([topic], [topic], "notBreaching"))


def test_alarm_topic_emails_the_on_call_address(deployment):
    subscriptions = deployment.client("sns").list_subscriptions_by_topic(
        TopicArn=deployment.outputs["alarm_topic_arn"]
    )["Subscriptions"]
    assert [(s["Protocol"], s["Endpoint"]) for s in subscriptions] == [("email", ALARM_EMAIL)]


def test_thresholds_are_the_documented_defaults_but_the_examples_latency(alarms):
    def kind(name: str) -> str:
        short = name.removeprefix(ALARM_PREFIX)
        return next(k for k in THRESHOLDS if short == k or short.startswith(f"{k}-"))

    thresholds = {name: alarm["Threshold"] for name, alarm in alarms.items()}
    assert thresholds == {name: THRESHOLDS[kind(name)] for name in alarms}


# -- dashboard -------------------------------------------------------------------------


def test_every_graph_of_the_handlers_metrics_shows_one_they_emit_with_its_dimensions(
    deployment, dashboard, metrics
):
    ours, _ = _by_namespace(_graph_reads(dashboard))
    assert {read.dimensions["Function"] for read in ours} == {
        "connect",
        "authorizer",
        "disconnect",
        "heartbeat",
        "stream_processor",
        "findings",
    }
    assert list(_catalogue_problems(ours, metrics, deployment, with_unit=False)) == []


def test_every_graph_of_aws_metrics_shows_a_function_queue_or_stage_of_this_deployment(
    deployment, dashboard
):
    _, theirs = _by_namespace(_graph_reads(dashboard))
    assert {read.namespace for read in theirs} == set(AWS_METRICS)
    assert list(_aws_problems(theirs, deployment)) == []


def test_dashboard_shows_every_channels_connected_clients(dashboard):
    gauges = {
        read.dimensions["Channel"]
        for read in _graph_reads(dashboard)
        if (read.name, read.dimensions.get("Function")) == ("Connections", "heartbeat")
    }
    assert gauges == set(COMPLETE_CHANNELS)


def test_dashboard_shows_the_alarms_states(dashboard, alarms):
    (widget,) = [widget for widget in dashboard["widgets"] if widget["type"] == "alarm"]
    assert sorted(widget["properties"]["alarms"]) == sorted(a["AlarmArn"] for a in alarms.values())
