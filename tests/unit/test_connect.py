"""`$connect`: validate the query and store the connection (on a channel without
authorization; test_connect_access.py covers the authorized ones)."""

from __future__ import annotations

import time

import pytest

from tests.support.events import connect_event
from tests.unit.helpers import CONNECTIONS_TABLE, LIMITS, parse_log_event


def load_connect(load, **env: str):
    """connect cold-started with `env`, on a channel whose `$connect` has no authorization."""
    return load("connect", AUTHORIZATION_TYPE="none", **env)


@pytest.fixture
def connect(load, table):
    return load_connect(load, CONNECTIONS_TABLE=CONNECTIONS_TABLE, CHANNEL_NAME="history")


def stored(table) -> list[dict]:
    return table.scan()["Items"]


def test_connection_is_stored_with_every_attribute(connect, table):
    before = time.time()
    event = connect_event(
        "conn-1",
        query={"clientId": "soc-dashboard", "account": "123456789012", "region": "us-gov-west-1"},
        headers={"User-Agent": "agent/1.0"},
        source_ip="198.51.100.7",
    )

    response = connect.handler(event, None)

    assert response == {"statusCode": 200, "body": "connected"}
    [item] = stored(table)
    assert before * 1000 - 1 <= item["createdAt"] <= time.time() * 1000
    assert item["ttl"] == int(item["createdAt"] / 1000) + LIMITS.DEFAULT_CONNECTION_TTL_SECONDS
    assert {k: v for k, v in item.items() if k not in ("createdAt", "ttl")} == {
        "connectionId": "conn-1",
        "clientId": "soc-dashboard",
        "account": "123456789012",
        "region": "us-gov-west-1",
        "sourceIp": "198.51.100.7",
        "userAgent": "agent/1.0",
        "audience": "123456789012",
    }


def test_client_id_defaults_to_unknown_and_absent_filters_are_omitted(connect, table):
    connect.handler(connect_event("conn-1", query=None), None)

    [item] = stored(table)
    assert item["clientId"] == "unknown"
    assert "account" not in item
    assert "region" not in item


def test_ttl_comes_from_connection_ttl_seconds(load, table):
    connect = load_connect(load, CONNECTIONS_TABLE=CONNECTIONS_TABLE, CONNECTION_TTL_SECONDS="60")

    connect.handler(connect_event("conn-1"), None)

    [item] = stored(table)
    assert item["ttl"] - item["createdAt"] // 1000 in (60, 61)


def test_ttl_zero_stores_no_ttl_attribute(load, table):
    connect = load_connect(load, CONNECTIONS_TABLE=CONNECTIONS_TABLE, CONNECTION_TTL_SECONDS="0")

    connect.handler(connect_event("conn-1"), None)

    [item] = stored(table)
    assert "ttl" not in item


def test_source_ip_falls_back_to_first_x_forwarded_for_address(connect, table):
    event = connect_event(
        "conn-1", source_ip=None, headers={"X-Forwarded-For": "192.0.2.1, 10.0.0.1"}
    )

    connect.handler(event, None)

    [item] = stored(table)
    assert item["sourceIp"] == "192.0.2.1"


def test_lower_case_x_forwarded_for_header_is_read(connect, table):
    event = connect_event("conn-1", source_ip=None, headers={"X-Forwarded-For": None})
    event["headers"]["x-forwarded-for"] = "2001:db8::1"

    connect.handler(event, None)

    [item] = stored(table)
    assert item["sourceIp"] == "2001:db8::1"


def test_headers_are_also_read_from_multi_value_headers(connect, table):
    event = connect_event("conn-1", headers={"User-Agent": None})
    event["multiValueHeaders"]["user-agent"] = ["agent/2.0", "ignored"]

    connect.handler(event, None)

    [item] = stored(table)
    assert item["userAgent"] == "agent/2.0"


def test_source_ip_is_omitted_when_there_is_none(connect, table):
    event = connect_event("conn-1", source_ip=None, headers={"X-Forwarded-For": None})

    connect.handler(event, None)

    [item] = stored(table)
    assert "sourceIp" not in item


@pytest.mark.parametrize(
    ("forwarded", "expected"),
    [
        ("::1%<img src=x onerror=alert(1)>", "::1"),
        ("fe80::1%eth0", "fe80::1"),
        ("2001:DB8:0:0:0:0:0:1", "2001:db8::1"),
    ],
)
def test_source_ip_is_stored_as_the_canonical_address_without_a_zone(
    connect, table, forwarded, expected
):
    event = connect_event("conn-1", source_ip=None, headers={"X-Forwarded-For": forwarded})

    connect.handler(event, None)

    [item] = stored(table)
    assert item["sourceIp"] == expected


@pytest.mark.parametrize(
    "forwarded",
    ["fe80::1%" + "z" * 3000, "fe80::1%" + "z" * 57, "<script>", "1.2.3.4.5"],
    ids=["3000-character-zone", "65-characters", "markup", "not-an-address"],
)
def test_source_ip_that_is_not_a_short_address_is_treated_as_absent(connect, table, forwarded):
    event = connect_event("conn-1", source_ip=None, headers={"X-Forwarded-For": forwarded})

    connect.handler(event, None)

    [item] = stored(table)
    assert "sourceIp" not in item


@pytest.mark.parametrize("identity", ["fe80::1%\n", "fe80::1%<b>"])
def test_identity_source_ip_is_also_stored_canonically(connect, table, identity):
    connect.handler(connect_event("conn-1", source_ip=identity), None)

    [item] = stored(table)
    assert item["sourceIp"] == "fe80::1"


def test_source_ip_is_not_stored_when_store_source_ip_is_false(load, table):
    connect = load_connect(load, CONNECTIONS_TABLE=CONNECTIONS_TABLE, STORE_SOURCE_IP="false")

    connect.handler(connect_event("conn-1", source_ip="198.51.100.7"), None)

    [item] = stored(table)
    assert "sourceIp" not in item


def test_user_agent_is_truncated_to_the_user_agent_limit(connect, table):
    too_long = "x" * (LIMITS.MAX_USER_AGENT_CHARS + 88)

    connect.handler(connect_event("conn-1", headers={"User-Agent": too_long}), None)

    [item] = stored(table)
    assert item["userAgent"] == "x" * LIMITS.MAX_USER_AGENT_CHARS


@pytest.mark.parametrize(
    ("parameter", "value"),
    [
        ("clientId", ""),
        ("clientId", "x" * 129),
        ("clientId", "dash board"),
        ("account", "12345678901"),
        ("account", "12345678901a"),
        ("region", "moon-base-1"),
        ("region", "US-EAST-1"),
        ("region", "us-east"),
    ],
)
def test_invalid_query_parameter_is_rejected_naming_it_and_nothing_is_written(
    connect, table, parameter, value
):
    response = connect.handler(connect_event("conn-1", query={parameter: value}), None)

    assert response["statusCode"] == 400
    assert parameter in response["body"]
    assert stored(table) == []


@pytest.mark.parametrize(
    "region",
    [
        "us-east-1",
        "us-gov-west-1",
        "ap-southeast-4",
        "cn-north-1",
        "il-central-1",
        "eusc-de-east-1",
    ],
)
def test_aws_region_names_are_accepted(connect, table, region):
    response = connect.handler(connect_event("conn-1", query={"region": region}), None)

    assert response["statusCode"] == 200
    assert stored(table)[0]["region"] == region


def test_write_failure_returns_500_and_logs_an_error(load, caplog):
    connect = load_connect(load, CONNECTIONS_TABLE="NoSuchTable")

    response = connect.handler(connect_event("conn-1"), None)

    assert response["statusCode"] == 500
    [failure] = parse_log_event(caplog, "connect_store_failed")
    assert failure["connectionId"] == "conn-1"
    assert "ResourceNotFoundException" in failure["error"]


def test_missing_connections_table_fails_cold_start_naming_it(load):
    with pytest.raises(Exception, match="CONNECTIONS_TABLE"):
        load("connect")


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("CONNECTION_TTL_SECONDS", "3h"),
        ("CONNECTION_TTL_SECONDS", "-1"),
        ("STORE_SOURCE_IP", "yes"),
    ],
)
def test_malformed_variable_fails_cold_start_naming_it(load, variable, value):
    with pytest.raises(Exception, match=variable):
        load_connect(load, CONNECTIONS_TABLE=CONNECTIONS_TABLE, **{variable: value})
