"""Who may connect and what they receive, through the deployed authorizer, connect and
stream_processor: tokens of the local OIDC issuer's personas (dev/harness/personas.py)."""

from __future__ import annotations

import json
import time

import pytest
from websockets.exceptions import InvalidStatus

from dev.harness.oidc_issuer import SigningKey, sign_compact
from tests.e2e.helpers import INCIDENT_ENTRY, eventually, rows_of, unique

CHANNELS = ("events", "remediation", "history")
TENANT_ACCOUNT = "111122223333"
OTHER_ACCOUNT = "444455556666"
SUBPROTOCOL = "incident-websocket"


@pytest.fixture(autouse=True)
def channels_trust_the_local_issuer(stack):
    assert stack.uses_issuer, "examples/local deploys no authorizer that trusts oidc_issuer"


def refused(open_client, channel: str = "history", **options) -> int:
    with pytest.raises(InvalidStatus) as refusal:
        open_client(channel, **options)
    return refusal.value.response.status_code


def incident(account: str | None) -> dict:
    item = {
        "incident_id": unique("e2e-scope"),
        "entry_id": INCIDENT_ENTRY,
        "severity": "HIGH",
        "status": "OPEN",
        "title": "Access key used from a new country",
        "region": "us-east-1",
        "timestamp": 1_767_225_600,
    }
    if account is not None:
        item["account"] = account
    return item


def about(*items: dict):
    ids = {item["incident_id"] for item in items}
    return lambda message: message.get("incident_id") in ids


# -- Who may connect -------------------------------------------------------------------------------


@pytest.mark.parametrize("channel", CHANNELS)
def test_a_client_without_a_token_is_refused_with_401_and_nothing_is_stored(
    stack, open_client, channel
):
    client_id = unique("e2e-anonymous")

    assert refused(open_client, channel, token=None, clientId=client_id) == 401
    assert rows_of(stack, channel, client_id) == []


def test_a_token_that_is_not_a_jwt_is_refused_with_401(open_client):
    assert refused(open_client, token="not-a-token") == 401


def test_a_token_signed_by_another_key_is_refused_with_401(stack, open_client):
    impostor = SigningKey.generate(kid=stack.issuer.current_key.kid)
    claims = stack.issuer.claims(**{"sub": "mallory", "aud": stack.trusted.audience_claim})
    forged = sign_compact(
        {"alg": "RS256", "typ": "JWT", "kid": impostor.kid}, claims, impostor, "RS256"
    )

    assert refused(open_client, token=forged) == 401


def test_an_expired_token_is_refused_with_401(stack, open_client):
    expired = stack.token("analyst", exp=int(time.time()) - 3600)

    assert refused(open_client, token=expired) == 401


def test_a_token_in_the_subprotocol_connects_and_the_subprotocol_is_echoed(stack, open_client):
    client = open_client("history", token=None, subprotocols=[SUBPROTOCOL, stack.token("analyst")])

    assert client.connection.subprotocol == SUBPROTOCOL
    [row] = rows_of(stack, "history", client.client_id)
    assert row["principal"] == "analyst"


def test_a_bearer_token_in_the_authorization_header_connects(stack, open_client):
    token = stack.token("tenant")

    client = open_client("events", token=None, headers={"Authorization": f"Bearer {token}"})

    [row] = rows_of(stack, "events", client.client_id)
    assert row["principal"] == "tenant-111122223333"


# -- What a connection may see ---------------------------------------------------------------------


def test_a_tenant_asking_for_another_account_is_refused_with_403_and_nothing_is_stored(
    stack, open_client
):
    client_id = unique("e2e-tenant")

    status = refused(open_client, persona="tenant", clientId=client_id, account=OTHER_ACCOUNT)

    assert status == 403
    assert rows_of(stack, "history", client_id) == []


def test_a_tenants_connection_is_stored_with_its_principal_and_scope(stack, open_client):
    client = open_client("history", persona="tenant", account=TENANT_ACCOUNT)

    [row] = rows_of(stack, "history", client.client_id)
    assert row["principal"] == "tenant-111122223333"
    assert row["accounts"] == {TENANT_ACCOUNT}
    assert row["account"] == TENANT_ACCOUNT


def test_an_analysts_connection_is_unscoped(stack, open_client):
    client = open_client("history")

    [row] = rows_of(stack, "history", client.client_id)
    assert row["principal"] == "analyst"
    assert "accounts" not in row


def test_a_tenant_receives_only_its_accounts_incidents_while_an_analyst_receives_all(
    stack, open_client
):
    tenant = open_client("history", persona="tenant")
    analyst = open_client("history", persona="analyst")
    other, accountless, own = incident(OTHER_ACCOUNT), incident(None), incident(TENANT_ACCOUNT)

    for item in (other, accountless, own):
        stack.incident_table().put_item(Item=item)

    for item in (other, accountless, own):
        analyst.wait_for(about(item), timeout=10)
    # A connection receives messages in stream order: had the tenant been sent the other
    # account's or the account-less incident, it would have arrived before its own.
    first = tenant.wait_for(about(other, accountless, own), timeout=10)
    assert first["incident_id"] == own["incident_id"]


# -- The audit trail -------------------------------------------------------------------------------


def access_log_lines(stack, channel: str) -> list[dict]:
    """The channel stage's access log, as the deployed stage names it."""
    deployed = stack.outputs["channels"][channel]
    apis = stack.client("apigatewayv2")
    settings = apis.get_stage(ApiId=deployed["api_id"], StageName=deployed["stage_name"])
    destination = settings["AccessLogSettings"]["DestinationArn"]
    group = destination.split(":log-group:", 1)[1].removesuffix(":*")
    events = stack.client("logs").filter_log_events(logGroupName=group)["events"]
    return [json.loads(event["message"]) for event in events]


def test_every_connect_and_disconnect_is_in_the_channels_access_log(stack, open_client):
    client = open_client("remediation", persona="tenant")
    connection_id = rows_of(stack, "remediation", client.client_id)[0]["connectionId"]
    client.connection.close()

    def lines_of_the_connection():
        lines = [
            line
            for line in access_log_lines(stack, "remediation")
            if line["connectionId"] == connection_id
        ]
        return lines if len(lines) == 2 else None

    connected, disconnected = sorted(
        eventually(lines_of_the_connection, timeout=10), key=lambda line: line["eventType"]
    )
    assert (connected["eventType"], connected["status"]) == ("CONNECT", "200")
    assert connected["principal"] == "tenant-111122223333"
    assert connected["accounts"] == TENANT_ACCOUNT
    assert connected["sourceIp"] == "127.0.0.1"
    assert disconnected["eventType"] == "DISCONNECT"
    assert disconnected["principal"] == "tenant-111122223333"


def test_a_refused_connect_is_in_the_access_log_with_its_status(stack, open_client):
    before = int(time.time() * 1000)
    refused(open_client, "remediation", token=None)

    def refusals():
        return [
            line
            for line in access_log_lines(stack, "remediation")
            if line["eventType"] == "CONNECT"
            and line["status"] == "401"
            and int(line["epochMs"]) >= before
        ]

    [line] = eventually(refusals, timeout=10)
    assert line["principal"] == "-"
