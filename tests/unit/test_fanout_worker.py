"""The fan-out worker: one segment of a channel's connections, posted to as the stream
processor asks, and its report as the answer; a request it cannot read is refused, not
guessed at."""

from __future__ import annotations

import json

import pytest

from tests.support.lambda_zip import load_module
from tests.unit.helpers import channels_env, connection, parse_log_event

TABLE = "HistoryConnections"


@pytest.fixture
def history(make_connections_table):
    return make_connections_table(TABLE)


@pytest.fixture
def worker(load, history, fake_api):
    return load("fanout_worker", CHANNELS=channels_env(history=(TABLE, fake_api.endpoint())))


@pytest.fixture
def requests():
    return load_module("fanout_worker", "incident_ws.fanout_requests")


def message(requests, n: int, **fields):
    body = json.dumps({"type": "incident", "id": f"m{n}", **fields}).encode()
    return requests.Message("incident", body, fields.get("account"), None, f"s{n}", f"m{n}")


def request(requests, messages, index=0, total=1, first=0, deadline=None) -> dict:
    segment = requests.ScanSegment(index, total)
    encoded = requests.SegmentRequest("history", segment, tuple(messages), deadline, first)
    return json.loads(encoded.encode())


def add_connections(table, count: int, **attributes) -> list[str]:
    ids = [f"c{n:02}" for n in range(count)]
    for connection_id in ids:
        table.put_item(Item=connection(connection_id, **attributes))
    return ids


def test_the_worker_posts_to_its_segment_only_and_reports_positions_from_first(
    worker, requests, history, fake_api
):
    ids = add_connections(history, 12)
    mine = {i["connectionId"] for i in history.scan(Segment=1, TotalSegments=3)["Items"]}

    answer = worker.handler(request(requests, [message(requests, 5)], 1, 3, first=5), None)

    assert {c for c in ids if fake_api.bodies(c)} == mine
    assert (answer["connections"], answer["counts"]["delivered"]) == (len(mine), len(mine))
    assert list(answer["deliveredAt"]) == ["0"]
    assert answer["incomplete"] == []


def test_the_worker_posts_the_exact_bytes_of_each_message_in_order(
    worker, requests, history, fake_api
):
    add_connections(history, 1)
    messages = [message(requests, n, title="é ü ✓") for n in range(3)]

    worker.handler(request(requests, messages), None)

    assert fake_api.bodies("c00") == [m.body for m in messages]


def test_the_worker_applies_the_account_filter(worker, requests, history, fake_api):
    history.put_item(Item=connection("mine", account="111122223333"))
    history.put_item(Item=connection("other", account="444455556666"))

    worker.handler(request(requests, [message(requests, 0, account="111122223333")]), None)

    assert (len(fake_api.bodies("mine")), len(fake_api.bodies("other"))) == (1, 0)


def test_a_gone_connection_is_marked_and_deleted_by_the_worker(worker, requests, history, fake_api):
    add_connections(history, 2)
    fake_api.gone("c01")

    answer = worker.handler(request(requests, [message(requests, 0)]), None)

    assert answer["counts"]["gone"] == 1
    assert [i["connectionId"] for i in history.scan()["Items"]] == ["c00"]


def test_a_deadline_already_passed_starts_no_post(worker, requests, history, fake_api):
    add_connections(history, 3)

    answer = worker.handler(request(requests, [message(requests, 0)], deadline=1.0), None)

    assert fake_api.received == []
    assert answer["incomplete"] and answer["deliveredAt"] == {}


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"channel": "elsewhere"}, "not one this worker reaches"),
        ({"segment": 3, "totalSegments": 3}, "segment 3 is not one of 0..2"),
        ({"segment": "1"}, "whole numbers"),
        ({"messages": "m"}, "messages must be a list"),
        ({"messages": [{"type": "incident"}]}, "needs a string type and body"),
        ({"deadline": "soon"}, "deadline must be epoch seconds"),
    ],
)
def test_a_request_it_cannot_read_is_refused_and_nothing_is_posted(
    worker, requests, history, fake_api, caplog, change, reason
):
    add_connections(history, 1)
    bad = {**request(requests, [message(requests, 0)]), **change}

    answer = worker.handler(bad, None)

    assert reason in answer["error"]
    assert fake_api.received == []
    assert reason in parse_log_event(caplog, "fan_out_request_invalid")[0]["error"]


def test_requests_over_the_payload_limit_are_split_in_stream_order(requests):
    segment = requests.ScanSegment(1, 2)
    messages = [message(requests, n, data="x" * 300) for n in range(10)]
    limit = len(requests.SegmentRequest("history", segment, tuple(messages[:3]), None).encode())

    split = list(requests.requests_within("history", segment, messages, None, limit))

    assert [r.first for r, _ in split] == [0, 3, 6, 9]
    assert [m for r, _ in split for m in r.messages] == messages
    assert all(len(payload) <= limit for _, payload in split)


def test_a_message_alone_over_the_payload_limit_is_refused(requests):
    with pytest.raises(requests.RequestError, match="alone is over"):
        list(
            requests.requests_within(
                "h", requests.ScanSegment(0, 2), [message(requests, 0)], None, 100
            )
        )


def test_a_request_round_trips_its_messages(requests):
    messages = (message(requests, 0, account="111122223333"), message(requests, 1))
    decoded = requests.decode_request(request(requests, messages, 1, 4, first=7, deadline=12.5))

    assert decoded.messages == messages
    assert (decoded.segment.index, decoded.segment.total, decoded.first) == (1, 4, 7)
    assert decoded.deadline == 12.5
