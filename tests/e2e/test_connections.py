"""`$connect` / `$disconnect` through the emulator into the deployed connect/disconnect Lambdas."""

from __future__ import annotations

import time

import pytest
from websockets.exceptions import InvalidStatus

from tests.e2e.helpers import eventually, rows_of, unique

ACCOUNT = "123456789012"
REGION = "eu-west-1"
CHANNELS = ("events", "remediation", "history")


@pytest.mark.parametrize("channel", CHANNELS)
def test_client_connects_with_its_filters_and_is_registered(stack, open_client, channel):
    client = open_client(channel, account=ACCOUNT, region=REGION)

    [row] = rows_of(stack, channel, client.client_id)
    assert (row["account"], row["region"]) == (ACCOUNT, REGION)


def test_connect_row_has_the_spec_attributes(stack, open_client, deployed_environment):
    before = time.time()
    client = open_client("history", user_agent="SOC-dashboard/2.1", account=ACCOUNT, region=REGION)
    after = time.time()

    [row] = rows_of(stack, "history", client.client_id)
    environment = deployed_environment("connect", "history")
    ttl_seconds = int(environment.get("CONNECTION_TTL_SECONDS", 10800))
    assert row["connectionId"]
    assert before * 1000 - 1000 <= row["createdAt"] <= after * 1000
    assert row["ttl"] == int(row["createdAt"]) // 1000 + ttl_seconds
    assert row["clientId"] == client.client_id
    assert row["sourceIp"] == "127.0.0.1"
    assert row["userAgent"] == "SOC-dashboard/2.1"


def test_invalid_account_is_refused_with_400_and_nothing_is_stored(stack, open_client):
    client_id = unique("e2e-invalid")

    with pytest.raises(InvalidStatus) as refused:
        open_client("history", clientId=client_id, account="12345")

    assert refused.value.response.status_code == 400
    assert rows_of(stack, "history", client_id) == []


def test_graceful_close_removes_the_row_through_disconnect(stack, open_client):
    client = open_client("remediation")
    assert rows_of(stack, "remediation", client.client_id)

    client.connection.close()

    eventually(lambda: rows_of(stack, "remediation", client.client_id) == [])
