"""The 410 cleanup: a connection a post finds gone is marked `goneAt`, then deleted, so that the
stream's REMOVE says why it went offline. The mark never creates a row, and a failed mark never
stops the delete nor the other deliveries. A connection stored moments ago may still be in its
`$connect` (API Gateway answers 410 then too) and is kept."""

from __future__ import annotations

import json
import time

import pytest

from tests.support.events import schedule_event
from tests.support.stream_records import ConnectionsTable, IncidentTable
from tests.unit.helpers import LIMITS, channels_env, connection, parse_log_event

ROUTES = json.dumps({"incident": ["history"]})


@pytest.fixture
def connections():
    return ConnectionsTable("HistoryConnections")


@pytest.fixture
def processor(load, connections, fake_api):
    return load(
        "stream_processor",
        CHANNELS=channels_env(history=("HistoryConnections", fake_api.endpoint())),
        ROUTES=ROUTES,
    )


@pytest.fixture
def heartbeat(load, connections, fake_api):
    return load(
        "heartbeat", CHANNELS=channels_env(history=("HistoryConnections", fake_api.endpoint()))
    )


def broadcast(processor) -> None:
    incidents = IncidentTable()
    incidents.put({"incident_id": "i-1"})
    processor.handler(incidents.event(), None)


def stored_ids(connections) -> set[str]:
    return {item["connectionId"] for item in connections.table.scan()["Items"]}


@pytest.mark.parametrize("sender", ["processor", "heartbeat"])
def test_a_gone_connection_is_marked_gone_then_deleted(request, connections, fake_api, sender):
    connections.put(connection("alive"))
    connections.put(connection("gone"))
    connections.records()
    fake_api.gone("gone")
    before_ms = int(time.time() * 1000)

    if sender == "processor":
        broadcast(request.getfixturevalue("processor"))
    else:
        request.getfixturevalue("heartbeat").handler(schedule_event(), None)

    modify, remove = connections.records()
    assert (modify["eventName"], remove["eventName"]) == ("MODIFY", "REMOVE")
    gone_at = int(modify["dynamodb"]["NewImage"]["goneAt"]["N"])
    assert before_ms <= gone_at <= time.time() * 1000
    assert remove["dynamodb"]["OldImage"]["goneAt"] == {"N": str(gone_at)}
    assert stored_ids(connections) == {"alive"}


@pytest.mark.parametrize("sender", ["processor", "heartbeat"])
def test_a_connection_stored_moments_ago_is_kept_on_410_as_it_may_still_be_connecting(
    request, connections, fake_api, sender, caplog
):
    connections.put(connection("old"))
    connecting_since = time.time() - LIMITS.CONNECTING_SECONDS + 5
    connections.put(connection("connecting", createdAt=int(connecting_since * 1000)))
    connections.records()
    fake_api.gone("old", "connecting")

    if sender == "processor":
        broadcast(request.getfixturevalue("processor"))
    else:
        request.getfixturevalue("heartbeat").handler(schedule_event(), None)

    assert stored_ids(connections) == {"connecting"}
    [kept] = connections.table.scan()["Items"]
    assert "goneAt" not in kept
    [event] = parse_log_event(caplog, "gone_connection_kept")
    assert event == {
        "table": "HistoryConnections",
        "connectionId": "connecting",
        "reason": "connecting",
    }


@pytest.mark.parametrize(
    "created_at", [None, "not a number"], ids=["without createdAt", "odd createdAt"]
)
def test_whether_a_410_deletes_a_row_without_a_readable_connect_time(
    processor, connections, fake_api, created_at
):
    item = {k: v for k, v in connection("gone").items() if k != "createdAt"}
    connections.put(item if created_at is None else {**item, "createdAt": created_at})
    fake_api.gone("gone")

    broadcast(processor)

    # No connect time: stored before connect recorded one, long ago. One that is no number
    # might be recent: kept until its TTL rather than risk deleting a live connection.
    assert stored_ids(connections) == (set() if created_at is None else {"gone"})


def test_the_mark_never_creates_a_row_for_a_connection_deleted_meanwhile(
    processor, connections, fake_api
):
    connections.put(connection("gone"))
    connections.records()
    fake_api.gone("gone")

    def disconnect_first(**_) -> None:
        connections.table.delete_item(Key={"connectionId": "gone"})

    processor.FAN_OUT.dynamodb.meta.events.register(
        "before-call.dynamodb.UpdateItem", disconnect_first
    )

    broadcast(processor)

    assert stored_ids(connections) == set()
    assert [r["eventName"] for r in connections.records()] == ["REMOVE"]


def test_a_failed_mark_does_not_stop_the_delete_nor_the_others(
    processor, connections, fake_api, caplog
):
    connections.put(connection("gone"))
    connections.put(connection("alive"))
    fake_api.gone("gone")

    def refuse(**_):
        error = {"Code": "AccessDeniedException", "Message": "not allowed: dynamodb:UpdateItem"}
        return _Response(400), {"Error": error, "ResponseMetadata": {"HTTPStatusCode": 400}}

    processor.FAN_OUT.dynamodb.meta.events.register("before-call.dynamodb.UpdateItem", refuse)

    broadcast(processor)

    assert stored_ids(connections) == {"alive"}
    assert len(fake_api.bodies("alive")) == 1
    [failed] = parse_log_event(caplog, "gone_connection_mark_failed")
    assert failed["connectionId"] == "gone"
    assert "AccessDenied" in failed["error"]


class _Response:
    def __init__(self, status_code: int) -> None:
        self.status_code = status_code
        self.headers: dict[str, str] = {}
