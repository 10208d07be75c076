"""The handlers, run in-process with exactly the environment Terraform gave each function.

DynamoDB is the deployed moto tables; `@connections` posts go to a fake API that stands in
for the deployed stage: only the host of each deployed endpoint is rewritten. A wrong
wiring between Terraform and the Python code (a variable name, a table, a route, an
endpoint) fails here.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any
from unittest import mock
from urllib.parse import urlsplit

import pytest

from dev.harness.fake_connections_api import FakeConnectionsApi
from tests.integration.deployment import (
    COMPLETE_CHANNELS,
    JWT_CHANNELS,
    ROUTED_CHANNELS,
    TEST_CREDENTIALS,
    Deployment,
)
from tests.support.authorizer_events import authorizer_event
from tests.support.events import connect_event, disconnect_event, schedule_event
from tests.support.finding_events import sample_event
from tests.support.lambda_zip import load_handler, load_module

# The first test to run also waits for the apply (about a minute, more on a busy machine).
pytestmark = [pytest.mark.terraform, pytest.mark.timeout(600)]

LambdaRunner = Callable[..., Any]
# The incident id the findings function derives from a finding id.
finding_incident_id = load_module("findings", "incident_ws.findings.incident").incident_id_of


@pytest.fixture(scope="module")
def connections_api() -> Iterator[FakeConnectionsApi]:
    with FakeConnectionsApi() as api:
        yield api


@pytest.fixture
def run_lambda(
    deployment: Deployment, moto_endpoint: str, connections_api: FakeConnectionsApi
) -> LambdaRunner:
    """Invokes a deployed function's handler with the function's own environment, its
    `@connections` posts sent to the fake API."""

    def run(function_name: str, code: str, event: dict) -> Any:
        environment = dict(deployment.environment(function_name))
        if "CHANNELS" in environment:
            environment["CHANNELS"] = _with_management_api_url(
                environment["CHANNELS"], connections_api.url
            )
        if "MANAGEMENT_ENDPOINT" in environment:
            environment["MANAGEMENT_ENDPOINT"] = _on_fake_api(
                environment["MANAGEMENT_ENDPOINT"], connections_api.url
            )
        with _lambda_environment(environment, deployment.region, moto_endpoint):
            return load_handler(code).handler(event, None)

    return run


@contextmanager
def _lambda_environment(variables: dict[str, str], region: str, aws_endpoint: str) -> Iterator:
    """Only what a Lambda container has: the function's variables and the runtime's."""
    runtime = {
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        **TEST_CREDENTIALS,
        "AWS_ENDPOINT_URL": aws_endpoint,
    }
    with mock.patch.dict(os.environ, {**variables, **runtime}, clear=True):
        yield


def _with_management_api_url(channels_json: str, url: str) -> str:
    """The CHANNELS value with each endpoint moved onto the fake API at `url`."""
    channels = json.loads(channels_json)
    for channel in channels.values():
        channel["endpoint"] = _on_fake_api(channel["endpoint"], url)
    return json.dumps(channels)


def _on_fake_api(endpoint: str, url: str) -> str:
    """`https://{api-id}.execute-api.{region}.amazonaws.com/{stage}` as `{url}/{api-id}/{stage}`,
    the form a local stage has: the handlers still tell which API stage it is."""
    parts = urlsplit(endpoint)
    return f"{url}/{parts.hostname.split('.')[0]}{parts.path}"


def _connect(run_lambda: LambdaRunner, deployment: Deployment, channel: str) -> str:
    connection_id = f"{channel}-{uuid.uuid4().hex[:12]}="
    function_name = deployment.functions["connect"][channel]
    event = connect_event(connection_id, query={"clientId": "soc-dashboard"})
    authorization_type = deployment.environment(function_name)["AUTHORIZATION_TYPE"]
    _add_caller(event, authorization_type, deployment.account)
    response = run_lambda(function_name, "connect", event)
    assert response["statusCode"] == 200
    return connection_id


def _add_caller(event: dict, authorization_type: str, account: str) -> None:
    """What API Gateway adds to `$connect` once the channel's authorization let the caller in."""
    context = event["requestContext"]
    if authorization_type == "jwt":
        context["authorizer"] = {"principalId": "analyst", "accounts": "*"}
    elif authorization_type == "iam":
        context["identity"]["userArn"] = f"arn:aws:sts::{account}:assumed-role/agent/session"


def _stored(deployment: Deployment, channel: str, connection_id: str) -> dict | None:
    return (
        deployment.client("dynamodb")
        .get_item(
            TableName=deployment.channels[channel]["connections_table_name"],
            Key={"connectionId": {"S": connection_id}},
        )
        .get("Item")
    )


def _stream_event(deployment: Deployment, key: dict, stream_arn: str | None = None) -> dict:
    """A stream's records for one item, as the event source mapping delivers them (by default
    the incident stream's)."""
    stream_arn = stream_arn or deployment.stream_mapping()["EventSourceArn"]
    streams = deployment.client("dynamodbstreams")
    records = []
    for shard in streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(
            StreamArn=stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        records += streams.get_records(ShardIterator=iterator)["Records"]
    return {
        "Records": [
            _as_lambda_record(record, stream_arn, deployment.region)
            for record in records
            if record["dynamodb"]["Keys"] == key
        ]
    }


def _as_lambda_record(record: dict, stream_arn: str, region: str) -> dict:
    dynamodb = dict(record["dynamodb"])
    if isinstance(dynamodb.get("ApproximateCreationDateTime"), datetime):
        dynamodb["ApproximateCreationDateTime"] = int(
            dynamodb["ApproximateCreationDateTime"].timestamp()
        )
    return {**record, "dynamodb": dynamodb, "eventSourceARN": stream_arn, "awsRegion": region}


@pytest.mark.parametrize("channel", COMPLETE_CHANNELS)
def test_connect_stores_the_connection_in_its_channels_table(run_lambda, deployment, channel):
    connection_id = _connect(run_lambda, deployment, channel)

    item = _stored(deployment, channel, connection_id)
    assert item is not None
    assert item["clientId"] == {"S": "soc-dashboard"}


@pytest.mark.parametrize("channel", JWT_CHANNELS)
def test_authorizer_starts_with_its_deployed_environment_and_refuses_a_handshake_without_token(
    run_lambda, deployment, channel
):
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        run_lambda(deployment.functions["authorizer"][channel], "authorizer", authorizer_event())


@pytest.mark.parametrize("channel", COMPLETE_CHANNELS)
def test_disconnect_removes_the_connection_from_its_channels_table(run_lambda, deployment, channel):
    connection_id = _connect(run_lambda, deployment, channel)

    response = run_lambda(
        deployment.functions["disconnect"][channel], "disconnect", disconnect_event(connection_id)
    )

    assert response["statusCode"] == 200
    assert _stored(deployment, channel, connection_id) is None


def test_stream_processor_delivers_an_incident_to_the_routed_channels_connections(
    run_lambda, deployment, connections_api
):
    listeners = {
        channel: _connect(run_lambda, deployment, channel) for channel in COMPLETE_CHANNELS
    }
    incident_id = f"inc-{uuid.uuid4().hex[:8]}"
    key = {"incident_id": {"S": incident_id}, "entry_id": {"S": "incident"}}
    deployment.client("dynamodb").put_item(
        TableName=deployment.outputs["incident_table_name"],
        Item={**key, "severity": {"S": "HIGH"}},
    )
    event = _stream_event(deployment, key)
    assert [record["eventName"] for record in event["Records"]] == ["INSERT"]

    response = run_lambda(deployment.functions["stream_processor"], "stream_processor", event)

    assert response == {"batchItemFailures": []}
    received = {
        channel: [json.loads(body)["incident_id"] for body in connections_api.bodies(connection)]
        for channel, connection in listeners.items()
    }
    assert received == {
        channel: [incident_id] if channel in ROUTED_CHANNELS else []
        for channel in COMPLETE_CHANNELS
    }


def test_heartbeat_pings_connections_of_every_channel(run_lambda, deployment, connections_api):
    listeners = {
        channel: _connect(run_lambda, deployment, channel) for channel in COMPLETE_CHANNELS
    }

    result = run_lambda(deployment.functions["heartbeat"], "heartbeat", schedule_event())

    assert set(result) == set(COMPLETE_CHANNELS)
    assert all(entry["sent"] >= 1 and entry["failed"] == 0 for entry in result.values())
    pings = {
        channel: [json.loads(body)["type"] for body in connections_api.bodies(connection)]
        for channel, connection in listeners.items()
    }
    assert pings == {channel: ["ping"] for channel in COMPLETE_CHANNELS}


def _frame_event(deployment: Deployment, channel: str, connection_id: str, frame: dict) -> dict:
    """What the channel's API passes a route's function for a frame a connected client sent."""
    event = disconnect_event(connection_id)
    api = deployment.channels[channel]
    event["requestContext"].update(
        routeKey=frame["action"],
        eventType="MESSAGE",
        apiId=api["api_id"],
        stage=api["stage_name"],
        domainName=urlsplit(api["management_endpoint"]).hostname,
    )
    return {**event, "body": json.dumps(frame), "isBase64Encoded": False}


def test_replay_sends_a_connection_the_messages_logged_after_its_last_id(
    run_lambda, deployment, connections_api
):
    connection = _connect(run_lambda, deployment, "history")
    # Ids are `<epoch seconds>-<sequence number, 40 digits>`: these sort after any real message.
    last_seen, missed = "9999999998-" + "0" * 40, "9999999999-" + "0" * 39 + "1"
    body = json.dumps({"type": "incident", "id": missed, "incident_id": "inc-replayed"})
    deployment.client("dynamodb").put_item(
        TableName=deployment.channels["history"]["messages_table_name"],
        Item={"channel": {"S": "history"}, "id": {"S": missed}, "body": {"S": body}},
    )

    response = run_lambda(
        deployment.functions["replay"]["history"],
        "replay",
        _frame_event(deployment, "history", connection, {"action": "replay", "since": last_seen}),
    )

    assert response == {"statusCode": 200}
    assert [json.loads(frame) for frame in connections_api.bodies(connection)] == [
        json.loads(body),
        {"type": "replay_complete", "count": 1, "lastId": missed},
    ]


def test_presence_announces_a_new_connection_to_its_channel(
    run_lambda, deployment, connections_api
):
    listener = _connect(run_lambda, deployment, "remediation")
    newcomer = _connect(run_lambda, deployment, "remediation")
    event = _stream_event(
        deployment,
        {"connectionId": {"S": newcomer}},
        stream_arn=deployment.connections_stream_arn("remediation"),
    )
    assert [record["eventName"] for record in event["Records"]] == ["INSERT"]

    response = run_lambda(deployment.functions["presence"], "presence", event)

    assert response == {"batchItemFailures": []}
    announced = [json.loads(frame) for frame in connections_api.bodies(listener)]
    assert [(m["type"], m["event"], m["clientId"]) for m in announced] == [
        ("presence", "online", "soc-dashboard")
    ]


def test_presence_route_lists_the_channels_members(run_lambda, deployment, connections_api):
    connection = _connect(run_lambda, deployment, "history")

    response = run_lambda(
        deployment.functions["presence"],
        "presence",
        _frame_event(deployment, "history", connection, {"action": "presence"}),
    )

    assert response == {"statusCode": 200}
    (frame,) = [json.loads(body) for body in connections_api.bodies(connection)]
    assert frame["type"] == "presence_members"
    assert "soc-dashboard" in {member["clientId"] for member in frame["members"]}


def _guardduty_finding_event() -> dict:
    """A high GuardDuty finding of its own: the sample with a fresh finding id."""
    event = sample_event("guardduty/bitcoin-tool-high.json")
    finding_id = uuid.uuid4().hex
    event["detail"]["id"] = finding_id
    event["detail"]["arn"] = event["detail"]["arn"].rsplit("/", 1)[0] + f"/{finding_id}"
    return event


def _entries(deployment: Deployment, incident_id: str) -> dict[str, dict]:
    """Every item of one incident, by its entry_id."""
    items = (
        deployment.client("dynamodb")
        .query(
            TableName=deployment.outputs["incident_table_name"],
            KeyConditionExpression="incident_id = :id",
            ExpressionAttributeValues={":id": {"S": incident_id}},
        )
        .get("Items", [])
    )
    return {item["entry_id"]["S"]: item for item in items}


def test_findings_function_writes_a_guardduty_finding_as_the_incident_item(run_lambda, deployment):
    event = _guardduty_finding_event()

    summary = run_lambda(deployment.functions["findings"], "findings", event)

    assert (summary["written"], summary["failed"]) == (1, 0)
    incident_id = finding_incident_id(event["detail"]["arn"])
    incident = _entries(deployment, incident_id)["incident"]
    assert (incident["severity"]["S"], incident["source"]["S"]) == ("HIGH", "guardduty")


def test_remediation_log_is_kept_beside_its_incident_and_both_are_broadcast(
    run_lambda, deployment, connections_api
):
    history = _connect(run_lambda, deployment, "history")
    event = _guardduty_finding_event()
    run_lambda(deployment.functions["findings"], "findings", event)
    incident_id = finding_incident_id(event["detail"]["arn"])
    remediation = {
        "incident_id": {"S": incident_id},
        "entry_id": {"S": "remediation#2026-11-30T08:15:02.120Z#isolate_instance"},
        "action": {"S": "isolate_instance"},
        "target": {"S": "i-99999999"},
        "status": {"S": "SUCCEEDED"},
        "timestamp": {"S": "2026-11-30T08:15:02.120Z"},
    }
    deployment.client("dynamodb").put_item(
        TableName=deployment.outputs["incident_table_name"], Item=remediation
    )

    assert set(_entries(deployment, incident_id)) == {
        "incident",
        "remediation#2026-11-30T08:15:02.120Z#isolate_instance",
    }
    records = [
        record
        for entry in _entries(deployment, incident_id)
        for record in _stream_event(
            deployment, {"incident_id": {"S": incident_id}, "entry_id": {"S": entry}}
        )["Records"]
    ]
    run_lambda(deployment.functions["stream_processor"], "stream_processor", {"Records": records})
    received = [json.loads(body) for body in connections_api.bodies(history)]
    assert sorted((m["type"], m["incident_id"]) for m in received) == [
        ("incident", incident_id),
        ("remediation", incident_id),
    ]
