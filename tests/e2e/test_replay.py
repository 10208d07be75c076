"""Replay through the deployed stack: the stream processor logs each channel's messages, the
deployed replay function sends a client what it missed, filtered as live delivery is."""

from __future__ import annotations

import re

from tests.e2e.helpers import INCIDENT_ENTRY, unique, unique_account

TENANT_ACCOUNT = "111122223333"
OTHER_ACCOUNT = "444455556666"


def incident(account: str) -> dict:
    return {
        "incident_id": unique("e2e-replay"),
        "entry_id": INCIDENT_ENTRY,
        "severity": "HIGH",
        "status": "OPEN",
        "title": "Unusual API calls from a new country",
        "account": account,
        "region": "us-east-1",
    }


def about(item: dict):
    return lambda message: (
        message.get("type") == "incident" and message.get("incident_id") == item["incident_id"]
    )


def test_a_client_that_missed_three_incidents_receives_exactly_those_in_order_with_since(
    stack, open_client
):
    account = unique_account()
    client = open_client("history", account=account)
    seen = incident(account)
    stack.incident_table().put_item(Item=seen)
    last_seen = client.wait_for(about(seen))
    client.connection.close()
    missed = [incident(account) for _ in range(3)]
    watcher = open_client("history", account=account)
    for item in missed:
        stack.incident_table().put_item(Item=item)
    # Logged before it is posted: once the watcher has it, a replay finds it.
    live_ids = [watcher.wait_for(about(item))["id"] for item in missed]

    back = open_client("history", account=account)
    frames = back.replay(since=last_seen["id"])

    replayed = frames[:-1]
    assert [m["incident_id"] for m in replayed] == [item["incident_id"] for item in missed]
    assert [m["id"] for m in replayed] == live_ids == sorted(live_ids)
    assert frames[-1] == {"type": "replay_complete", "count": 3, "lastId": live_ids[-1]}


def test_replay_sends_a_tenant_only_its_accounts_messages(stack, open_client):
    analyst = open_client("history")
    marker = incident(OTHER_ACCOUNT)
    stack.incident_table().put_item(Item=marker)
    since = analyst.wait_for(about(marker))["id"]
    other, own = incident(OTHER_ACCOUNT), incident(TENANT_ACCOUNT)
    stack.incident_table().put_item(Item=other)
    stack.incident_table().put_item(Item=own)
    analyst.wait_for(about(other))
    analyst.wait_for(about(own))

    tenant = open_client("history", persona="tenant")
    frames = tenant.replay(since=since)

    replayed = [m for m in frames if m["type"] == "incident"]
    assert own["incident_id"] in [m["incident_id"] for m in replayed]
    assert {m["account"] for m in replayed} == {TENANT_ACCOUNT}
    assert frames[-1]["type"] == "replay_complete"


def test_replay_last_n_sends_the_newest_n_oldest_first(stack, open_client):
    account = unique_account()
    watcher = open_client("history", account=account)
    items = [incident(account) for _ in range(3)]
    for item in items:
        stack.incident_table().put_item(Item=item)
    for item in items:
        watcher.wait_for(about(item))

    frames = open_client("history", account=account).replay(last=2)

    assert [m["incident_id"] for m in frames[:-1]] == [
        items[1]["incident_id"],
        items[2]["incident_id"],
    ]
    assert frames[-1]["count"] == 2


def test_a_malformed_replay_request_gets_an_error_frame_naming_the_field(open_client):
    client = open_client("history")

    [since] = client.replay(since="yesterday")
    [last] = client.replay(last=0)
    [both] = client.replay(since="1795444800-" + "0" * 40, last=5)

    assert (since["type"], since["action"], since["field"]) == ("error", "replay", "since")
    assert (last["field"], both["field"]) == ("last", "body")
    assert all(isinstance(frame["message"], str) and frame["message"] for frame in (since, last))


def test_a_frame_that_is_not_json_gets_api_gateways_answer(open_client):
    client = open_client("history")

    client.send("replay everything")

    answer = client.wait_for(lambda message: "message" in message and "type" not in message)
    assert answer["message"] == "Forbidden"
    assert re.fullmatch(r"[A-Za-z0-9]+=", answer["connectionId"])
