"""`$disconnect`: forget the connection, log who it was and how long it lasted."""

from __future__ import annotations

import time

import pytest

from tests.support.events import connect_event, disconnect_event
from tests.unit.helpers import CONNECTIONS_TABLE, parse_log_event

DISCONNECTED = {"statusCode": 200, "body": "disconnected"}


@pytest.fixture
def disconnect(load, table):
    return load("disconnect", CONNECTIONS_TABLE=CONNECTIONS_TABLE, CHANNEL_NAME="remediation")


def test_connection_is_deleted(disconnect, table):
    table.put_item(Item={"connectionId": "conn-1"})
    table.put_item(Item={"connectionId": "conn-2"})

    response = disconnect.handler(disconnect_event("conn-1"), None)

    assert response == DISCONNECTED
    assert [item["connectionId"] for item in table.scan()["Items"]] == ["conn-2"]


def test_the_deleted_connection_is_logged_with_its_details(disconnect, table, caplog):
    connected_at_ms = int((time.time() - 90) * 1000)
    table.put_item(
        Item={
            "connectionId": "conn-1",
            "createdAt": connected_at_ms,
            "clientId": "agent-7",
            "principal": "arn:aws:sts::123456789012:assumed-role/agent/i-0abc",
            "sourceIp": "198.51.100.7",
            "account": "123456789012",
            "accounts": {"123456789012"},
            "region": "eu-west-1",
        }
    )

    disconnect.handler(disconnect_event("conn-1", status_code=1006, reason="abnormal"), None)

    [line] = parse_log_event(caplog, "disconnected")
    assert 89 <= line.pop("connectedSeconds") <= 100
    assert line == {
        "channel": "remediation",
        "connectionId": "conn-1",
        "known": True,
        "clientId": "agent-7",
        "principal": "arn:aws:sts::123456789012:assumed-role/agent/i-0abc",
        "sourceIp": "198.51.100.7",
        "account": "123456789012",
        "region": "eu-west-1",
        "disconnectStatusCode": 1006,
        "disconnectReason": "abnormal",
    }


def test_who_was_connected_and_from_where_is_logged_after_the_row_is_gone(
    disconnect, load, table, caplog
):
    connect = load("connect", CONNECTIONS_TABLE=CONNECTIONS_TABLE, AUTHORIZATION_TYPE="jwt")
    authorizer = {"principalId": "tenant-a", "accounts": "111122223333"}
    connect.handler(connect_event("conn-1", source_ip="2001:db8::7", authorizer=authorizer), None)

    disconnect.handler(disconnect_event("conn-1"), None)

    assert table.scan()["Items"] == []
    [connected] = parse_log_event(caplog, "connected")
    [disconnected] = parse_log_event(caplog, "disconnected")
    for line in (connected, disconnected):
        assert (line["principal"], line["sourceIp"]) == ("tenant-a", "2001:db8::7")


def test_a_connection_stored_without_principal_or_source_ip_logs_them_as_null(
    disconnect, table, caplog
):
    table.put_item(Item={"connectionId": "conn-1"})

    disconnect.handler(disconnect_event("conn-1"), None)

    [line] = parse_log_event(caplog, "disconnected")
    assert (line["principal"], line["sourceIp"]) == (None, None)


def test_disconnecting_an_unknown_connection_is_fine(disconnect, table, caplog):
    response = disconnect.handler(disconnect_event("never-stored"), None)

    assert response == DISCONNECTED
    [line] = parse_log_event(caplog, "disconnected")
    assert line["known"] is False


def test_disconnecting_twice_is_idempotent(disconnect, table):
    table.put_item(Item={"connectionId": "conn-1"})

    first = disconnect.handler(disconnect_event("conn-1"), None)
    second = disconnect.handler(disconnect_event("conn-1"), None)

    assert first == second == DISCONNECTED
    assert table.scan()["Items"] == []


def test_table_failure_still_answers_200_and_logs_an_error(load, caplog):
    disconnect = load("disconnect", CONNECTIONS_TABLE="NoSuchTable")

    response = disconnect.handler(disconnect_event("conn-1"), None)

    assert response == DISCONNECTED
    [failure] = parse_log_event(caplog, "disconnect_delete_failed")
    assert "ResourceNotFoundException" in failure["error"]


def test_missing_connections_table_fails_cold_start_naming_it(load):
    with pytest.raises(Exception, match="CONNECTIONS_TABLE"):
        load("disconnect")
