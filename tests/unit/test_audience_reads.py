"""Which connections the stream processor reads for a batch: a batch of one account's messages
reads only that account's audience and `*` from the connections table's index, once the index
holds every open connection; any other batch, or the same batch before then, scans the table.
Either way the connections that receive a message are the same."""

from __future__ import annotations

import json
import time
import uuid
from decimal import Decimal
from typing import Any

import boto3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dev.harness.connections_table import AUDIENCE_INDEX, create_connections_table
from tests.support.lambda_zip import load_module
from tests.support.stream_records import IncidentTable
from tests.unit.helpers import channels_env, connection, fail_scan_pages, parse_log_event

TENANT = "111122223333"
OTHER_TENANT = "444455556666"
THIRD_ACCOUNT = "777788889999"
PAST = "2026-01-01T00:00:00Z"
FUTURE = "2999-01-01T00:00:00Z"

STORE = load_module("stream_processor", "incident_ws.connection_store")
FANOUT = load_module("stream_processor", "incident_ws.fanout")


def registered(connection_id: str, account: str | None = None, *scope: str, **rest) -> dict:
    """A connections-table item as `$connect` stores it now: with its audience."""
    accounts = set(scope) if scope else None
    item = connection(connection_id, audience=STORE.audience(account, accounts), **rest)
    if account is not None:
        item["account"] = account
    if accounts is not None:
        item["accounts"] = accounts
    return item


@pytest.fixture
def history(dynamodb):
    create_connections_table(dynamodb.meta.client, "HistoryConnections")
    return dynamodb.Table("HistoryConnections")


@pytest.fixture
def incidents():
    return IncidentTable()


def load_processor(load, fake_api, query_from: str):
    return load(
        "stream_processor",
        CHANNELS=channels_env(history=("HistoryConnections", fake_api.endpoint())),
        ROUTES=json.dumps({"incident": ["history"], "remediation": ["history"]}),
        AUDIENCE_INDEXES=json.dumps(
            {"history": {"index": AUDIENCE_INDEX, "query_from": query_from}}
        ),
    )


@pytest.fixture
def processor(load, history, fake_api):
    return load_processor(load, fake_api, PAST)


def record_reads(client) -> list[tuple[str, str | None]]:
    """Every Scan and Query `client` sends from now on: the operation and, for a Query, the
    audience it asks for."""
    reads = []

    def record(params: dict[str, Any], model, **_: Any) -> None:
        audience = params.get("ExpressionAttributeValues", {}).get(":audience", {}).get("S")
        reads.append((model.name, audience))

    client.meta.events.register("provide-client-params.dynamodb.Scan", record)
    client.meta.events.register("provide-client-params.dynamodb.Query", record)
    return reads


def received(fake_api, connection_id: str) -> list[str]:
    return [json.loads(body)["incident_id"] for body in fake_api.bodies(connection_id)]


def write(incidents, *items: dict) -> dict:
    for item in items:
        incidents.put(item)
    return incidents.event()


def connections_read(caplog) -> int:
    [summary] = parse_log_event(caplog, "stream_batch_processed")
    return summary["channels"]["history"]["connections"]


@pytest.mark.parametrize(
    ("account", "scope", "expected"),
    [
        (None, (), "*"),
        (TENANT, (), TENANT),
        (None, (TENANT,), TENANT),
        (None, (TENANT, OTHER_TENANT), "*"),
        (TENANT, (TENANT, OTHER_TENANT), TENANT),
    ],
    ids=["unscoped", "filtered", "scoped-to-one", "scoped-to-two", "filtered-within-scope"],
)
def test_a_connections_audience_is_its_account_filter_else_its_only_scoped_account_else_all(
    account, scope, expected
):
    assert STORE.audience(account, frozenset(scope) if scope else None) == expected


def test_a_one_account_batch_reads_only_that_accounts_audience_and_every_accounts(
    processor, history, incidents, fake_api, caplog
):
    history.put_item(Item=registered("filtered-tenant", TENANT))
    history.put_item(Item=registered("filtered-other", OTHER_TENANT))
    history.put_item(Item=registered("scoped-tenant", None, TENANT))
    history.put_item(Item=registered("scoped-other", None, OTHER_TENANT))
    history.put_item(Item=registered("scoped-both", None, TENANT, OTHER_TENANT))
    history.put_item(Item=registered("analyst"))
    reads = record_reads(processor.FAN_OUT.dynamodb)
    event = write(
        incidents,
        {"incident_id": "one", "account": TENANT},
        {"incident_id": "two", "account": TENANT},
    )

    response = processor.handler(event, None)

    assert response == {"batchItemFailures": []}
    assert reads == [("Query", TENANT), ("Query", "*")]
    assert connections_read(caplog) == 4
    for receiver in ("filtered-tenant", "scoped-tenant", "scoped-both", "analyst"):
        assert received(fake_api, receiver) == ["one", "two"]
    assert received(fake_api, "filtered-other") == []
    assert received(fake_api, "scoped-other") == []


def test_a_one_account_batch_still_applies_the_region_filter_and_the_scope(
    processor, history, incidents, fake_api
):
    history.put_item(Item=registered("tenant-in-ireland", TENANT, region="eu-west-1"))
    history.put_item(Item=registered("scoped-elsewhere", None, OTHER_TENANT, THIRD_ACCOUNT))
    history.put_item(Item=registered("analyst-in-ohio", region="us-east-2"))
    event = write(incidents, {"incident_id": "i-1", "account": TENANT, "region": "eu-west-1"})

    processor.handler(event, None)

    assert received(fake_api, "tenant-in-ireland") == ["i-1"]
    assert received(fake_api, "scoped-elsewhere") == []
    assert received(fake_api, "analyst-in-ohio") == []


@pytest.mark.parametrize(
    "batch",
    [
        [{"incident_id": "a", "account": TENANT}, {"incident_id": "b", "account": OTHER_TENANT}],
        [{"incident_id": "a", "account": TENANT}, {"incident_id": "b"}],
        [{"incident_id": "a"}],
        [{"incident_id": "a", "account": Decimal(TENANT)}],
        [{"incident_id": "a", "account": ""}],
        [{"incident_id": "a", "account": "x" * 3000}],
    ],
    ids=[
        "several-accounts",
        "one-account-less",
        "account-less",
        "account-not-text",
        "account-empty",
        "account-longer-than-a-key",
    ],
)
def test_any_other_batch_scans_the_table(processor, history, incidents, fake_api, batch):
    history.put_item(Item=registered("analyst"))
    reads = record_reads(processor.FAN_OUT.dynamodb)

    processor.handler(write(incidents, *batch), None)

    assert reads == [("Scan", None)]
    assert len(received(fake_api, "analyst")) == len(batch)


def test_until_the_index_holds_every_open_connection_a_connection_stored_before_it_still_receives(
    load, history, incidents, fake_api
):
    # Stored by a `$connect` of a version before the index: no audience, so not in the index.
    history.put_item(Item=connection("before-upgrade", account=TENANT))
    history.put_item(Item=registered("after-upgrade", TENANT))
    processor = load_processor(load, fake_api, FUTURE)
    reads = record_reads(processor.FAN_OUT.dynamodb)

    processor.handler(write(incidents, {"incident_id": "i-1", "account": TENANT}), None)

    assert reads == [("Scan", None)]
    assert received(fake_api, "before-upgrade") == ["i-1"]
    assert received(fake_api, "after-upgrade") == ["i-1"]


def test_without_an_audience_index_a_one_account_batch_scans(load, history, incidents, fake_api):
    history.put_item(Item=registered("tenant", TENANT))
    processor = load(
        "stream_processor",
        CHANNELS=channels_env(history=("HistoryConnections", fake_api.endpoint())),
        ROUTES=json.dumps({"incident": ["history"]}),
    )
    reads = record_reads(processor.FAN_OUT.dynamodb)

    processor.handler(write(incidents, {"incident_id": "i-1", "account": TENANT}), None)

    assert reads == [("Scan", None)]
    assert received(fake_api, "tenant") == ["i-1"]


def test_expired_connections_in_the_index_are_passed_over(processor, history, incidents, fake_api):
    history.put_item(Item=registered("expired", TENANT, ttl=int(time.time()) - 1))
    history.put_item(Item=registered("live", TENANT))

    processor.handler(write(incidents, {"incident_id": "i-1", "account": TENANT}), None)

    assert received(fake_api, "expired") == []
    assert received(fake_api, "live") == ["i-1"]


def test_a_record_that_reached_no_connection_of_a_partly_queried_channel_is_retried(
    processor, history, incidents, fake_api
):
    # The first page of the tenant's audience holds only connections registered for Ireland;
    # the index fails from the second page on, before those in Ohio and the whole `*` audience.
    with history.batch_writer() as batch:
        for n in range(20):
            batch.put_item(Item=registered(f"a{n:02d}", TENANT, region="eu-west-1"))
        for n in range(20):
            batch.put_item(Item=registered(f"b{n:02d}", TENANT, region="us-east-2"))
        batch.put_item(Item=registered("analyst"))
    fail_scan_pages(
        processor.FAN_OUT.dynamodb, "HistoryConnections", 20, failing_from=2, operation="Query"
    )
    event = write(
        incidents,
        {"incident_id": "ireland", "account": TENANT, "region": "eu-west-1"},
        {"incident_id": "ohio", "account": TENANT, "region": "us-east-2"},
    )

    response = processor.handler(event, None)

    record_ohio = event["Records"][1]["dynamodb"]["SequenceNumber"]
    assert response == {"batchItemFailures": [{"itemIdentifier": record_ohio}]}
    assert len(fake_api.received) == 20
    assert {json.loads(r.body)["incident_id"] for r in fake_api.received} == {"ireland"}


def test_a_channel_whose_index_cannot_be_read_fails_every_record(
    processor, history, incidents, fake_api, caplog
):
    history.put_item(Item=registered("tenant", TENANT))
    fail_scan_pages(
        processor.FAN_OUT.dynamodb, "HistoryConnections", 20, failing_from=1, operation="Query"
    )
    event = write(incidents, {"incident_id": "i-1", "account": TENANT})

    response = processor.handler(event, None)

    record = event["Records"][0]["dynamodb"]["SequenceNumber"]
    assert response == {"batchItemFailures": [{"itemIdentifier": record}]}
    assert fake_api.received == []
    [unreadable] = parse_log_event(caplog, "connections_unreadable")
    assert "InternalServerError" in unreadable["error"]


# What a connection registers (its account filter, region filter and scope) and what a message
# carries, from small sets so that they often meet.
ACCOUNTS = (TENANT, OTHER_TENANT, THIRD_ACCOUNT)
REGIONS = ("eu-west-1", "us-east-2")
registrations = st.tuples(
    st.sampled_from((None, *ACCOUNTS)),
    st.sampled_from((None, *REGIONS)),
    st.one_of(st.none(), st.frozensets(st.sampled_from(ACCOUNTS), min_size=1)),
)
message_accounts = st.sampled_from((None, Decimal(TENANT), "", "tenant", *ACCOUNTS))
batches = st.one_of(
    st.lists(st.tuples(message_accounts, st.sampled_from((None, *REGIONS))), max_size=4),
    # one account throughout, the batches that take the index
    st.sampled_from(ACCOUNTS).flatmap(
        lambda account: st.lists(
            st.tuples(st.just(account), st.sampled_from((None, *REGIONS))), min_size=1
        )
    ),
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(connections=st.lists(registrations, max_size=12), batch=batches)
def test_reading_the_index_delivers_to_exactly_the_connections_a_scan_delivers_to(
    dynamodb, connections, batch
):
    table = f"Connections-{uuid.uuid4().hex}"
    client = boto3.client("dynamodb", region_name="us-east-1")
    create_connections_table(client, table)
    for n, (account, region, scope) in enumerate(connections):
        extra = {"region": region} if region else {}
        dynamodb.Table(table).put_item(
            Item=registered(f"c{n}", account, *(sorted(scope) if scope else ()), **extra)
        )
    messages = [
        STORE.Message("incident", f"m{n}".encode(), account, region)
        for n, (account, region) in enumerate(batch)
    ]
    index = STORE.AudienceIndex(AUDIENCE_INDEX, query_from=0.0)
    store = STORE.ConnectionStore(client, table, audience_index=index)

    def deliveries(connections) -> set[tuple[str, tuple]]:
        return {
            (d.connection.connection_id, d.bodies)
            for d in FANOUT._deliveries(messages, connections)
        }

    read = store.live_audience(messages)
    assert deliveries(read) == deliveries(store.scan_live())
    assert read.complete
