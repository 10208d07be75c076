"""Scheduled keep-alive: a ping to every live connection of every channel."""

from __future__ import annotations

import json
import socket
import time

import pytest

from dev.harness.fake_connections_api import FakeConnectionsApi
from tests.support.events import schedule_event
from tests.unit.helpers import (
    channels_env,
    connection,
    drop_table_after_first_scan_page,
    parse_log_event,
)


def add_connections(table, *connection_ids: str) -> None:
    for connection_id in connection_ids:
        table.put_item(Item=connection(connection_id))


@pytest.fixture
def tables(make_connections_table):
    return {name: make_connections_table(f"{name}-connections") for name in ("events", "history")}


@pytest.fixture
def heartbeat(load, tables, fake_api):
    return load(
        "heartbeat",
        CHANNELS=channels_env(
            **{name: (table.name, fake_api.endpoint(name)) for name, table in tables.items()}
        ),
    )


def test_every_live_connection_of_every_channel_gets_a_ping(heartbeat, tables, fake_api):
    add_connections(tables["events"], "e1", "e2")
    add_connections(tables["history"], "h1")
    before = int(time.time())

    heartbeat.handler(schedule_event(), None)

    assert fake_api.stats()["connections"] == {"e1": 1, "e2": 1, "h1": 1}
    ping = json.loads(fake_api.bodies("h1")[0])
    assert set(ping) == {"type", "timestamp"}
    assert ping["type"] == "ping"
    assert before <= ping["timestamp"] <= time.time()


def test_result_has_per_channel_counts(heartbeat, tables, fake_api):
    add_connections(tables["events"], "e1", "e2", "e-gone", "e-forbidden")
    add_connections(tables["history"], "h1")
    fake_api.gone("e-gone")
    fake_api.respond("e-forbidden", 403)

    result = heartbeat.handler(schedule_event(), None)

    assert result == {
        "events": {"connections": 4, "sent": 2, "gone": 1, "failed": 1, "unattempted": 0},
        "history": {"connections": 1, "sent": 1, "gone": 0, "failed": 0, "unattempted": 0},
    }


def test_one_summary_line_counts_each_channel_in_the_stream_processors_terms(
    heartbeat, tables, fake_api, caplog
):
    add_connections(tables["events"], "e1", "e-gone")
    fake_api.gone("e-gone")

    heartbeat.handler(schedule_event(), None)

    [summary] = parse_log_event(caplog, "heartbeat_sent")
    no_faults = {"unattempted": 0, "retried": 0, "duplicates": 0}
    assert summary["channels"] == {
        "events": {"connections": 2, "delivered": 1, "gone": 1, "failed": 0, **no_faults},
        "history": {"connections": 0, "delivered": 0, "gone": 0, "failed": 0, **no_faults},
    }
    assert summary["elapsedMs"] >= 0


def test_gone_connections_are_deleted_and_only_they(heartbeat, tables, fake_api):
    add_connections(tables["events"], "e1", "e-gone", "e-forbidden")
    fake_api.gone("e-gone")
    fake_api.respond("e-forbidden", 403)

    heartbeat.handler(schedule_event(), None)

    remaining = {item["connectionId"] for item in tables["events"].scan()["Items"]}
    assert remaining == {"e1", "e-forbidden"}


def test_expired_connections_are_not_pinged(heartbeat, tables, fake_api):
    tables["events"].put_item(Item=connection("old", ttl=int(time.time()) - 1))
    add_connections(tables["events"], "e1")

    result = heartbeat.handler(schedule_event(), None)

    assert result["events"]["connections"] == 1
    assert fake_api.attempts["old"] == 0


def test_channels_are_pinged_concurrently(load, make_connections_table):
    names = ("events", "remediation", "history")
    for name in names:
        add_connections(make_connections_table(name), f"{name}-1")
    with FakeConnectionsApi(latency_ms=300) as slow_api:
        heartbeat = load(
            "heartbeat",
            CHANNELS=channels_env(**{n: (n, slow_api.endpoint(n)) for n in names}),
            MAX_CONCURRENCY="8",
        )
        heartbeat.handler(schedule_event(), None)

    assert slow_api.max_in_flight == 3


def test_a_failing_channel_does_not_stop_the_others(load, make_connections_table, fake_api, caplog):
    add_connections(make_connections_table("history-connections"), "h1")
    heartbeat = load(
        "heartbeat",
        CHANNELS=channels_env(
            events=("MissingTable", fake_api.endpoint("events")),
            history=("history-connections", fake_api.endpoint("history")),
        ),
    )

    result = heartbeat.handler(schedule_event(), None)

    assert result["history"] == {
        "connections": 1,
        "sent": 1,
        "gone": 0,
        "failed": 0,
        "unattempted": 0,
    }
    assert "ResourceNotFoundException" in result["events"]["error"]
    [failure] = parse_log_event(caplog, "heartbeat_channel_failed")
    assert failure["channel"] == "events"


def test_a_table_failing_mid_scan_reports_the_pings_sent_and_the_error(heartbeat, tables, fake_api):
    add_connections(tables["events"], "e1", "e2", "e3", "e4")
    drop_table_after_first_scan_page(heartbeat.FAN_OUT.dynamodb, tables["events"], page_size=2)

    result = heartbeat.handler(schedule_event(), None)

    assert {k: v for k, v in result["events"].items() if k != "error"} == {
        "connections": 2,
        "sent": 2,
        "gone": 0,
        "failed": 0,
        "unattempted": 0,
    }
    assert "ResourceNotFoundException" in result["events"]["error"]


def test_legacy_variables_configure_the_three_channels(load, make_connections_table, fake_api):
    for prefix in ("EVENT", "REMED", "HISTORY"):
        add_connections(make_connections_table(f"{prefix}-table"), f"{prefix}-1")
    heartbeat = load(
        "heartbeat",
        EVENT_API_GW_ENDPOINT=fake_api.endpoint("events") + "/",
        EVENT_CONNECTIONS_TABLE="EVENT-table",
        REMED_API_GW_ENDPOINT=fake_api.endpoint("remediation"),
        REMED_CONNECTIONS_TABLE="REMED-table",
        HISTORY_API_GW_ENDPOINT=fake_api.endpoint("history") + "/",
        HISTORY_CONNECTIONS_TABLE="HISTORY-table",
    )

    result = heartbeat.handler(schedule_event(), None)

    assert {key: counts["sent"] for key, counts in result.items()} == {
        "events": 1,
        "remediation": 1,
        "history": 1,
    }


def closed_endpoint() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}/prod"


def test_a_channel_with_an_unreachable_endpoint_does_not_stop_the_others(
    load, make_connections_table, fake_api
):
    add_connections(make_connections_table("events-connections"), "e1")
    add_connections(make_connections_table("history-connections"), "h1")
    heartbeat = load(
        "heartbeat",
        CHANNELS=channels_env(
            events=("events-connections", closed_endpoint()),
            history=("history-connections", fake_api.endpoint("history")),
        ),
    )

    result = heartbeat.handler(schedule_event(), None)

    assert {k: v for k, v in result["events"].items() if k != "error"} == {
        "connections": 1,
        "sent": 0,
        "gone": 0,
        "failed": 1,
        "unattempted": 0,
    }
    assert result["history"] == {
        "connections": 1,
        "sent": 1,
        "gone": 0,
        "failed": 0,
        "unattempted": 0,
    }


@pytest.mark.parametrize("connections", [3, 100])
def test_a_channel_whose_endpoint_refuses_every_post_reports_an_error_logged_once(
    load, make_connections_table, fake_api, caplog, connections
):
    add_connections(
        make_connections_table("events-connections"), *(f"e{n}" for n in range(connections))
    )
    add_connections(make_connections_table("history-connections"), "h1")
    heartbeat = load(
        "heartbeat",
        CHANNELS=channels_env(
            events=("events-connections", closed_endpoint()),
            history=("history-connections", fake_api.endpoint("history")),
        ),
    )

    result = heartbeat.handler(schedule_event(), None)

    events = result["events"]
    assert events["sent"] == 0
    assert events["failed"] + events["unattempted"] == connections
    assert "ConnectionRefusedError" in events["error"]
    assert "error" not in result["history"]
    [failure] = parse_log_event(caplog, "heartbeat_channel_failed")
    assert (failure["channel"], failure["error"]) == ("events", events["error"])
