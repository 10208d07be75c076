import json

from dev.emulator.endpoints import rewrite_endpoints, rewrite_environment

EMULATOR = "http://127.0.0.1:8123"
KNOWN = {("abc123", "prod"), ("def456", "prod")}


def test_endpoints_inside_a_json_value_become_local_management_urls():
    channels = {
        "events": {
            "table": "E",
            "endpoint": "https://abc123.execute-api.us-east-1.amazonaws.com/prod",
        },
        "history": {
            "table": "H",
            "endpoint": "https://def456.execute-api.us-east-1.amazonaws.com/prod",
        },
    }

    rewritten = json.loads(rewrite_endpoints(json.dumps(channels), EMULATOR, KNOWN))

    assert rewritten["events"]["endpoint"] == f"{EMULATOR}/mgmt/abc123/prod"
    assert rewritten["history"]["endpoint"] == f"{EMULATOR}/mgmt/def456/prod"
    assert rewritten["events"]["table"] == "E"


def test_an_endpoint_without_scheme_and_with_trailing_slash_is_mapped():
    value = "abc123.execute-api.us-east-1.amazonaws.com/prod/"

    assert rewrite_endpoints(value, EMULATOR, KNOWN) == f"{EMULATOR}/mgmt/abc123/prod/"


def test_endpoint_of_an_api_that_was_not_deployed_is_left_alone():
    value = "https://zzz999.execute-api.us-east-1.amazonaws.com/prod"

    assert rewrite_endpoints(value, EMULATOR, KNOWN) == value


def test_endpoint_of_another_stage_is_left_alone():
    value = "https://abc123.execute-api.us-east-1.amazonaws.com/dev"

    assert rewrite_endpoints(value, EMULATOR, KNOWN) == value


def test_only_values_with_endpoints_change_in_an_environment():
    environment = {
        "CONNECTIONS_TABLE": "WebSocketConnections_v2",
        "WS_ENDPOINT": "https://abc123.execute-api.us-east-1.amazonaws.com/prod",
    }

    rewritten = rewrite_environment(environment, EMULATOR + "/", KNOWN)

    assert rewritten == {
        "CONNECTIONS_TABLE": "WebSocketConnections_v2",
        "WS_ENDPOINT": f"{EMULATOR}/mgmt/abc123/prod",
    }
