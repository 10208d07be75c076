"""DynamoDB stream → each change's message on the channels it is routed to."""

from __future__ import annotations

import json
import re
import time
from decimal import Decimal

import pytest

from dev.harness.fake_connections_api import FakeConnectionsApi
from tests.support.lambda_zip import load_module
from tests.support.stream_records import IncidentTable
from tests.unit.helpers import (
    LIMITS,
    channels_env,
    connection,
    drop_table_after_first_scan_page,
    fail_scan_pages,
    parse_log_event,
)

ROUTES = json.dumps({"incident": ["history"], "remediation": ["history"]})
MESSAGE_ID = re.compile(r"[0-9]{10}-[0-9]{40}")


@pytest.fixture
def history(make_connections_table):
    return make_connections_table("HistoryConnections")


@pytest.fixture
def incidents():
    return IncidentTable()


@pytest.fixture
def processor(load, history, fake_api):
    return load(
        "stream_processor",
        CHANNELS=channels_env(history=("HistoryConnections", fake_api.endpoint())),
        ROUTES=ROUTES,
    )


def add_connections(table, *connection_ids: str, **attributes) -> None:
    for connection_id in connection_ids:
        table.put_item(Item=connection(connection_id, **attributes))


def messages(fake_api, connection_id: str) -> list[dict]:
    return [json.loads(body) for body in fake_api.bodies(connection_id)]


def stored_ids(table) -> set[str]:
    return {item["connectionId"] for item in table.scan()["Items"]}


def processor_with_channels(load, fake_api, message_routing: dict, **tables: str):
    """The stream processor with ROUTES `message_routing` and a channel `key=table` each."""
    endpoints = {key: (table, fake_api.endpoint(key)) for key, table in tables.items()}
    return load(
        "stream_processor", CHANNELS=channels_env(**endpoints), ROUTES=json.dumps(message_routing)
    )


@pytest.fixture
def message_for(processor, history, incidents, fake_api):
    """`message_for(item)`: the one message a connection receives when `item` is written."""
    add_connections(history, "c1")

    def send(item: dict) -> dict:
        incidents.put(item)
        processor.handler(incidents.event(), None)
        [message] = messages(fake_api, "c1")
        return message

    return send


# -- records and messages ----------------------------------------------------------------


def test_insert_becomes_created_and_modify_becomes_updated(processor, history, incidents, fake_api):
    add_connections(history, "c1")
    incidents.put({"incident_id": "i-1", "status": "OPEN"})
    incidents.put({"incident_id": "i-1", "status": "CLOSED"})

    processor.handler(incidents.event(), None)

    assert [(m["event"], m["status"]) for m in messages(fake_api, "c1")] == [
        ("created", "OPEN"),
        ("updated", "CLOSED"),
    ]


def test_remove_records_are_ignored(processor, history, incidents, fake_api):
    add_connections(history, "c1")
    incidents.put({"incident_id": "i-1"})
    incidents.records()
    incidents.delete({"incident_id": "i-1"})

    response = processor.handler(incidents.event(), None)

    assert response == {"batchItemFailures": []}
    assert fake_api.received == []


def test_incident_message_has_every_field_and_the_whole_item(message_for):
    item = {
        "incident_id": "i-1",
        "arn": "arn:aws:ec2:us-east-1:123456789012:instance/i-0abc",
        "resource": "i-0abc",
        "sg": "sg-0123",
        "severity": "CRITICAL",
        "status": "OPEN",
        "title": "SSH open to the world",
        "account": "123456789012",
        "region": "us-east-1",
        "timestamp": "2026-11-23T10:00:00Z",
    }

    message = message_for(item)

    assert MESSAGE_ID.fullmatch(message.pop("id"))
    assert message == {
        "type": "incident",
        "event": "created",
        **{k: v for k, v in item.items() if k not in ("arn", "sg")},
        "resource": item["arn"],
        "data": item,
    }


def test_missing_incident_fields_are_null(message_for):
    message = message_for({"incident_id": "i-1"})

    for field in ("severity", "status", "title", "account", "region", "timestamp"):
        assert message[field] is None


def test_item_with_action_is_a_remediation_even_with_an_incident_id(message_for):
    item = {
        "incident_id": "i-1",
        "action": "revoke_ingress",
        "target": "sg-0123",
        "status": "SUCCEEDED",
        "timestamp": "2026-11-23T10:00:05Z",
        "account": "123456789012",
        "region": "eu-west-1",
    }

    message = message_for(item)

    assert MESSAGE_ID.fullmatch(message.pop("id"))
    assert message == {"type": "remediation", "event": "created", **item, "data": item}


@pytest.mark.parametrize(
    ("present", "field", "expected"),
    [
        # an incident's resource: arn > resource > sg, else null
        ({"arn": "arn:x", "resource": "r", "sg": "sg-1"}, "resource", "arn:x"),
        ({"resource": "r", "sg": "sg-1"}, "resource", "r"),
        ({"sg": "sg-1"}, "resource", "sg-1"),
        ({}, "resource", None),
        # a remediation's target: target > arn > resource > sg
        (
            {"action": "a", "target": "t", "arn": "arn:x", "resource": "r", "sg": "sg-1"},
            "target",
            "t",
        ),
        ({"action": "a", "arn": "arn:x", "resource": "r", "sg": "sg-1"}, "target", "arn:x"),
        ({"action": "a", "resource": "r", "sg": "sg-1"}, "target", "r"),
        ({"action": "a", "sg": "sg-1"}, "target", "sg-1"),
        # a message's timestamp: timestamp > updated_at > created_at
        ({"action": "a", "timestamp": "t", "updated_at": "u", "created_at": "c"}, "timestamp", "t"),
        ({"action": "a", "updated_at": "u", "created_at": "c"}, "timestamp", "u"),
        ({"action": "a", "created_at": "c"}, "timestamp", "c"),
        # an incident's timestamp likewise (a finding's incident has only updated_at)
        ({"timestamp": "t", "updated_at": "u", "created_at": "c"}, "timestamp", "t"),
        ({"updated_at": "u", "created_at": "c"}, "timestamp", "u"),
        ({"created_at": "c"}, "timestamp", "c"),
        ({}, "timestamp", None),
    ],
)
def test_a_derived_field_is_its_first_present_source_in_order(
    message_for, present, field, expected
):
    message = message_for({"incident_id": "i-1", **present})

    assert message[field] == expected


def test_item_that_is_neither_kind_is_skipped(load, history, fake_api):
    table = IncidentTable("Other", hash_key="id")
    processor = load(
        "stream_processor",
        CHANNELS=channels_env(history=("HistoryConnections", fake_api.endpoint())),
        ROUTES=ROUTES,
    )
    add_connections(history, "c1")
    table.put({"id": "x-1", "note": "not an incident"})

    response = processor.handler(table.event(), None)

    assert response == {"batchItemFailures": []}
    assert fake_api.received == []


def test_dynamodb_values_become_plain_json(message_for):
    message = message_for(
        {
            "incident_id": "i-1",
            "count": Decimal("3"),
            "score": Decimal("7.25"),
            "tags": {"zeta", "alpha"},
            "ports": {Decimal("443"), Decimal("22")},
            "blob": b"\x00\xffpayload",
            "nested": {"n": Decimal("1"), "l": [Decimal("1.5"), "x", None, True]},
        }
    )

    assert message["data"] == {
        "incident_id": "i-1",
        "count": 3,
        "score": 7.25,
        "tags": ["alpha", "zeta"],
        "ports": [22, 443],
        "blob": "AP9wYXlsb2Fk",
        "nested": {"n": 1, "l": [1.5, "x", None, True]},
    }


def test_message_over_the_size_limit_is_sent_without_data_and_marked_truncated(message_for):
    evidence = "x" * LIMITS.MAX_MESSAGE_BYTES

    message = message_for({"incident_id": "i-1", "title": "big", "evidence": evidence})

    assert message["truncated"] is True
    assert "data" not in message
    assert message["title"] == "big"


def test_message_too_big_even_without_data_is_skipped_with_an_error_log(
    processor, history, incidents, fake_api, caplog
):
    add_connections(history, "c1")
    incidents.put({"incident_id": "i-1", "title": "x" * LIMITS.MAX_MESSAGE_BYTES})
    incidents.put({"incident_id": "i-2", "title": "small"})

    response = processor.handler(incidents.event(), None)

    assert [m["incident_id"] for m in messages(fake_api, "c1")] == ["i-2"]
    assert parse_log_event(caplog, "message_too_large")
    assert response == {"batchItemFailures": []}


def nested(levels: int, kind: str = "M") -> dict:
    """An attribute value whose maps (or lists) nest `levels` deep around a string."""
    value: dict = {"S": "innermost"}
    for _ in range(levels):
        value = {"M": {"next": value}} if kind == "M" else {"L": [value]}
    return value


def with_new_image(record: dict, image: dict) -> dict:
    return {**record, "dynamodb": {**record["dynamodb"], "NewImage": image}}


@pytest.mark.parametrize(
    "too_deep",
    [
        {"evidence": nested(350)},
        {"evidence": nested(350, kind="L")},
        {"evidence": {"S": nested(350)}},  # not even a DynamoDB value
    ],
    ids=["maps", "lists", "inside-a-string"],
)
def test_a_record_nested_deeper_than_dynamodb_allows_is_skipped_and_the_others_go_out(
    processor, history, incidents, fake_api, caplog, too_deep
):
    add_connections(history, "c1")
    incidents.put({"incident_id": "deep"})
    incidents.put({"incident_id": "good"})
    deep_record, good_record = incidents.records()
    image = {**deep_record["dynamodb"]["NewImage"], **too_deep}

    response = processor.handler(
        {"Records": [with_new_image(deep_record, image), good_record]}, None
    )

    assert [m["incident_id"] for m in messages(fake_api, "c1")] == ["good"]
    [skipped] = parse_log_event(caplog, "record_skipped")
    assert "nest" in skipped["reason"]
    assert response == {"batchItemFailures": []}


def test_a_record_nested_as_deep_as_dynamodb_allows_is_delivered(
    processor, history, incidents, fake_api
):
    add_connections(history, "c1")
    incidents.put({"incident_id": "i-1"})
    [record] = incidents.records()
    levels = LIMITS.MAX_NESTING_LEVELS
    image = {**record["dynamodb"]["NewImage"], "evidence": nested(levels, kind="L")}

    processor.handler({"Records": [with_new_image(record, image)]}, None)

    [message] = messages(fake_api, "c1")
    evidence = message["data"]["evidence"]
    for _ in range(levels):
        [evidence] = evidence
    assert evidence == "innermost"


# -- routing and connections ----------------------------------------------------------------


def test_messages_go_only_to_the_channels_routes_name(load, make_connections_table, fake_api):
    alerts, history = make_connections_table("Alerts"), make_connections_table("History")
    add_connections(alerts, "alert-1")
    add_connections(history, "history-1")
    processor = processor_with_channels(
        load,
        fake_api,
        {"incident": ["events", "history"], "remediation": ["history"]},
        events="Alerts",
        history="History",
    )
    incidents = IncidentTable()
    incidents.put({"incident_id": "i-1"})
    incidents.put({"incident_id": "i-1", "action": "isolate"})

    processor.handler(incidents.event(), None)

    assert [m["type"] for m in messages(fake_api, "alert-1")] == ["incident"]
    assert [m["type"] for m in messages(fake_api, "history-1")] == ["incident", "remediation"]


def test_connections_receive_only_their_account_and_region_or_unscoped_messages(
    processor, history, incidents, fake_api
):
    history.put_item(Item=connection("everything"))
    history.put_item(Item=connection("account-a", account="111111111111"))
    history.put_item(Item=connection("account-b", account="222222222222"))
    history.put_item(Item=connection("a-in-eu", account="111111111111", region="eu-west-1"))
    incidents.put({"incident_id": "a-us", "account": "111111111111", "region": "us-east-1"})
    incidents.put({"incident_id": "a-eu", "account": "111111111111", "region": "eu-west-1"})
    incidents.put({"incident_id": "b-us", "account": "222222222222", "region": "us-east-1"})
    incidents.put({"incident_id": "unscoped"})

    processor.handler(incidents.event(), None)

    def received(connection_id: str) -> list[str]:
        return [m["incident_id"] for m in messages(fake_api, connection_id)]

    assert received("everything") == ["a-us", "a-eu", "b-us", "unscoped"]
    assert received("account-a") == ["a-us", "a-eu", "unscoped"]
    assert received("account-b") == ["b-us", "unscoped"]
    assert received("a-in-eu") == ["a-eu", "unscoped"]


def test_connections_whose_ttl_has_passed_are_skipped_not_deleted(
    processor, history, incidents, fake_api
):
    history.put_item(Item=connection("live"))
    history.put_item(Item=connection("expired", ttl=int(time.time()) - 60))
    history.put_item(Item={"connectionId": "no-ttl"})
    incidents.put({"incident_id": "i-1"})

    processor.handler(incidents.event(), None)

    assert set(fake_api.stats()["connections"]) == {"live", "no-ttl"}
    assert stored_ids(history) == {"live", "expired", "no-ttl"}


def test_connection_list_is_read_once_per_invocation(processor, history, incidents, fake_api):
    add_connections(history, "c1", "c2")
    scans = []
    processor.FAN_OUT.dynamodb.meta.events.register(
        "before-call.dynamodb.Scan", lambda **kwargs: scans.append(kwargs["params"])
    )
    for n in range(3):
        incidents.put({"incident_id": f"i-{n}"})
        incidents.put({"incident_id": f"i-{n}", "action": "isolate"})

    processor.handler(incidents.event(), None)

    assert len(scans) == 1
    assert len(fake_api.received) == 12


def test_connection_list_is_read_page_by_page(make_connections_table):
    table = make_connections_table("Paged")
    add_connections(table, *(f"c{i}" for i in range(7)))
    connection_store = load_module("stream_processor", "incident_ws.connection_store")
    clients = load_module("stream_processor", "incident_ws.clients")
    store = connection_store.ConnectionStore(clients.dynamodb_client(), "Paged", page_size=2)

    assert {c.connection_id for c in store.scan_live()} == {f"c{i}" for i in range(7)}


def test_every_connection_receives_the_batch_in_stream_order_under_concurrency(
    load, history, incidents
):
    ids = [f"c{i:02d}" for i in range(12)]
    add_connections(history, *ids)
    for n in range(5):
        incidents.put({"incident_id": f"i-{n}"})
    with FakeConnectionsApi(latency_ms=15) as slow_api:
        processor = load(
            "stream_processor",
            CHANNELS=channels_env(history=("HistoryConnections", slow_api.endpoint())),
            ROUTES=ROUTES,
            MAX_CONCURRENCY="4",
        )
        processor.handler(incidents.event(), None)

    for connection_id in ids:
        received = [json.loads(b)["incident_id"] for b in slow_api.bodies(connection_id)]
        assert received == [f"i-{n}" for n in range(5)]
    assert 1 < slow_api.max_in_flight <= 4


# -- delivery outcomes -----------------------------------------------------------------------


def test_gone_connection_is_deleted_and_others_still_receive(
    processor, history, incidents, fake_api
):
    add_connections(history, "alive-1", "gone", "alive-2")
    fake_api.gone("gone")
    incidents.put({"incident_id": "i-1"})
    incidents.put({"incident_id": "i-2"})

    processor.handler(incidents.event(), None)

    assert stored_ids(history) == {"alive-1", "alive-2"}
    assert len(messages(fake_api, "alive-1")) == len(messages(fake_api, "alive-2")) == 2
    assert fake_api.attempts["gone"] == 1


@pytest.mark.parametrize("status", [429, 500, 503])
def test_throttled_or_failing_post_is_retried_then_delivered(
    processor, history, incidents, fake_api, caplog, status
):
    add_connections(history, "c1")
    fake_api.fail_first("c1", status, attempts=2)
    incidents.put({"incident_id": "i-1"})

    processor.handler(incidents.event(), None)

    assert len(messages(fake_api, "c1")) == 1
    [summary] = parse_log_event(caplog, "stream_batch_processed")
    assert summary["channels"]["history"]["retried"] == 2
    assert summary["channels"]["history"]["delivered"] == 1


def test_post_still_failing_after_the_retries_is_counted_failed_not_deleted(
    processor, history, incidents, fake_api, caplog
):
    add_connections(history, "c1")
    fake_api.fail_first("c1", 500, attempts=100)
    incidents.put({"incident_id": "i-1"})

    response = processor.handler(incidents.event(), None)

    assert stored_ids(history) == {"c1"}
    assert fake_api.attempts["c1"] == 4  # the first try and 3 retries
    [summary] = parse_log_event(caplog, "stream_batch_processed")
    assert summary["channels"]["history"]["failed"] == 1
    assert response == {"batchItemFailures": []}


@pytest.mark.parametrize("status", [403, 413, 400])
def test_other_client_errors_are_counted_failed_never_retried_nor_deleted(
    processor, history, incidents, fake_api, caplog, status
):
    add_connections(history, "c1", "c2")
    fake_api.respond("c1", status)
    incidents.put({"incident_id": "i-1"})

    processor.handler(incidents.event(), None)

    assert stored_ids(history) == {"c1", "c2"}
    assert fake_api.attempts["c1"] == 1
    assert len(messages(fake_api, "c2")) == 1
    [summary] = parse_log_event(caplog, "stream_batch_processed")
    assert summary["channels"]["history"]["failed"] == 1


def test_posts_are_signed_for_execute_api(processor, history, incidents, fake_api):
    add_connections(history, "c1")
    fake_api.respond("c1", 200)
    incidents.put({"incident_id": "i-1"})

    processor.handler(incidents.event(), None)

    assert len(messages(fake_api, "c1")) == 1  # the fake answers 403 to unsigned posts


def test_only_records_of_a_channel_whose_table_cannot_be_read_fail_the_batch(
    load, make_connections_table, fake_api
):
    history = make_connections_table("History")
    add_connections(history, "h1")
    processor = processor_with_channels(
        load,
        fake_api,
        {"incident": ["history"], "remediation": ["remediation"]},
        history="History",
        remediation="MissingTable",
    )
    incidents = IncidentTable()
    incidents.put({"incident_id": "i-1"})
    incidents.put({"incident_id": "i-1", "action": "isolate"})
    event = incidents.event()

    response = processor.handler(event, None)

    remediation_sequence = event["Records"][1]["dynamodb"]["SequenceNumber"]
    assert response == {"batchItemFailures": [{"itemIdentifier": remediation_sequence}]}
    assert [m["type"] for m in messages(fake_api, "h1")] == ["incident"]


def test_posting_starts_with_the_first_page_of_connections(processor, history, incidents, fake_api):
    add_connections(history, *(f"c{i}" for i in range(6)))
    posted_before_the_next_page = []

    def one_connection_a_page(params, **_):
        params["Limit"] = 1
        if "ExclusiveStartKey" in params:  # wait for a post of the pages already read
            deadline = time.monotonic() + 5
            while not fake_api.received and time.monotonic() < deadline:
                time.sleep(0.01)
            posted_before_the_next_page.append(bool(fake_api.received))

    processor.FAN_OUT.dynamodb.meta.events.register(
        "provide-client-params.dynamodb.Scan", one_connection_a_page
    )
    incidents.put({"incident_id": "i-1"})

    processor.handler(incidents.event(), None)

    assert len(fake_api.received) == 6
    assert posted_before_the_next_page[0] is True


def test_table_failing_after_some_connections_got_the_messages_does_not_fail_the_record(
    processor, history, incidents, fake_api, caplog
):
    add_connections(history, *(f"c{i}" for i in range(6)))
    drop_table_after_first_scan_page(processor.FAN_OUT.dynamodb, history, page_size=2)
    incidents.put({"incident_id": "i-1"})

    response = processor.handler(incidents.event(), None)

    assert response == {"batchItemFailures": []}  # a retry would send c0, c1 a second copy
    assert len(fake_api.received) == 2
    [summary] = parse_log_event(caplog, "stream_batch_processed")
    assert summary["channels"]["history"]["connections"] == 2
    assert "ResourceNotFoundException" in summary["channels"]["history"]["error"]
    [unreadable] = parse_log_event(caplog, "connections_unreadable")
    assert unreadable["connectionsRead"] == 2


def test_a_record_that_reached_no_connection_of_a_partly_read_channel_is_retried(
    processor, history, incidents, fake_api
):
    # The first page holds only connections registered for account 111111111111; the table
    # fails from the second page on, before the 600 connections that take every message.
    with history.batch_writer() as batch:
        for n in range(200):
            batch.put_item(Item=connection(f"a{n:03d}", account="111111111111"))
        for n in range(600):
            batch.put_item(Item=connection(f"x{n:03d}"))
    fail_scan_pages(processor.FAN_OUT.dynamodb, "HistoryConnections", page_size=200, failing_from=2)
    incidents.put({"incident_id": "A", "account": "111111111111"})
    incidents.put({"incident_id": "B", "account": "222222222222"})
    event = incidents.event()

    response = processor.handler(event, None)

    record_b = event["Records"][1]["dynamodb"]["SequenceNumber"]
    assert response == {"batchItemFailures": [{"itemIdentifier": record_b}]}
    assert len(fake_api.received) == 200
    assert {json.loads(r.body)["incident_id"] for r in fake_api.received} == {"A"}


def test_a_record_routed_to_two_channels_is_retried_when_one_cannot_be_read(
    load, make_connections_table, fake_api
):
    add_connections(make_connections_table("History"), "h1")
    processor = processor_with_channels(
        load,
        fake_api,
        {"incident": ["events", "history"]},
        events="MissingTable",
        history="History",
    )
    incidents = IncidentTable()
    incidents.put({"incident_id": "i-1"})
    event = incidents.event()

    response = processor.handler(event, None)

    record = event["Records"][0]["dynamodb"]["SequenceNumber"]
    assert response == {"batchItemFailures": [{"itemIdentifier": record}]}
    assert len(messages(fake_api, "h1")) == 1  # and once more with the retry


def test_one_summary_line_per_invocation(processor, history, incidents, fake_api, caplog):
    add_connections(history, "c1", "c2", "gone")
    fake_api.gone("gone")
    fake_api.respond("c2", 403)
    incidents.put({"incident_id": "i-1"})
    incidents.put({"incident_id": "i-1", "action": "isolate"})

    processor.handler(incidents.event(), None)

    [summary] = parse_log_event(caplog, "stream_batch_processed")
    assert summary["records"] == 2
    assert summary["messages"] == 2
    assert summary["channels"] == {
        "history": {
            "connections": 3,
            "delivered": 2,
            "gone": 1,
            "failed": 2,
            "unattempted": 0,
            "retried": 0,
            "duplicates": 0,
        }
    }
    assert summary["elapsedMs"] >= 0
