"""`$connect` behind the route's authorization: who connects (principal), what they may see
(account scope), and a refusal whenever the event does not say so (fail closed)."""

from __future__ import annotations

import boto3
import pytest

from tests.support.events import REGION, connect_event
from tests.unit.helpers import CONNECTIONS_TABLE, parse_log_event

TENANT = "111122223333"
OTHER_TENANT = "444455556666"
THIRD_ACCOUNT = "777788889999"
ROLE_ARN = "arn:aws:sts::123456789012:assumed-role/remediation-agent/i-0abc"
TOKEN = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsifQ.eyJzdWIiOiJhbmFseXN0In0.c2lnbmF0dXJl"
FORBIDDEN = {"statusCode": 403, "body": "forbidden"}


def connect_with(load, authorization: str):
    return load(
        "connect",
        CONNECTIONS_TABLE=CONNECTIONS_TABLE,
        CHANNEL_NAME="history",
        AUTHORIZATION_TYPE=authorization,
    )


@pytest.fixture
def jwt_connect(load, table):
    return connect_with(load, "jwt")


@pytest.fixture
def iam_connect(load, table):
    return connect_with(load, "iam")


@pytest.fixture
def open_connect(load, table):
    return connect_with(load, "none")


def allowed(principal: str = "analyst", accounts: str = "*") -> dict:
    """`requestContext.authorizer` after the authorizer's Allow."""
    return {"principalId": principal, "accounts": accounts}


def stored(table) -> list[dict]:
    return table.scan()["Items"]


# -- configuration --------------------------------------------------------------------------


def test_missing_authorization_type_fails_cold_start_naming_it(load):
    with pytest.raises(Exception, match="AUTHORIZATION_TYPE"):
        load("connect", CONNECTIONS_TABLE=CONNECTIONS_TABLE)


@pytest.mark.parametrize("value", ["", "JWT", "custom", "aws_iam", "NONE", "jwt,iam"])
def test_unknown_authorization_type_fails_cold_start_naming_it(load, value):
    with pytest.raises(Exception, match="AUTHORIZATION_TYPE"):
        load("connect", CONNECTIONS_TABLE=CONNECTIONS_TABLE, AUTHORIZATION_TYPE=value)


# -- none -----------------------------------------------------------------------------------


def test_without_authorization_no_principal_and_no_scope_are_stored(open_connect, table):
    response = open_connect.handler(connect_event("c1", query={"account": TENANT}), None)

    assert response["statusCode"] == 200
    [item] = stored(table)
    assert item["account"] == TENANT
    assert "principal" not in item
    assert "accounts" not in item


def test_without_authorization_an_authorizer_context_in_the_event_is_ignored(open_connect, table):
    event = connect_event("c1", authorizer=allowed("someone", TENANT))

    open_connect.handler(event, None)

    [item] = stored(table)
    assert "principal" not in item
    assert "accounts" not in item


# -- jwt ------------------------------------------------------------------------------------


def test_jwt_principal_is_the_authorizers_principal_id(jwt_connect, table):
    jwt_connect.handler(connect_event("c1", authorizer=allowed("analyst-7")), None)

    [item] = stored(table)
    assert item["principal"] == "analyst-7"


def test_jwt_principal_who_sees_every_account_is_stored_unscoped(jwt_connect, table):
    jwt_connect.handler(connect_event("c1", authorizer=allowed(accounts="*")), None)

    [item] = stored(table)
    assert "accounts" not in item


def test_jwt_scoped_principal_is_stored_with_its_accounts_as_a_string_set(jwt_connect, table):
    scope = f"{TENANT},{OTHER_TENANT}"

    jwt_connect.handler(connect_event("c1", authorizer=allowed("tenant", scope)), None)

    raw = boto3.client("dynamodb", region_name=REGION).get_item(
        TableName=CONNECTIONS_TABLE, Key={"connectionId": {"S": "c1"}}
    )["Item"]
    assert sorted(raw["accounts"]["SS"]) == [TENANT, OTHER_TENANT]
    assert raw["principal"] == {"S": "tenant"}


@pytest.mark.parametrize(
    ("scope", "query", "audience"),
    [
        (TENANT, None, TENANT),
        (f"{TENANT},{OTHER_TENANT}", None, "*"),
        (f"{TENANT},{OTHER_TENANT}", {"account": OTHER_TENANT}, OTHER_TENANT),
        ("*", None, "*"),
    ],
    ids=["scoped-to-one", "scoped-to-two", "filtered-within-scope", "unscoped"],
)
def test_a_connection_is_stored_with_the_one_account_it_can_receive_else_every_account(
    jwt_connect, table, scope, query, audience
):
    event = connect_event("c1", query=query, authorizer=allowed("tenant", scope))

    jwt_connect.handler(event, None)

    [item] = stored(table)
    assert item["audience"] == audience


def test_scoped_principal_may_ask_for_an_account_in_its_scope(jwt_connect, table):
    event = connect_event(
        "c1",
        query={"account": OTHER_TENANT},
        authorizer=allowed(accounts=f"{TENANT},{OTHER_TENANT}"),
    )

    response = jwt_connect.handler(event, None)

    assert response["statusCode"] == 200
    [item] = stored(table)
    assert item["account"] == OTHER_TENANT
    assert item["accounts"] == {TENANT, OTHER_TENANT}


def test_scoped_principal_asking_for_another_account_is_refused_403_naming_account(
    jwt_connect, table, caplog
):
    event = connect_event("c1", query={"account": THIRD_ACCOUNT}, authorizer=allowed("t", TENANT))

    response = jwt_connect.handler(event, None)

    assert response["statusCode"] == 403
    assert "'account'" in response["body"]
    assert "headers" not in response
    assert stored(table) == []
    [line] = parse_log_event(caplog, "connect_rejected")
    assert (line["parameter"], line["principal"], line["scope"]) == ("account", "t", [TENANT])


def test_unscoped_principal_may_ask_for_any_account(jwt_connect, table):
    event = connect_event("c1", query={"account": THIRD_ACCOUNT}, authorizer=allowed())

    response = jwt_connect.handler(event, None)

    assert response["statusCode"] == 200
    assert stored(table)[0]["account"] == THIRD_ACCOUNT


def test_a_malformed_account_is_400_for_a_scoped_principal_too(jwt_connect, table):
    event = connect_event("c1", query={"account": "1111"}, authorizer=allowed(accounts=TENANT))

    response = jwt_connect.handler(event, None)

    assert response["statusCode"] == 400
    assert "'account'" in response["body"]
    assert stored(table) == []


@pytest.mark.parametrize(
    ("authorizer", "reason"),
    [
        (None, "no_authorizer_context"),
        ("principalId=analyst", "no_authorizer_context"),
        ({}, "no_principal"),
        ({"accounts": "*"}, "no_principal"),
        ({"principalId": "", "accounts": "*"}, "no_principal"),
        ({"principalId": "  ", "accounts": "*"}, "no_principal"),
        ({"principalId": 42, "accounts": "*"}, "no_principal"),
        ({"principalId": "analyst"}, "unreadable_scope"),
        ({"principalId": "analyst", "accounts": None}, "unreadable_scope"),
        ({"principalId": "analyst", "accounts": ""}, "unreadable_scope"),
        ({"principalId": "analyst", "accounts": "all"}, "unreadable_scope"),
        ({"principalId": "analyst", "accounts": f"*,{TENANT}"}, "unreadable_scope"),
        ({"principalId": "analyst", "accounts": f"{TENANT}, {OTHER_TENANT}"}, "unreadable_scope"),
        ({"principalId": "analyst", "accounts": f"{TENANT},"}, "unreadable_scope"),
        ({"principalId": "analyst", "accounts": "11112222333"}, "unreadable_scope"),
        ({"principalId": "analyst", "accounts": "١١١١٢٢٢٢٣٣٣٣"}, "unreadable_scope"),
        ({"principalId": "analyst", "accounts": [TENANT]}, "unreadable_scope"),
        ({"principalId": "analyst", "accounts": 111122223333}, "unreadable_scope"),
    ],
    ids=lambda value: repr(value)[:40],
)
def test_jwt_connect_without_a_readable_principal_and_scope_is_refused_and_logged(
    jwt_connect, table, caplog, authorizer, reason
):
    event = connect_event("c1", authorizer=authorizer)

    response = jwt_connect.handler(event, None)

    assert response == FORBIDDEN
    assert stored(table) == []
    [line] = parse_log_event(caplog, "connect_refused")
    assert line == {
        "channel": "history",
        "connectionId": "c1",
        "sourceIp": "203.0.113.10",
        "authorization": "jwt",
        "reason": reason,
    }
    assert [r.levelname for r in caplog.records if r.getMessage().startswith("connect_")] == [
        "ERROR"
    ]


# -- iam ------------------------------------------------------------------------------------


def test_iam_principal_is_the_signers_user_arn_and_sees_every_account(iam_connect, table):
    event = connect_event("c1", query={"account": TENANT}, identity={"userArn": ROLE_ARN})

    response = iam_connect.handler(event, None)

    assert response["statusCode"] == 200
    [item] = stored(table)
    assert item["principal"] == ROLE_ARN
    assert "accounts" not in item


@pytest.mark.parametrize("user_arn", [None, "", 7, {"arn": ROLE_ARN}], ids=repr)
def test_iam_connect_without_a_user_arn_is_refused_and_logged(iam_connect, table, caplog, user_arn):
    event = connect_event("c1", identity={"userArn": user_arn})

    response = iam_connect.handler(event, None)

    assert response == FORBIDDEN
    assert stored(table) == []
    [line] = parse_log_event(caplog, "connect_refused")
    assert (line["authorization"], line["reason"]) == ("iam", "no_iam_caller")


def test_iam_connect_ignores_an_authorizer_context(iam_connect, table):
    event = connect_event(
        "c1", authorizer=allowed("impostor", TENANT), identity={"userArn": ROLE_ARN}
    )

    iam_connect.handler(event, None)

    [item] = stored(table)
    assert item["principal"] == ROLE_ARN


# -- the audit line -------------------------------------------------------------------------


def test_connected_line_names_principal_source_ip_filters_and_scope(jwt_connect, table, caplog):
    event = connect_event(
        "c1",
        query={"clientId": "soc-1", "account": TENANT, "region": "eu-west-1"},
        authorizer=allowed("tenant-a", f"{OTHER_TENANT},{TENANT}"),
        source_ip="198.51.100.7",
    )

    jwt_connect.handler(event, None)

    [line] = parse_log_event(caplog, "connected")
    assert line == {
        "channel": "history",
        "connectionId": "c1",
        "clientId": "soc-1",
        "principal": "tenant-a",
        "sourceIp": "198.51.100.7",
        "account": TENANT,
        "region": "eu-west-1",
        "scope": [TENANT, OTHER_TENANT],
    }


def test_connected_line_of_an_unscoped_connection_says_every_account(open_connect, table, caplog):
    open_connect.handler(connect_event("c1"), None)

    [line] = parse_log_event(caplog, "connected")
    assert (line["principal"], line["scope"]) == (None, "*")


def test_connected_line_keeps_the_source_ip_that_store_source_ip_false_keeps_out_of_the_table(
    load, table, caplog
):
    connect = load(
        "connect",
        CONNECTIONS_TABLE=CONNECTIONS_TABLE,
        AUTHORIZATION_TYPE="none",
        STORE_SOURCE_IP="false",
    )

    connect.handler(connect_event("c1", source_ip="198.51.100.7"), None)

    assert "sourceIp" not in stored(table)[0]
    [line] = parse_log_event(caplog, "connected")
    assert line["sourceIp"] == "198.51.100.7"


# -- the subprotocol echo -------------------------------------------------------------------


def test_no_subprotocol_offered_no_subprotocol_answered(open_connect, table):
    response = open_connect.handler(connect_event("c1"), None)

    assert response == {"statusCode": 200, "body": "connected"}


@pytest.mark.parametrize(
    ("offered", "echoed"),
    [
        (f"incident-websocket, {TOKEN}", "incident-websocket"),
        (f"{TOKEN}, incident-websocket", "incident-websocket"),
        (f"{TOKEN},incident-websocket,chat", "incident-websocket"),
        ("chat, incident-websocket", "chat"),
        ("  incident-websocket  ", "incident-websocket"),
        (TOKEN, TOKEN),
    ],
    ids=["name-then-token", "token-then-name", "no-spaces", "two-names", "padded", "token-only"],
)
def test_the_first_offered_subprotocol_that_is_not_a_token_is_echoed(
    jwt_connect, table, offered, echoed
):
    event = connect_event("c1", headers={"Sec-WebSocket-Protocol": offered}, authorizer=allowed())

    response = jwt_connect.handler(event, None)

    assert response == {
        "statusCode": 200,
        "body": "connected",
        "headers": {"Sec-WebSocket-Protocol": echoed},
    }


def test_subprotocol_is_also_read_from_multi_value_headers(open_connect, table):
    event = connect_event("c1")
    event["multiValueHeaders"]["sec-websocket-protocol"] = [f"incident-websocket, {TOKEN}"]

    response = open_connect.handler(event, None)

    assert response["headers"] == {"Sec-WebSocket-Protocol": "incident-websocket"}


@pytest.mark.parametrize("offered", ["", " , "])
def test_an_empty_subprotocol_header_is_answered_without_one(open_connect, table, offered):
    event = connect_event("c1", headers={"Sec-WebSocket-Protocol": offered})

    response = open_connect.handler(event, None)

    assert "headers" not in response


def test_a_refused_connect_answers_no_subprotocol(jwt_connect, table):
    event = connect_event("c1", headers={"Sec-WebSocket-Protocol": f"incident-websocket, {TOKEN}"})

    assert jwt_connect.handler(event, None) == FORBIDDEN
