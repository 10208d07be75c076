"""Presence through the deployed stack: the connections tables' streams → the deployed presence
function → the channel's clients; and the members a client asks for."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from tests.e2e.helpers import (
    HEARTBEAT_SECONDS,
    connected_a_minute_ago,
    connections_table,
    eventually,
    is_presence,
    rows_of,
    unique_account,
)

TENANT_ACCOUNT = "111122223333"
OTHER_ACCOUNT = "444455556666"
PRESENCE_SECONDS = 10  # the connections stream, then the presence function's first start


def since_of(row: dict) -> str:
    """A row's `createdAt` (epoch ms) as presence reports it."""
    created = datetime.fromtimestamp(int(row["createdAt"]) / 1000, UTC)
    return created.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def members(client) -> list[dict]:
    client.send({"action": "presence"})
    return client.wait_for(lambda m: m.get("type") == "presence_members")["members"]


def test_another_client_sees_a_client_come_online_then_go_offline(stack, open_client):
    watcher = open_client("events")
    account = unique_account()
    visitor = open_client("events", account=account, region="eu-west-1")
    [row] = rows_of(stack, "events", visitor.client_id)

    online = watcher.wait_for(is_presence(visitor.client_id, "online"), PRESENCE_SECONDS)
    visitor.connection.close()
    offline = watcher.wait_for(is_presence(visitor.client_id, "offline"), PRESENCE_SECONDS)

    expected = {
        "type": "presence",
        "clientId": visitor.client_id,
        "account": account,
        "region": "eu-west-1",
        "since": since_of(row),
    }
    assert {key: online[key] for key in expected} == expected
    assert online["reason"] is None
    assert {key: offline[key] for key in expected} == expected
    assert offline["reason"] == "disconnected"
    assert offline["id"] > online["id"]


def test_the_members_are_the_channels_connected_clients(stack, open_client):
    account = unique_account()
    visitor = open_client("remediation", account=account)
    [row] = rows_of(stack, "remediation", visitor.client_id)
    watcher = open_client("remediation")

    listed = members(watcher)

    assert {
        "clientId": visitor.client_id,
        "account": account,
        "region": None,
        "since": since_of(row),
    } in listed
    assert watcher.client_id in [member["clientId"] for member in listed]


def test_a_tenant_sees_only_the_members_of_its_account(stack, open_client):
    own = open_client("remediation", account=TENANT_ACCOUNT)
    other = open_client("remediation", account=OTHER_ACCOUNT)
    tenant = open_client("remediation", persona="tenant")

    listed = [member["clientId"] for member in members(tenant)]

    assert own.client_id in listed
    assert other.client_id not in listed
    assert tenant.client_id in listed  # its one scoped account is its presence account


def test_a_connection_whose_row_expires_goes_offline_as_expired(stack, open_client):
    watcher = open_client("history")
    visitor = open_client("history")
    [row] = rows_of(stack, "history", visitor.client_id)
    watcher.wait_for(is_presence(visitor.client_id, "online"), PRESENCE_SECONDS)

    connections_table(stack, "history").update_item(
        Key={"connectionId": row["connectionId"]},
        UpdateExpression="SET #ttl = :past",
        ExpressionAttributeNames={"#ttl": "ttl"},
        ExpressionAttributeValues={":past": int(time.time()) - 1},
    )

    offline = watcher.wait_for(is_presence(visitor.client_id, "offline"), PRESENCE_SECONDS)
    assert offline["reason"] == "expired"
    assert rows_of(stack, "history", visitor.client_id) == []


def test_a_connection_the_heartbeat_finds_gone_goes_offline_as_gone(stack, open_client):
    watcher = open_client("events")
    vanishing = open_client("events")
    [row] = rows_of(stack, "events", vanishing.client_id)
    vanishing.vanish()
    watcher.wait_for(is_presence(vanishing.client_id, "offline"), PRESENCE_SECONDS)
    # As if its $disconnect had been lost: only the heartbeat's 410 can clean the row up now.
    connections_table(stack, "events").put_item(Item=connected_a_minute_ago(row))

    offline = watcher.wait_for(
        is_presence(vanishing.client_id, "offline"), 3 * HEARTBEAT_SECONDS + PRESENCE_SECONDS
    )

    assert offline["reason"] == "gone"
    eventually(lambda: rows_of(stack, "events", vanishing.client_id) == [])
