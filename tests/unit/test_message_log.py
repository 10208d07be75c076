"""The message log: the stream processor writes each message a channel receives to that
channel's log once (never per connection), with the body posted live on that channel, before
posting it; what it cannot write is logged and counted, and live delivery goes on."""

from __future__ import annotations

import json
import time

import boto3
import pytest

from dev.harness.lambda_context import LambdaContext
from tests.support.stream_records import REGION, IncidentTable
from tests.unit.helpers import LIMITS, connection, parse_log_event

TENANT = "111122223333"
RETENTION_SECONDS = 3600


@pytest.fixture
def incidents():
    return IncidentTable()


def channel_settings(fake_api, key: str, **settings) -> dict:
    return {"table": f"{key}-connections", "endpoint": fake_api.endpoint(key), **settings}


@pytest.fixture
def tables(make_connections_table, make_messages_table):
    """Two channels with a log each (history: the whole item; events: the title only) and one
    without (remediation)."""
    for key in ("history", "events", "remediation"):
        make_connections_table(f"{key}-connections")
    return {key: make_messages_table(f"{key}-messages") for key in ("history", "events")}


@pytest.fixture
def processor(load, tables, fake_api):
    channels = {
        "history": channel_settings(fake_api, "history", messages_table="history-messages"),
        "events": channel_settings(
            fake_api, "events", messages_table="events-messages", data_attributes=["title"]
        ),
        "remediation": channel_settings(fake_api, "remediation", messages_table=None),
    }
    routes = {"incident": ["history", "events"], "remediation": ["history", "remediation"]}
    return load(
        "stream_processor",
        CHANNELS=json.dumps(channels),
        ROUTES=json.dumps(routes),
        MESSAGE_RETENTION_SECONDS=str(RETENTION_SECONDS),
    )


def logged(table) -> list[dict]:
    return sorted(table.scan(ConsistentRead=True)["Items"], key=lambda item: item["id"])


def add_connections(dynamodb, key: str, *connection_ids: str, **attributes) -> None:
    table = dynamodb.Table(f"{key}-connections")
    for connection_id in connection_ids:
        table.put_item(Item=connection(connection_id, **attributes))


def test_each_message_is_logged_once_per_channel_with_the_body_posted_on_that_channel(
    processor, tables, incidents, fake_api, dynamodb
):
    add_connections(dynamodb, "history", "h1", "h2", "h3")
    add_connections(dynamodb, "events", "e1")
    incidents.put({"incident_id": "i-1", "title": "SSH open", "severity": "HIGH"})
    incidents.put({"incident_id": "i-1", "action": "isolate"})

    processor.handler(incidents.event(), None)

    history, events = logged(tables["history"]), logged(tables["events"])
    assert [item["body"].encode() for item in history] == fake_api.bodies("h1")
    assert [item["body"].encode() for item in events] == fake_api.bodies("e1")
    assert json.loads(events[0]["body"])["data"] == {"title": "SSH open"}
    assert {item["channel"] for item in history} == {"history"}
    assert {item["channel"] for item in events} == {"events"}
    assert [item["id"] for item in history] == [json.loads(b)["id"] for b in fake_api.bodies("h1")]


def test_a_message_is_logged_even_when_no_connection_receives_it(processor, tables, incidents):
    incidents.put({"incident_id": "i-1"})

    processor.handler(incidents.event(), None)

    assert len(logged(tables["history"])) == 1


def test_a_channel_without_a_messages_table_logs_nothing(
    processor, tables, incidents, dynamodb, fake_api
):
    add_connections(dynamodb, "remediation", "r1")
    incidents.put({"incident_id": "i-1", "action": "isolate"})

    processor.handler(incidents.event(), None)

    assert len(fake_api.bodies("r1")) == 1
    assert sorted(dynamodb.meta.client.list_tables()["TableNames"]) == [
        "Incident",
        "events-connections",
        "events-messages",
        "history-connections",
        "history-messages",
        "remediation-connections",
    ]
    assert logged(tables["events"]) == []  # incidents only


def test_a_logged_item_expires_after_the_retention_and_carries_its_account_and_region(
    processor, tables, incidents
):
    incidents.put({"incident_id": "i-1", "account": TENANT, "region": "eu-west-1"})
    incidents.put({"incident_id": "i-2"})
    before = int(time.time())

    processor.handler(incidents.event(), None)

    with_filters, without = logged(tables["history"])
    assert before + RETENTION_SECONDS <= with_filters["ttl"] <= time.time() + RETENTION_SECONDS
    assert (with_filters["account"], with_filters["region"]) == (TENANT, "eu-west-1")
    assert "account" not in without
    assert "region" not in without


def test_an_account_that_is_not_text_is_logged_in_the_body_only(processor, tables, incidents):
    incidents.put({"incident_id": "i-1", "account": 111122223333})

    processor.handler(incidents.event(), None)

    [item] = logged(tables["history"])
    assert "account" not in item
    assert json.loads(item["body"])["account"] == 111122223333


def test_the_retention_defaults_to_a_day(load, make_connections_table, fake_api):
    make_connections_table("history-connections")
    channels = {"history": channel_settings(fake_api, "history", messages_table="m")}

    processor = load(
        "stream_processor", CHANNELS=json.dumps(channels), ROUTES='{"incident": ["history"]}'
    )

    assert processor.CONFIG.message_retention_seconds == 24 * 60 * 60


def test_messages_are_logged_before_they_are_posted(
    processor, tables, incidents, fake_api, dynamodb
):
    add_connections(dynamodb, "history", "h1")
    posted_before_the_log_write = []
    processor.FAN_OUT.dynamodb.meta.events.register(
        "before-call.dynamodb.BatchWriteItem",
        lambda **_: posted_before_the_log_write.append(len(fake_api.received)),
    )
    incidents.put({"incident_id": "i-1"})

    processor.handler(incidents.event(), None)

    assert posted_before_the_log_write == [0, 0]  # one write per logging channel
    assert len(fake_api.bodies("h1")) == 1


def test_a_retried_record_is_logged_again_under_the_same_id(processor, tables, incidents):
    incidents.put({"incident_id": "i-1"})
    event = incidents.event()

    processor.handler(event, None)
    processor.handler(event, None)

    assert len(logged(tables["history"])) == 1


def test_writes_go_in_batches_of_25(processor, tables, incidents):
    writes = []
    processor.FAN_OUT.dynamodb.meta.events.register(
        "provide-client-params.dynamodb.BatchWriteItem",
        lambda params, **_: writes.append(sum(len(v) for v in params["RequestItems"].values())),
    )
    for n in range(30):
        incidents.put({"incident_id": f"i-{n:02d}", "action": "isolate"})

    processor.handler(incidents.event(), None)

    assert sorted(writes) == [5, 25]
    assert len(logged(tables["history"])) == 30


def leave_unprocessed(client, times: int, keep: int = 0):
    """Make `client`'s first `times` BatchWriteItem calls write only their first `keep` items
    and answer the rest as UnprocessedItems, as DynamoDB does under throttling."""
    calls = []
    writer = boto3.client("dynamodb", region_name=REGION)

    def partly(params, **_):
        request_items = json.loads(params["body"])["RequestItems"]
        calls.append(request_items)
        if len(calls) > times:
            return None
        [(table, requests)] = request_items.items()
        if keep:
            writer.batch_write_item(RequestItems={table: requests[:keep]})
        response = {"UnprocessedItems": {table: requests[keep:]}}
        return _Ok(), {**response, "ResponseMetadata": {"HTTPStatusCode": 200}}

    client.meta.events.register("before-call.dynamodb.BatchWriteItem", partly, unique_id="partly")
    return calls


class _Ok:
    def __init__(self) -> None:
        self.status_code = 200
        self.headers: dict[str, str] = {}


def without_sleeping(processor):
    """The handler's message log, backing off without waiting."""
    processor.MESSAGE_LOG = processor.MessageLog(
        processor.FAN_OUT.dynamodb, RETENTION_SECONDS, sleep=lambda seconds: None
    )


def test_unprocessed_items_are_written_again(processor, tables, incidents, caplog):
    without_sleeping(processor)
    calls = leave_unprocessed(processor.FAN_OUT.dynamodb, times=2, keep=1)
    for n in range(3):
        incidents.put({"incident_id": f"i-{n}", "action": "isolate"})

    processor.handler(incidents.event(), None)

    assert len(logged(tables["history"])) == 3
    assert [sum(len(v) for v in c.values()) for c in calls] == [3, 2, 1]
    [summary] = parse_log_event(caplog, "stream_batch_processed")
    assert (
        summary["channels"]["history"]["logged"],
        summary["channels"]["history"]["logFailed"],
    ) == (
        3,
        0,
    )


def test_items_still_unprocessed_after_the_retries_are_counted_and_the_record_still_goes_out(
    processor, tables, incidents, fake_api, dynamodb, caplog
):
    without_sleeping(processor)
    add_connections(dynamodb, "history", "h1")
    calls = leave_unprocessed(processor.FAN_OUT.dynamodb, times=100)
    incidents.put({"incident_id": "i-1", "action": "isolate"})

    response = processor.handler(incidents.event(), None)

    assert response == {"batchItemFailures": []}
    assert len(calls) == 1 + LIMITS.LOG_WRITE_MAX_RETRIES
    assert len(fake_api.bodies("h1")) == 1
    [failed] = parse_log_event(caplog, "message_log_failed")
    assert (failed["channel"], failed["messages"]) == ("history", 1)
    [summary] = parse_log_event(caplog, "stream_batch_processed")
    assert summary["channels"]["history"]["logFailed"] == 1
    assert summary["channels"]["history"]["delivered"] == 1


def test_a_log_table_that_cannot_be_written_is_counted_and_the_other_channels_log(
    processor, tables, incidents, fake_api, dynamodb, caplog
):
    add_connections(dynamodb, "history", "h1")
    tables["events"].delete()
    incidents.put({"incident_id": "i-1"})

    response = processor.handler(incidents.event(), None)

    assert response == {"batchItemFailures": []}
    assert len(logged(tables["history"])) == 1
    assert len(fake_api.bodies("h1")) == 1
    [failed] = parse_log_event(caplog, "message_log_failed")
    assert failed["channel"] == "events"
    assert "ResourceNotFoundException" in failed["error"]
    [summary] = parse_log_event(caplog, "stream_batch_processed")
    assert summary["channels"]["events"]["logFailed"] == 1
    assert summary["channels"]["history"]["logged"] == 1


def test_no_log_write_starts_after_the_deadline(processor, tables, incidents, caplog):
    incidents.put({"incident_id": "i-1"})

    processor.handler(incidents.event(), LambdaContext(1))

    assert logged(tables["history"]) == []
    assert {f["error"] for f in parse_log_event(caplog, "message_log_failed")} == {
        "deadline reached"
    }


def test_a_channel_without_a_log_has_no_log_counts_in_its_summary(
    processor, tables, incidents, caplog
):
    incidents.put({"incident_id": "i-1", "action": "isolate"})

    processor.handler(incidents.event(), None)

    [summary] = parse_log_event(caplog, "stream_batch_processed")
    assert "logged" not in summary["channels"]["remediation"]
    assert summary["channels"]["history"]["logged"] == 1


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"MESSAGE_RETENTION_SECONDS": "59"}, "MESSAGE_RETENTION_SECONDS"),
        ({"MESSAGE_RETENTION_SECONDS": "a day"}, "MESSAGE_RETENTION_SECONDS"),
        ({"messages_table": ""}, r"CHANNELS\['history'\]\.messages_table"),
        ({"messages_table": 7}, r"CHANNELS\['history'\]\.messages_table"),
        ({"messages_table": ["t"]}, r"CHANNELS\['history'\]\.messages_table"),
    ],
)
def test_a_malformed_log_setting_fails_cold_start_naming_it(load, fake_api, env, variable):
    settings = {k: v for k, v in env.items() if k == "messages_table"}
    variables = {k: v for k, v in env.items() if k != "messages_table"}
    channels = {"history": channel_settings(fake_api, "history", **settings)}

    with pytest.raises(Exception, match=variable) as raised:
        load(
            "stream_processor",
            CHANNELS=json.dumps(channels),
            ROUTES='{"incident": ["history"]}',
            **variables,
        )
    assert type(raised.value).__name__ == "ConfigError"
