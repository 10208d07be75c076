"""Property-based: whatever a client, a row, a record or a finding holds — random clientIds,
accounts, regions, principals, connection ids, tokens, origins, finding fields — a metric's
dimension values are only ever the handler's function name, a channel key it was configured
with, or a word of the catalogue's fixed vocabularies. A dimension fed from a request would
make one CloudWatch metric per value (a bill, and a leak of the value into metric names)."""

from __future__ import annotations

import copy
import itertools
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dev.harness.lambda_context import LambdaContext
from dev.harness.oidc_issuer import OidcIssuer, SigningKey
from tests.support.authorizer_events import authorizer_event
from tests.support.events import connect_event, disconnect_event, route_event
from tests.support.finding_events import sample_event
from tests.support.stream_records import ConnectionsTable, IncidentTable
from tests.unit.helpers import METRICS, channels_env, emitted_points

PROPERTY_SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
CHANNEL = "history"
AUDIENCE = "incident-websocket-dashboard"
_numbers = itertools.count()

# What clients and records may hold: any text (DynamoDB stores no lone surrogate), and the
# values that look most like a dimension: channel keys, function names, the vocabularies.
lookalikes = st.sampled_from(
    [
        "history",
        "events",
        "connect",
        "forbidden",
        "scoped",
        "guardduty",
        "other",
        "111122223333",
        "eu-west-1",
        "*",
        "",
    ]
)
text = st.text(st.characters(exclude_categories=("Cs",)), max_size=40) | lookalikes
words = st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=40)
optional_text = st.none() | text


def assert_dimensions_are_configured(capsys, function: str, channels: set[str]) -> None:
    """Every dimension value printed since the last call is the function's name, one of its
    configured channel keys, or a word of the metric's vocabulary."""
    for point in emitted_points(capsys):
        entry = METRICS.metric(function, point.name)
        for name, value in point.dimensions:
            allowed = {
                "Function": {function},
                "Channel": channels,
                "Reason": set(entry.reasons),
                "Source": set(METRICS.SOURCES),
            }[name]
            assert value in allowed, (point.name, name, value)


def query(client_id, account, region) -> dict | None:
    values = {"clientId": client_id, "account": account, "region": region}
    present = {key: value for key, value in values.items() if value is not None}
    return present or None


# -- connect and disconnect -------------------------------------------------------------------


@pytest.fixture
def connect(load, table):
    return load(
        "connect", CONNECTIONS_TABLE=table.name, CHANNEL_NAME=CHANNEL, AUTHORIZATION_TYPE="jwt"
    )


@given(
    connection_id=words,
    client_id=optional_text,
    account=optional_text,
    region=optional_text,
    principal=optional_text,
    scope=optional_text,
)
@PROPERTY_SETTINGS
def test_connect_dimensions_never_come_from_the_request(
    connect, capsys, connection_id, client_id, account, region, principal, scope
):
    capsys.readouterr()
    authorizer = {"principalId": principal, "accounts": scope}
    event = connect_event(connection_id, query(client_id, account, region), authorizer=authorizer)

    connect.handler(event, None)

    assert_dimensions_are_configured(capsys, "connect", {CHANNEL})


@pytest.fixture
def disconnect(load, table):
    return load("disconnect", CONNECTIONS_TABLE=table.name, CHANNEL_NAME=CHANNEL)


@given(
    connection_id=words,
    client_id=words,
    account=words,
    principal=words,
    created_at=st.integers(min_value=0, max_value=10**13),
)
@PROPERTY_SETTINGS
def test_disconnect_dimensions_never_come_from_the_row(
    disconnect, table, capsys, connection_id, client_id, account, principal, created_at
):
    capsys.readouterr()
    table.put_item(
        Item={
            "connectionId": connection_id,
            "clientId": client_id,
            "account": account,
            "principal": principal,
            "createdAt": created_at,
        }
    )

    disconnect.handler(disconnect_event(connection_id), None)

    assert_dimensions_are_configured(capsys, "disconnect", {CHANNEL})


# -- authorizer -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def signing_key() -> SigningKey:
    return SigningKey.generate(2048, kid="signing-key")


@pytest.fixture
def issuer(signing_key):
    with OidcIssuer(audience=AUDIENCE, keys=[signing_key]) as issuer:
        yield issuer


@pytest.fixture
def authorizer(load, issuer, monkeypatch):
    monkeypatch.delenv("ALLOWED_ORIGINS", raising=False)
    return load(
        "authorizer",
        OIDC_ISSUER=issuer.url,
        OIDC_AUDIENCES=AUDIENCE,
        ACCOUNTS_CLAIM="accounts",
        ALLOWED_ORIGINS="https://soc.example.com",
        CHANNEL_NAME=CHANNEL,
    )


@given(
    signed=st.booleans(),
    token=text,
    subject=words,
    accounts=st.lists(text, max_size=3) | text,
    origin=st.none() | st.just("https://soc.example.com") | words,
)
@PROPERTY_SETTINGS
def test_authorizer_dimensions_never_come_from_the_token_or_the_origin(
    authorizer, issuer, capsys, signed, token, subject, accounts, origin
):
    capsys.readouterr()
    if signed:
        token = issuer.mint(sub=subject, accounts=accounts)
    event = authorizer_event(token or None, headers={"Origin": origin})

    try:
        authorizer.handler(event, None)
    except Exception as refused:
        assert refused.args == ("Unauthorized",)

    assert_dimensions_are_configured(capsys, "authorizer", {CHANNEL})


# -- stream processor, heartbeat, presence ----------------------------------------------------


@pytest.fixture
def incidents():
    return IncidentTable()


@pytest.fixture
def history(make_connections_table):
    return make_connections_table("history-connections")


@pytest.fixture
def processor(load, history, make_connections_table, fake_api):
    make_connections_table("events-connections")
    return load(
        "stream_processor",
        CHANNELS=channels_env(
            history=("history-connections", fake_api.endpoint("history")),
            events=("events-connections", fake_api.endpoint("events")),
        ),
        ROUTES=json.dumps({"incident": ["history", "events"], "remediation": ["history"]}),
    )


connection_rows = st.lists(
    st.fixed_dictionaries(
        {"connectionId": words, "clientId": words},
        optional={"account": words, "region": words, "accounts": st.sets(words, min_size=1)},
    ),
    max_size=4,
)
items = st.lists(
    st.fixed_dictionaries(
        {"incident_id": words},
        optional={"account": text, "region": text, "title": text, "action": text},
    ),
    min_size=1,
    max_size=4,
)


def put_rows(table, rows: list[dict]) -> None:
    for row in rows:
        table.put_item(Item={**row, "createdAt": 1795444800000})


@given(rows=connection_rows, written=items)
@PROPERTY_SETTINGS
def test_stream_processor_dimensions_never_come_from_items_or_connections(
    processor, history, incidents, fake_api, capsys, rows, written
):
    capsys.readouterr()
    put_rows(history, rows)
    for item in written:
        incidents.put({**item, "incident_id": f"{item['incident_id']}-{next(_numbers)}"})

    processor.handler(incidents.event(), LambdaContext(60))

    assert_dimensions_are_configured(capsys, "stream_processor", {"history", "events"})


@pytest.fixture
def heartbeat(load, history, fake_api):
    return load(
        "heartbeat", CHANNELS=channels_env(history=("history-connections", fake_api.endpoint()))
    )


@given(rows=connection_rows)
@PROPERTY_SETTINGS
def test_heartbeat_dimensions_never_come_from_connections(heartbeat, history, capsys, rows):
    capsys.readouterr()
    put_rows(history, rows)

    heartbeat.handler({}, LambdaContext(60))

    assert_dimensions_are_configured(capsys, "heartbeat", {"history"})


@pytest.fixture
def presence_table():
    return ConnectionsTable("presence-connections")


@pytest.fixture
def presence(load, presence_table, fake_api):
    lobby = {"table": "presence-connections", "endpoint": fake_api.endpoint(), "presence": True}
    return load("presence", CHANNELS=json.dumps({"lobby": lobby}))


@given(rows=connection_rows)
@PROPERTY_SETTINGS
def test_presence_dimensions_never_come_from_connections(presence, presence_table, capsys, rows):
    capsys.readouterr()
    for row in rows:
        presence_table.put({**row, "createdAt": 1795444800000})

    presence.handler(presence_table.event(), LambdaContext(60))

    assert_dimensions_are_configured(capsys, "presence", {"lobby"})


# -- findings and replay ----------------------------------------------------------------------


@pytest.fixture
def findings(load, dynamodb, monkeypatch):
    for name in ("INCIDENT_HASH_KEY", "INCIDENT_RANGE_KEY"):
        monkeypatch.delenv(name, raising=False)
    dynamodb.create_table(
        TableName="Incident",
        KeySchema=[{"AttributeName": "incident_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "incident_id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return load("findings", INCIDENT_TABLE="Incident")


@given(
    source=st.sampled_from(["aws.guardduty", "aws.securityhub"]) | text,
    detail_type=st.sampled_from(
        ["GuardDuty Finding", "Security Hub Findings - Imported", "Findings Imported V2"]
    )
    | text,
    account=text,
    region=text,
    title=text,
    finding_type=text,
    finding_id=words,
)
@PROPERTY_SETTINGS
def test_findings_dimensions_never_come_from_the_event(
    findings, capsys, source, detail_type, account, region, title, finding_type, finding_id
):
    capsys.readouterr()
    event = copy.deepcopy(sample_event("guardduty/bitcoin-tool-high.json"))
    event.update({"source": source, "detail-type": detail_type, "account": account})
    event["detail"].update(
        accountId=account, region=region, title=title, type=finding_type, id=finding_id
    )

    try:
        findings.handler(event, None)
    except Exception as failure:
        assert type(failure).__name__ == "FindingsNotWritten"

    assert_dimensions_are_configured(capsys, "findings", set())


@pytest.fixture
def replay(load, table, make_messages_table, fake_api):
    make_messages_table("HistoryMessages")
    return load(
        "replay",
        CHANNEL_NAME=CHANNEL,
        CONNECTIONS_TABLE=table.name,
        MESSAGES_TABLE="HistoryMessages",
        MANAGEMENT_ENDPOINT=fake_api.endpoint(),
    )


@given(
    connection_id=words,
    body=text | st.builds(json.dumps, st.dictionaries(text, text | st.integers())),
)
@PROPERTY_SETTINGS
def test_replay_dimensions_never_come_from_the_request(replay, capsys, connection_id, body):
    capsys.readouterr()

    replay.handler(route_event(connection_id, body), LambdaContext(60))

    assert_dimensions_are_configured(capsys, "replay", {CHANNEL})
