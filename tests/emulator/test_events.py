from datetime import UTC, datetime

from dev.emulator.events import (
    ConnectionInfo,
    authorizer_request_event,
    connect_authorizer_event,
    connect_event,
    disconnect_event,
    message_event,
    new_connection_id,
    scheduled_event,
    select_route,
)

INFO = ConnectionInfo(
    connection_id="L0SM9cOFvHcCIhw=",
    api_id="abc123",
    stage="prod",
    domain_name="abc123.execute-api.us-east-1.amazonaws.com",
    source_ip="192.0.2.7",
    user_agent="agent/1.0",
    connected_at_ms=1_700_000_000_000,
)


def test_connect_event_carries_the_request_context_api_gateway_sends():
    event = connect_event(INFO, [], [], now_ms=1_700_000_000_123)

    context = event["requestContext"]
    assert context["routeKey"] == "$connect"
    assert context["eventType"] == "CONNECT"
    assert context["messageDirection"] == "IN"
    assert (context["connectionId"], context["apiId"], context["stage"]) == (
        INFO.connection_id,
        INFO.api_id,
        INFO.stage,
    )
    assert context["domainName"] == INFO.domain_name
    assert context["identity"] == {"sourceIp": "192.0.2.7", "userAgent": "agent/1.0"}
    assert context["requestTimeEpoch"] == 1_700_000_000_123
    assert context["connectedAt"] == INFO.connected_at_ms
    assert context["requestTime"] == "14/Nov/2023:22:13:20 +0000"
    assert context["requestId"]


def test_connect_event_has_null_query_parameters_when_the_url_has_none():
    event = connect_event(INFO, [], [])

    assert event["queryStringParameters"] is None
    assert "multiValueQueryStringParameters" not in event


def test_repeated_query_keys_keep_the_last_value_and_all_values():
    query = [("clientId", "a"), ("account", "111122223333"), ("clientId", "b")]

    event = connect_event(INFO, [], query)

    assert event["queryStringParameters"] == {"clientId": "b", "account": "111122223333"}
    assert event["multiValueQueryStringParameters"] == {
        "clientId": ["a", "b"],
        "account": ["111122223333"],
    }


def test_headers_are_passed_both_single_and_multi_valued():
    headers = [("User-Agent", "agent/1.0"), ("X-Forwarded-For", "192.0.2.7")]

    event = connect_event(INFO, headers, [])

    assert event["headers"] == dict(headers)
    assert event["multiValueHeaders"] == {k: [v] for k, v in headers}


def test_disconnect_event_reports_status_code_and_reason():
    event = disconnect_event(INFO, 1001, "Going away")

    context = event["requestContext"]
    assert (context["routeKey"], context["eventType"]) == ("$disconnect", "DISCONNECT")
    assert context["disconnectStatusCode"] == 1001
    assert context["disconnectReason"] == "Going away"


def test_message_event_carries_the_body_and_the_selected_route():
    event = message_event(INFO, "subscribe", '{"action": "subscribe"}')

    assert event["body"] == '{"action": "subscribe"}'
    assert event["requestContext"]["routeKey"] == "subscribe"
    assert event["requestContext"]["eventType"] == "MESSAGE"
    assert event["requestContext"]["messageId"]


def test_connection_ids_look_like_api_gateway_ids_and_differ():
    ids = {new_connection_id() for _ in range(50)}

    assert len(ids) == 50
    assert all(len(i) == 16 and i.endswith("=") for i in ids)


def test_route_selection_picks_the_route_named_by_the_action():
    route = select_route("$request.body.action", '{"action": "ping"}', ["ping", "$default"])

    assert route == "ping"


def test_route_selection_falls_back_to_default_for_an_unknown_action():
    route = select_route("$request.body.action", '{"action": "other"}', ["ping", "$default"])

    assert route == "$default"


def test_route_selection_falls_back_to_default_for_a_body_that_is_not_json():
    assert select_route("$request.body.action", "hello", ["ping", "$default"]) == "$default"


def test_route_selection_finds_nothing_without_a_matching_route_or_default():
    assert select_route("$request.body.action", '{"action": "x"}', ["$connect"]) is None


def test_route_selection_follows_a_nested_body_path():
    body = '{"meta": {"op": "join"}}'

    assert select_route("$request.body.meta.op", body, ["join"]) == "join"


def test_scheduled_event_names_the_rule_account_and_time():
    rule = "arn:aws:events:us-east-1:123456789012:rule/heartbeat"

    event = scheduled_event(rule, "us-east-1", datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))

    assert event["detail-type"] == "Scheduled Event"
    assert event["source"] == "aws.events"
    assert event["account"] == "123456789012"
    assert event["resources"] == [rule]
    assert event["time"] == "2026-01-02T03:04:05Z"


def test_a_binary_message_is_passed_base64_encoded():
    event = message_event(INFO, "$default", b"\x00\xff")

    assert event["body"] == "AP8="
    assert event["isBase64Encoded"] is True


def test_the_authorizer_event_is_the_connect_request_with_type_method_arn_and_stage_variables():
    connect = connect_event(INFO, [("Origin", "https://soc.example.com")], [])
    method_arn = "arn:aws:execute-api:us-east-1:123456789012:abc123/prod/$connect"

    event = authorizer_request_event(connect, method_arn, {})

    assert (event["type"], event["methodArn"]) == ("REQUEST", method_arn)
    assert event["headers"] == {"Origin": "https://soc.example.com"}
    assert event["queryStringParameters"] is None
    assert "multiValueQueryStringParameters" not in event
    assert event["stageVariables"] == {}
    assert event["requestContext"] == connect["requestContext"]


def test_an_authorizer_event_for_a_method_arn_names_its_api_stage_and_host():
    method_arn = "arn:aws:execute-api:eu-west-1:123456789012:xyz789/live/$connect"

    event = connect_authorizer_event(method_arn, [("User-Agent", "ua")], [("token", "t")])

    context = event["requestContext"]
    assert (context["apiId"], context["stage"]) == ("xyz789", "live")
    assert event["headers"]["Host"] == "xyz789.execute-api.eu-west-1.amazonaws.com"
    assert event["queryStringParameters"] == {"token": "t"}
    assert context["identity"]["userAgent"] == "ua"
