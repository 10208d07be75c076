"""Property-based: over random connection sets and random messages, a scoped connection never
receives another account's message nor one without an account, an unscoped connection receives
exactly what the account/region filter rule gives, and every channel's `data` is the one it is
configured for.

The connections are registered by the connect handler (as the authorizer's context makes
them), the messages written to a DynamoDB table with a stream and sent by the stream processor
to the fake `@connections` API: the whole path a message takes. The choice of `data` is
checked on the stream module itself, over many more examples.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from boto3.dynamodb.types import TypeSerializer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.events import connect_event
from tests.support.lambda_zip import load_module
from tests.support.stream_records import IncidentTable
from tests.unit.helpers import CONNECTIONS_TABLE, LIMITS

ACCOUNTS = ("111122223333", "444455556666", "777788889999")
ELSEWHERE = "000011112222"  # in no principal's scope
REGIONS = ("eu-west-1", "us-east-1")
PROPERTY_SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
_ids = itertools.count()


@dataclass(frozen=True)
class Client:
    """A connection as a client asks for it: the principal's scope (None: every account) and
    the account and region filters of its query."""

    scope: frozenset[str] | None
    account: str | None
    region: str | None

    def query(self) -> dict[str, str]:
        return {k: v for k, v in (("account", self.account), ("region", self.region)) if v}

    def authorizer(self) -> dict[str, str]:
        accounts = "*" if self.scope is None else ",".join(sorted(self.scope))
        return {"principalId": "someone", "accounts": accounts}


clients = st.builds(
    Client,
    scope=st.none() | st.frozensets(st.sampled_from(ACCOUNTS), min_size=1),
    account=st.none() | st.sampled_from((*ACCOUNTS, ELSEWHERE)),
    region=st.none() | st.sampled_from(REGIONS),
)
# A message's account as the incident item holds it: absent, an account id, or not text.
message_accounts = (
    st.none() | st.sampled_from((*ACCOUNTS, ELSEWHERE)) | st.just(Decimal(ACCOUNTS[0]))
)
incident_items = st.fixed_dictionaries(
    {},
    optional={"account": message_accounts, "region": st.sampled_from(REGIONS)},
)


def filter_rule(client: Client, item: dict[str, Any]) -> bool:
    """The rule unscoped connections have always had: a filter it registered accepts the
    messages of that value and those with none."""
    return all(
        wanted is None or value is None or str(value) == wanted
        for wanted, value in (
            (client.account, item.get("account")),
            (client.region, item.get("region")),
        )
    )


def expected(client: Client, item: dict[str, Any]) -> bool:
    if client.scope is not None:
        account = item.get("account")
        if not isinstance(account, str) or account not in client.scope:
            return False
    return filter_rule(client, item)


@pytest.fixture
def incidents():
    return IncidentTable()


@pytest.fixture
def connect(load, table):
    return load("connect", CONNECTIONS_TABLE=CONNECTIONS_TABLE, AUTHORIZATION_TYPE="jwt")


@pytest.fixture
def processor(load, table, fake_api):
    channels = {"history": {"table": CONNECTIONS_TABLE, "endpoint": fake_api.endpoint()}}
    routes = {"incident": ["history"], "remediation": ["history"]}
    return load("stream_processor", CHANNELS=json.dumps(channels), ROUTES=json.dumps(routes))


def drain(table) -> None:
    for item in table.scan()["Items"]:
        table.delete_item(Key={"connectionId": item["connectionId"]})


@given(
    connected=st.lists(clients, max_size=6),
    items=st.lists(incident_items, min_size=1, max_size=6),
)
@PROPERTY_SETTINGS
def test_scoped_connections_receive_only_their_accounts_and_unscoped_ones_the_filter_rule(
    connect, processor, table, incidents, fake_api, connected, items
):
    drain(table)
    fake_api.received.clear()
    accepted = {}
    for number, client in enumerate(connected):
        event = connect_event(f"c{number}", query=client.query(), authorizer=client.authorizer())
        response = connect.handler(event, None)
        outside_scope = client.scope is not None and client.account not in (None, *client.scope)
        assert response["statusCode"] == (403 if outside_scope else 200)
        if response["statusCode"] == 200:
            accepted[f"c{number}"] = client
    written = [{"incident_id": f"i-{next(_ids)}", **item} for item in items]
    for item in written:
        incidents.put(item)

    processor.handler(incidents.event(), None)

    by_id = {item["incident_id"]: item for item in written}
    for connection_id, client in accepted.items():
        got = [json.loads(body)["incident_id"] for body in fake_api.bodies(connection_id)]
        assert got == [item["incident_id"] for item in written if expected(client, item)]
        if client.scope is not None:
            assert all(by_id[incident]["account"] in client.scope for incident in got)


# -- data per channel -----------------------------------------------------------------------

ATTRIBUTE_NAMES = ("incident_id", "title", "severity", "account", "evidence", "ticket", "x")
attribute_values = st.recursive(
    st.text(max_size=12) | st.integers(-(10**6), 10**6) | st.booleans() | st.none(),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)
items_with_attributes = st.dictionaries(
    st.sampled_from(ATTRIBUTE_NAMES[1:]), attribute_values, max_size=6
).map(lambda item: {"incident_id": "i-1", **item})
data_choices = st.none() | st.lists(st.sampled_from((*ATTRIBUTE_NAMES, "absent")), max_size=4).map(
    lambda names: tuple(dict.fromkeys(names))
)
_serializer = TypeSerializer()


def stream_record(item: dict[str, Any]) -> dict[str, Any]:
    image = {key: _serializer.serialize(value) for key, value in item.items()}
    dynamodb = {
        "ApproximateCreationDateTime": 1795444800,
        "NewImage": image,
        "SequenceNumber": "111000000000000000001",
    }
    return {"eventName": "INSERT", "dynamodb": dynamodb}


@pytest.fixture(scope="module")
def stream():
    return load_module("stream_processor", "incident_ws.stream")


@given(
    item=items_with_attributes,
    choices=st.dictionaries(st.sampled_from("abcde"), data_choices, min_size=1),
)
@settings(max_examples=200, deadline=None)
def test_every_channel_receives_the_data_it_chose_encoded_once_per_choice(stream, item, choices):
    [message] = stream.batch_messages([stream_record(item)])

    routed = stream.route([message], {"incident": tuple(choices)}, choices)

    whole = json.loads(message.body)
    for channel, attributes in choices.items():
        [sent] = routed[channel]
        received = json.loads(sent.body)
        assert len(sent.body) <= LIMITS.MAX_MESSAGE_BYTES
        assert {k: v for k, v in received.items() if k != "data"} == {
            k: v for k, v in whole.items() if k != "data"
        }
        if attributes is None:
            assert received["data"] == item
        elif attributes == ():
            assert "data" not in received
        else:
            assert received["data"] == {name: item[name] for name in attributes if name in item}
    assert len({id(routed[channel][0]) for channel in choices}) == len(set(choices.values()))
