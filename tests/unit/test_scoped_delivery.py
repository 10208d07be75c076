"""Delivery to scoped connections: a connection whose principal may see only some accounts
receives only those accounts' messages, whatever it asked for; unscoped ones keep the filter
rule of test_stream_processor.py."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from tests.support.events import schedule_event
from tests.support.stream_records import IncidentTable
from tests.unit.helpers import channels_env, connection

TENANT = "111122223333"
OTHER_TENANT = "444455556666"
THIRD_ACCOUNT = "777788889999"


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
        ROUTES=json.dumps({"incident": ["history"], "remediation": ["history"]}),
    )


def scoped(connection_id: str, *accounts: str, **filters) -> dict:
    """A connections-table item as `$connect` stores it for a principal scoped to `accounts`."""
    return connection(connection_id, accounts=set(accounts), **filters)


def received(fake_api, connection_id: str) -> list[str]:
    return [json.loads(body)["incident_id"] for body in fake_api.bodies(connection_id)]


def write(incidents, *items: dict) -> dict:
    for item in items:
        incidents.put(item)
    return incidents.event()


def test_a_scoped_connection_receives_only_its_accounts_and_never_account_less_messages(
    processor, history, incidents, fake_api
):
    history.put_item(Item=scoped("tenant", TENANT))
    history.put_item(Item=scoped("two-tenants", TENANT, OTHER_TENANT))
    history.put_item(Item=connection("analyst"))
    event = write(
        incidents,
        {"incident_id": "mine", "account": TENANT},
        {"incident_id": "other", "account": OTHER_TENANT},
        {"incident_id": "third", "account": THIRD_ACCOUNT},
        {"incident_id": "no-account"},
    )

    processor.handler(event, None)

    assert received(fake_api, "tenant") == ["mine"]
    assert received(fake_api, "two-tenants") == ["mine", "other"]
    assert received(fake_api, "analyst") == ["mine", "other", "third", "no-account"]


def test_a_scoped_connections_account_filter_narrows_within_its_scope(
    processor, history, incidents, fake_api
):
    history.put_item(Item=scoped("c1", TENANT, OTHER_TENANT, account=OTHER_TENANT))
    event = write(
        incidents,
        {"incident_id": "tenant", "account": TENANT},
        {"incident_id": "other", "account": OTHER_TENANT},
        {"incident_id": "no-account"},
    )

    processor.handler(event, None)

    assert received(fake_api, "c1") == ["other"]


def test_a_scoped_connections_region_filter_narrows_further(
    processor, history, incidents, fake_api
):
    history.put_item(Item=scoped("c1", TENANT, region="eu-west-1"))
    event = write(
        incidents,
        {"incident_id": "eu", "account": TENANT, "region": "eu-west-1"},
        {"incident_id": "us", "account": TENANT, "region": "us-east-1"},
        {"incident_id": "no-region", "account": TENANT},
        {"incident_id": "other-eu", "account": OTHER_TENANT, "region": "eu-west-1"},
    )

    processor.handler(event, None)

    assert received(fake_api, "c1") == ["eu", "no-region"]


@pytest.mark.parametrize(
    "account", [Decimal(TENANT), [TENANT], {TENANT}, {"id": TENANT}, True], ids=repr
)
def test_a_message_whose_account_is_not_text_never_reaches_a_scoped_connection(
    processor, history, incidents, fake_api, account
):
    history.put_item(Item=scoped("tenant", TENANT))
    history.put_item(Item=connection("analyst"))
    event = write(incidents, {"incident_id": "odd", "account": account})

    processor.handler(event, None)

    assert received(fake_api, "tenant") == []
    assert received(fake_api, "analyst") == ["odd"]


@pytest.mark.parametrize(
    "stored_scope",
    [TENANT, {Decimal(TENANT)}, [Decimal(1)], None, {"accounts": [TENANT]}],
    ids=["text", "number-set", "list-of-numbers", "null", "map"],
)
def test_a_connection_whose_stored_scope_is_unreadable_receives_no_message(
    processor, history, incidents, fake_api, stored_scope
):
    history.put_item(Item=connection("c1", accounts=stored_scope))
    event = write(
        incidents,
        {"incident_id": "tenant", "account": TENANT},
        {"incident_id": "no-account"},
    )

    processor.handler(event, None)

    assert received(fake_api, "c1") == []


def test_scoped_connections_get_the_heartbeats_ping(load, history, fake_api):
    history.put_item(Item=scoped("tenant", TENANT, account=TENANT, region="eu-west-1"))
    history.put_item(Item=connection("unreadable-scope", accounts="*"))
    heartbeat = load(
        "heartbeat", CHANNELS=channels_env(history=("HistoryConnections", fake_api.endpoint()))
    )

    result = heartbeat.handler(schedule_event(), None)

    assert result["history"]["sent"] == 2
    assert [json.loads(b)["type"] for b in fake_api.bodies("tenant")] == ["ping"]
