"""Property-based: malformed, oversized and odd-typed input never breaks a handler, never
stores invalid data, never widens what a principal may see, and never deletes a connection
except on 410."""

from __future__ import annotations

import ipaddress
import json
import re
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.events import connect_event, disconnect_event
from tests.unit.helpers import CONNECTIONS_TABLE, LIMITS, channels_env, connection

PROPERTY_SETTINGS = settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
VALID_CLIENT_ID = re.compile(r"[A-Za-z0-9._:@/-]{1,128}")
VALID_ACCOUNT = re.compile(r"[0-9]{12}")

json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
odd_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
big_text = st.integers(min_value=0, max_value=200_000).map(lambda n: "x" * n)
query_values = (
    st.text(max_size=140) | st.sampled_from(["123456789012", "us-east-1", ""]) | odd_values
)


def scramble(draw, event: dict) -> object:
    """The event with some parts replaced by odd values, or something else entirely."""
    if draw(st.integers(0, 9)) == 0:
        return draw(odd_values)
    for key in draw(st.lists(st.sampled_from(sorted(event)), max_size=2)):
        event[key] = draw(odd_values)
    context = event.get("requestContext")
    if isinstance(context, dict) and context:
        for key in draw(st.lists(st.sampled_from(sorted(context)), max_size=2)):
            context[key] = draw(odd_values)
    return event


@st.composite
def connect_events(draw):
    query = draw(
        st.none()
        | st.dictionaries(st.sampled_from(["clientId", "account", "region", "x"]), query_values)
    )
    headers = draw(
        st.dictionaries(st.sampled_from(["User-Agent", "X-Forwarded-For"]), st.text() | big_text)
    )
    return scramble(draw, connect_event(draw(st.text(min_size=1, max_size=20)), query, headers))


@st.composite
def disconnect_events(draw):
    return scramble(draw, disconnect_event(draw(st.text(min_size=1, max_size=20))))


def drain(table) -> list[dict]:
    """The table's items, removed so that the next example starts empty."""
    items = table.scan()["Items"]
    for item in items:
        table.delete_item(Key={"connectionId": item["connectionId"]})
    return items


@pytest.fixture
def connect(load, table):
    return load("connect", CONNECTIONS_TABLE=CONNECTIONS_TABLE, AUTHORIZATION_TYPE="none")


@given(event=connect_events())
@PROPERTY_SETTINGS
def test_connect_stores_only_valid_items_and_answers_200_or_400(connect, table, event):
    response = connect.handler(event, None)

    items = drain(table)
    assert response["statusCode"] in (200, 400)
    if response["statusCode"] == 400:
        assert items == []
        return
    [item] = items
    assert VALID_CLIENT_ID.fullmatch(item["clientId"])
    assert "account" not in item or VALID_ACCOUNT.fullmatch(item["account"])
    assert "region" not in item or item["region"] in connect_query_regions(event)
    assert len(item.get("userAgent", "")) <= LIMITS.MAX_USER_AGENT_CHARS
    assert "" not in item.values()


def connect_query_regions(event) -> list:
    return [event["queryStringParameters"]["region"]]


@pytest.fixture
def jwt_connect(load, table):
    return load("connect", CONNECTIONS_TABLE=CONNECTIONS_TABLE, AUTHORIZATION_TYPE="jwt")


scopes = st.sampled_from(["*", "111122223333", "111122223333,444455556666"])
authorizer_contexts = (
    st.fixed_dictionaries({"principalId": st.text(min_size=1, max_size=10), "accounts": scopes})
    | st.fixed_dictionaries(
        {},
        optional={
            "principalId": st.text(max_size=10) | odd_values,
            "accounts": scopes | st.text(alphabet="0123456789,* ", max_size=30) | odd_values,
        },
    )
    | odd_values
)


@given(event=connect_events(), authorizer=authorizer_contexts)
@PROPERTY_SETTINGS
def test_jwt_connect_stores_no_more_than_the_authorizer_context_allows(
    jwt_connect, table, event, authorizer
):
    if isinstance(event, dict) and isinstance(event.get("requestContext"), dict):
        event["requestContext"]["authorizer"] = authorizer

    response = jwt_connect.handler(event, None)

    items = drain(table)
    assert response["statusCode"] in (200, 400, 403)
    if response["statusCode"] != 200:
        assert items == []
        return
    [item] = items
    assert item["principal"] == authorizer["principalId"]
    if authorizer["accounts"] == "*":
        assert "accounts" not in item
    else:
        assert item["accounts"] == set(authorizer["accounts"].split(","))
        assert all(VALID_ACCOUNT.fullmatch(account) for account in item["accounts"])
        assert "account" not in item or item["account"] in item["accounts"]


zones = st.text(max_size=80) | big_text
source_addresses = (
    st.text(max_size=80)
    | st.ip_addresses().map(str)
    | st.builds(lambda ip, zone: f"{ip}%{zone}", st.ip_addresses(v=6), zones)
    | big_text
)


@given(identity=source_addresses | odd_values, forwarded=source_addresses)
@PROPERTY_SETTINGS
def test_connect_stores_a_source_ip_only_as_a_canonical_address(
    connect, table, identity, forwarded
):
    event = connect_event("conn-1", headers={"X-Forwarded-For": forwarded})
    event["requestContext"]["identity"]["sourceIp"] = identity

    connect.handler(event, None)

    [item] = drain(table)
    if "sourceIp" in item:
        stored = item["sourceIp"]
        assert str(ipaddress.ip_address(stored)) == stored
        assert "%" not in stored


@pytest.fixture
def disconnect(load, table):
    return load("disconnect", CONNECTIONS_TABLE=CONNECTIONS_TABLE)


@given(event=disconnect_events())
@PROPERTY_SETTINGS
def test_disconnect_always_answers_200_and_deletes_at_most_its_own_connection(
    disconnect, table, event
):
    table.put_item(Item=connection("bystander"))
    table.put_item(Item=connection("target"))
    context = event.get("requestContext") if isinstance(event, dict) else None
    own = context.get("connectionId") if isinstance(context, dict) else None

    response = disconnect.handler(event, None)

    remaining = {item["connectionId"] for item in drain(table)}
    assert response == {"statusCode": 200, "body": "disconnected"}
    assert remaining == {"bystander", "target"} - ({own} if isinstance(own, str) else set())


# -- stream records -------------------------------------------------------------------------

numbers = st.integers(-(10**30), 10**30).map(str) | st.decimals(allow_nan=False, places=5).map(str)
attribute_values = st.recursive(
    st.one_of(
        st.builds(lambda s: {"S": s}, st.text(max_size=30) | big_text),
        st.builds(lambda n: {"N": n}, numbers | st.text(max_size=5)),
        st.builds(lambda b: {"B": b}, st.sampled_from(["AAE=", "not base64!", ""]) | odd_values),
        st.builds(lambda b: {"BOOL": b}, st.booleans() | odd_values),
        st.just({"NULL": True}),
        st.builds(lambda ss: {"SS": ss}, st.lists(st.text(max_size=5), max_size=3)),
        st.builds(lambda ns: {"NS": ns}, st.lists(numbers, max_size=3)),
        odd_values,
    ),
    lambda inner: (
        st.builds(lambda items: {"L": items}, st.lists(inner, max_size=3))
        | st.builds(lambda m: {"M": m}, st.dictionaries(st.text(max_size=5), inner, max_size=3))
    ),
    max_leaves=10,
)
item_keys = st.sampled_from(
    ["incident_id", "action", "arn", "resource", "sg", "account", "region", "title", "x"]
)
images = st.dictionaries(item_keys, attribute_values, max_size=6) | odd_values


@st.composite
def stream_records(draw):
    record = {
        "eventID": "e",
        "eventName": draw(st.sampled_from(["INSERT", "MODIFY", "REMOVE", "TRUNCATE"]) | odd_values),
        "eventSource": "aws:dynamodb",
        "dynamodb": {
            "NewImage": draw(images),
            "SequenceNumber": draw(st.text(max_size=22) | odd_values),
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
    }
    return scramble(draw, record)


stream_events = (
    st.fixed_dictionaries({"Records": st.lists(stream_records(), max_size=5)}) | odd_values
)


@pytest.fixture
def processor(load, table, fake_api):
    return load(
        "stream_processor",
        CHANNELS=channels_env(history=(CONNECTIONS_TABLE, fake_api.endpoint())),
        ROUTES=json.dumps({"incident": ["history"], "remediation": ["history"]}),
    )


@given(event=stream_events)
@PROPERTY_SETTINGS
def test_stream_processor_sends_only_valid_messages_and_deletes_nothing(
    processor, table, fake_api, event
):
    table.put_item(Item=connection("c1"))
    fake_api.received.clear()

    response = processor.handler(event, None)

    assert response == {"batchItemFailures": []}
    assert {item["connectionId"] for item in drain(table)} == {"c1"}
    for received in fake_api.received:
        assert len(received.body) <= LIMITS.MAX_MESSAGE_BYTES
        assert json.loads(received.body)["type"] in ("incident", "remediation")


# -- presence -------------------------------------------------------------------------------

PRESENCE_STREAM_ARN = (
    f"arn:aws:dynamodb:us-east-1:123456789012:table/{CONNECTIONS_TABLE}/stream/2026-01-01T00:00"
)
connection_images = (
    st.dictionaries(
        st.sampled_from(
            ["connectionId", "clientId", "account", "accounts", "region", "createdAt", "goneAt"]
        ),
        attribute_values,
        max_size=7,
    )
    | odd_values
)
ttl_identity = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}


@st.composite
def connection_records(draw):
    record = {
        "eventID": "e",
        "eventName": draw(st.sampled_from(["INSERT", "MODIFY", "REMOVE"]) | odd_values),
        "eventSource": "aws:dynamodb",
        "eventSourceARN": draw(st.just(PRESENCE_STREAM_ARN) | odd_values),
        "userIdentity": draw(st.none() | st.just(ttl_identity) | odd_values),
        "dynamodb": {
            "ApproximateCreationDateTime": draw(st.integers(-5, 10**11) | odd_values),
            "NewImage": draw(connection_images),
            "OldImage": draw(connection_images),
            "SequenceNumber": draw(st.from_regex(r"[0-9]{21}", fullmatch=True) | odd_values),
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
    }
    return scramble(draw, record)


@pytest.fixture
def presence(load, table, fake_api):
    channels = {"history": {"table": CONNECTIONS_TABLE, "endpoint": fake_api.endpoint()}}
    channels["history"]["presence"] = True
    return load("presence", CHANNELS=json.dumps(channels))


@given(
    event=st.fixed_dictionaries({"Records": st.lists(connection_records(), max_size=5)})
    | odd_values
)
@PROPERTY_SETTINGS
def test_presence_sends_only_valid_events_and_deletes_nothing(presence, table, fake_api, event):
    table.put_item(Item=connection("c1"))
    fake_api.received.clear()

    response = presence.handler(event, None)

    assert response == {"batchItemFailures": []}
    assert {item["connectionId"] for item in drain(table)} == {"c1"}
    for received in fake_api.received:
        message = json.loads(received.body)
        assert message["type"] == "presence"
        assert (message["event"], message["reason"]) in {
            ("online", None),
            ("offline", "expired"),
            ("offline", "gone"),
            ("offline", "disconnected"),
        }
        assert re.fullmatch(r"[0-9]{10}-[0-9]{40}", message["id"])


# -- heartbeat ------------------------------------------------------------------------------

# DynamoDB strings are UTF-8: a stored connectionId never holds a lone surrogate.
stored_text = st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=20)
connection_items = st.fixed_dictionaries(
    {"connectionId": stored_text},
    optional={
        "ttl": st.integers(-(10**12), 10**12) | st.text(max_size=5) | st.booleans(),
        "account": st.text(max_size=12) | st.integers(),
        "accounts": st.sets(stored_text, min_size=1, max_size=3)
        | st.text(max_size=12)
        | st.integers()
        | st.none(),
        "region": st.text(max_size=12) | st.none(),
        "createdAt": st.integers() | st.text(max_size=5),
    },
)


@pytest.fixture
def heartbeat(load, table, fake_api):
    return load(
        "heartbeat", CHANNELS=channels_env(history=(CONNECTIONS_TABLE, fake_api.endpoint()))
    )


@given(
    items=st.lists(connection_items, max_size=6, unique_by=lambda i: i["connectionId"]),
    event=odd_values,
    data=st.data(),
)
@PROPERTY_SETTINGS
def test_heartbeat_deletes_only_gone_connections_whatever_the_table_holds(
    heartbeat, table, fake_api, items, event, data
):
    ids = {item["connectionId"] for item in items}
    gone = data.draw(st.sets(st.sampled_from(sorted(ids)))) if ids else set()
    for item in items:
        table.put_item(Item=item)
    fake_api.gone(*gone)

    result = heartbeat.handler(event, None)

    remaining = {item["connectionId"] for item in drain(table)}
    fake_api.respond_normally()
    counts = result["history"]
    connecting = {i["connectionId"] for i in items if _maybe_connecting(i)}
    kept = gone & connecting  # answered 410, if pinged, but maybe still in its $connect
    assert ids - remaining <= gone - connecting
    assert len(ids - remaining) <= counts["gone"] <= len(ids - remaining) + len(kept)
    assert counts["sent"] + counts["gone"] + counts["failed"] == counts["connections"]


def _maybe_connecting(item: dict) -> bool:
    """Whether the 410 cleanup keeps the row: stored under CONNECTING_SECONDS ago, or at a
    time that is no number."""
    created_at = item.get("createdAt")
    if created_at is None:
        return False
    connected_before = (time.time() - LIMITS.CONNECTING_SECONDS) * 1000
    return not isinstance(created_at, int) or created_at >= connected_before
