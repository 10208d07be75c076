"""Property-based: over random connection sets and random logs, what a connection replays is
exactly, byte for byte and in order, what live delivery sent it; and over random frames, a
replay request is answered 200 with either its messages and `replay_complete` or one error
frame naming the field the request got wrong."""

from __future__ import annotations

import itertools
import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dev.harness.lambda_context import LambdaContext
from tests.support.events import connect_event, route_event
from tests.support.stream_records import IncidentTable
from tests.unit.helpers import CONNECTIONS_TABLE

ACCOUNTS = ("111122223333", "444455556666")
ELSEWHERE = "777788889999"
REGIONS = ("eu-west-1", "us-east-1")
MAX_MESSAGES = 20
BEGINNING = f"{0:010d}-{0:040d}"
PROPERTY_SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
_numbers = itertools.count()

# A client as its $connect makes it: a scope (None: every account) and its query's filters.
clients = st.fixed_dictionaries(
    {
        "scope": st.none() | st.frozensets(st.sampled_from(ACCOUNTS), min_size=1),
        "account": st.none() | st.sampled_from(ACCOUNTS),
        "region": st.none() | st.sampled_from(REGIONS),
    }
).filter(lambda c: c["scope"] is None or c["account"] in (None, *c["scope"]))
incident_items = st.fixed_dictionaries(
    {},
    optional={
        "account": st.sampled_from((*ACCOUNTS, ELSEWHERE)) | st.just(Decimal(ACCOUNTS[0])),
        "region": st.sampled_from(REGIONS),
        "action": st.just("isolate"),
    },
)


@pytest.fixture
def incidents():
    return IncidentTable()


@pytest.fixture
def log_table(make_messages_table):
    return make_messages_table("Messages")


@pytest.fixture
def handlers(load, table, log_table, fake_api):
    channels = {
        "history": {
            "table": CONNECTIONS_TABLE,
            "endpoint": fake_api.endpoint(),
            "messages_table": "Messages",
        }
    }
    routes = {"incident": ["history"], "remediation": ["history"]}
    connect = load("connect", CONNECTIONS_TABLE=CONNECTIONS_TABLE, AUTHORIZATION_TYPE="jwt")
    processor = load("stream_processor", CHANNELS=json.dumps(channels), ROUTES=json.dumps(routes))
    replay = load(
        "replay",
        CHANNEL_NAME="history",
        MESSAGES_TABLE="Messages",
        MANAGEMENT_ENDPOINT=fake_api.endpoint(),
        REPLAY_MAX_MESSAGES=str(MAX_MESSAGES),
    )
    return connect, processor, replay


def empty(table, *key: str) -> None:
    for item in table.scan()["Items"]:
        table.delete_item(Key={name: item[name] for name in key})


def authorizer(client: dict) -> dict:
    scope = client["scope"]
    return {"principalId": "p", "accounts": "*" if scope is None else ",".join(sorted(scope))}


@given(
    connected=st.lists(clients, min_size=1, max_size=4), items=st.lists(incident_items, max_size=8)
)
@PROPERTY_SETTINGS
def test_a_replay_is_exactly_what_live_delivery_sent(
    handlers, table, log_table, incidents, fake_api, connected, items
):
    connect, processor, replay = handlers
    empty(table, "connectionId")
    empty(log_table, "channel", "id")
    fake_api.received.clear()
    ids = [f"c{n}" for n in range(len(connected))]
    for connection_id, client in zip(ids, connected, strict=True):
        query = {k: client[k] for k in ("account", "region") if client[k] is not None}
        event = connect_event(connection_id, query=query, authorizer=authorizer(client))
        assert connect.handler(event, None)["statusCode"] == 200
    for item in items:
        incidents.put({"incident_id": f"i-{next(_numbers)}", **item})
    processor.handler(incidents.event(), None)
    live = {connection_id: fake_api.bodies(connection_id) for connection_id in ids}
    fake_api.received.clear()

    for connection_id in ids:
        body = json.dumps({"action": "replay", "since": BEGINNING})
        replay.handler(route_event(connection_id, body), LambdaContext(60))

    for connection_id in ids:
        *replayed, complete = fake_api.bodies(connection_id)
        assert replayed == live[connection_id]
        assert json.loads(complete)["count"] == len(live[connection_id])


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=6,
)
since_values = (
    st.none()
    | st.just(BEGINNING)
    | st.from_regex(r"[0-9]{10}-[0-9]{40}", fullmatch=True)
    | st.from_regex(r"[0-9]{8,12}-?[0-9]{38,42}", fullmatch=True)
    | json_values
)
last_values = st.none() | st.integers(-5, MAX_MESSAGES + 5) | json_values
requests = st.fixed_dictionaries(
    {"action": st.just("replay")}, optional={"since": since_values, "last": last_values}
)
frames = (
    requests.map(json.dumps)
    | json_values.map(json.dumps)
    | st.text(max_size=40)
    | st.binary(max_size=20)
    | st.none()
)


def field_at_fault(frame: Any) -> str | None:
    """The field a replay request gets wrong, as docs/handlers.md states the rules."""
    try:
        request = json.loads(frame) if frame is not None else None
    except ValueError:
        return "body"
    if not isinstance(request, dict):
        return "body"
    since, last = request.get("since"), request.get("last")
    if (since is None) == (last is None):
        return "body"
    if since is not None:
        valid = isinstance(since, str) and len(since) == 51 and since[10] == "-"
        valid = (
            valid and (since[:10] + since[11:]).isascii() and (since[:10] + since[11:]).isdigit()
        )
        return None if valid else "since"
    valid = type(last) is int and 1 <= last <= MAX_MESSAGES
    return None if valid else "last"


@given(frame=frames)
@PROPERTY_SETTINGS
def test_every_frame_is_answered_200_with_its_messages_or_an_error_naming_the_field(
    handlers, table, fake_api, frame
):
    _, _, replay = handlers
    table.put_item(Item={"connectionId": "c1", "clientId": "dashboard"})
    fake_api.received.clear()

    response = replay.handler(route_event("c1", frame), LambdaContext(60))

    assert response == {"statusCode": 200}
    [answer] = [json.loads(body) for body in fake_api.bodies("c1")]  # the log is empty
    fault = field_at_fault(frame)
    if fault is None:
        assert answer == {"type": "replay_complete", "count": 0, "lastId": None}
    else:
        assert (answer["type"], answer["field"]) == ("error", fault)
