"""Incident table writes → DynamoDB stream → deployed stream_processor → WebSocket clients."""

from __future__ import annotations

import time

from conftest import unique

ACCOUNT_A = "111111111111"
ACCOUNT_B = "222222222222"


def incident(account: str = ACCOUNT_A, **fields) -> dict:
    return {
        "incident_id": unique("e2e-inc"),
        "severity": "HIGH",
        "status": "OPEN",
        "title": "Security group opens SSH to the world",
        "arn": "arn:aws:ec2:us-east-1:111111111111:security-group/sg-0123456789abcdef0",
        "sg": "sg-0123456789abcdef0",
        "account": account,
        "region": "us-east-1",
        "timestamp": 1_767_225_600,
        "evidence": {"ports": [22, 3389], "cidr": "0.0.0.0/0"},
        **fields,
    }


def about(item: dict):
    return lambda message: message.get("incident_id") == item["incident_id"]


def test_incident_reaches_the_history_client_within_two_seconds_in_the_spec_shape(
    stack, open_client
):
    client = open_client("history")
    item = incident()

    started = time.monotonic()
    stack.incident_table().put_item(Item=item)
    message = client.wait_for(about(item), timeout=5)
    elapsed = time.monotonic() - started

    assert elapsed < 2.0
    assert message == {
        "type": "incident",
        "event": "created",
        "incident_id": item["incident_id"],
        "resource": item["arn"],
        "severity": item["severity"],
        "status": item["status"],
        "title": item["title"],
        "account": item["account"],
        "region": item["region"],
        "timestamp": item["timestamp"],
        "data": item,
    }


def test_account_filtered_client_receives_only_its_accounts_messages(stack, open_client):
    filtered = open_client("history", account=ACCOUNT_A)
    unfiltered = open_client("history")
    other_account, own_account = incident(ACCOUNT_B), incident(ACCOUNT_A)

    stack.incident_table().put_item(Item=other_account)
    stack.incident_table().put_item(Item=own_account)

    unfiltered.wait_for(about(other_account))
    unfiltered.wait_for(about(own_account))
    # Each connection receives messages in stream order, so had the filtered client been sent
    # the other account's incident, it would have arrived before its own.
    either = {other_account["incident_id"], own_account["incident_id"]}
    first = filtered.wait_for(lambda message: message.get("incident_id") in either)
    assert first["incident_id"] == own_account["incident_id"]
