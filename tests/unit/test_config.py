"""Configuration from the environment: loud cold-start errors, legacy variables accepted."""

from __future__ import annotations

import json

import pytest

from tests.support.lambda_zip import load_module
from tests.support.stream_records import IncidentTable
from tests.unit.helpers import LIMITS, channels_env, connection

ENDPOINT = "https://abc123.execute-api.eu-west-1.amazonaws.com/prod"
ROUTES = json.dumps({"incident": ["history"], "remediation": ["history"]})
HISTORY = channels_env(history=("t", ENDPOINT))


@pytest.fixture(scope="module")
def config():
    return load_module("stream_processor", "incident_ws.config")


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({}, "CHANNELS"),
        ({"CHANNELS": "not json", "ROUTES": ROUTES}, "CHANNELS"),
        ({"CHANNELS": "[]", "ROUTES": ROUTES}, "CHANNELS"),
        ({"CHANNELS": "{}", "ROUTES": ROUTES}, "CHANNELS"),
        ({"CHANNELS": '{"history": {"endpoint": "x"}}', "ROUTES": ROUTES}, "CHANNELS"),
        ({"CHANNELS": '{"history": {"table": "t", "endpoint": ""}}', "ROUTES": ROUTES}, "CHANNELS"),
        ({"CHANNELS": HISTORY}, "ROUTES"),
        ({"CHANNELS": HISTORY, "ROUTES": "{"}, "ROUTES"),
        ({"CHANNELS": HISTORY, "ROUTES": '{"incident": "history"}'}, "ROUTES"),
        ({"CHANNELS": HISTORY, "ROUTES": '{"incident": ["nope"]}'}, "ROUTES"),
        ({"CHANNELS": HISTORY, "ROUTES": '{"alert": ["history"]}'}, "ROUTES"),
        ({"WS_ENDPOINT": ENDPOINT}, "CONNECTIONS_TABLE"),
        ({"CONNECTIONS_TABLE": "t"}, "WS_ENDPOINT"),
        (
            {"CONNECTIONS_TABLE": "t", "WS_ENDPOINT": ENDPOINT, "MAX_CONCURRENCY": "0"},
            "MAX_CONCURRENCY",
        ),
        ({"CHANNELS": HISTORY, "ROUTES": ROUTES, "MAX_CONCURRENCY": "many"}, "MAX_CONCURRENCY"),
    ],
)
def test_stream_processor_cold_start_fails_naming_the_variable(load, env, variable):
    with pytest.raises(Exception, match=variable) as raised:
        load("stream_processor", **env)
    assert type(raised.value).__name__ == "ConfigError"


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({}, "CHANNELS"),
        ({"CHANNELS": "{"}, "CHANNELS"),
        ({"EVENT_API_GW_ENDPOINT": ENDPOINT}, "EVENT_CONNECTIONS_TABLE"),
        ({"REMED_CONNECTIONS_TABLE": "t"}, "REMED_API_GW_ENDPOINT"),
    ],
)
def test_heartbeat_cold_start_fails_naming_the_variable(load, env, variable):
    with pytest.raises(Exception, match=variable):
        load("heartbeat", **env)


@pytest.mark.parametrize(
    "indexes",
    [
        "[]",
        '{"events": {"index": "audience", "query_from": "2026-01-01T00:00:00Z"}}',
        '{"history": {"index": "", "query_from": "2026-01-01T00:00:00Z"}}',
        '{"history": {"index": "audience"}}',
        '{"history": {"index": "audience", "query_from": "soon"}}',
        '{"history": {"index": "audience", "query_from": "2026-01-01T00:00:00"}}',
    ],
    ids=["not-an-object", "unknown-channel", "no-index", "no-time", "not-a-time", "no-offset"],
)
def test_a_malformed_audience_index_fails_the_cold_start_naming_it(config, indexes):
    env = {"CHANNELS": HISTORY, "ROUTES": ROUTES, "AUDIENCE_INDEXES": indexes}
    with pytest.raises(config.ConfigError, match="AUDIENCE_INDEXES"):
        config.load_stream_config(env)


def test_an_audience_index_is_read_with_the_moment_from_which_it_is_queried(config):
    indexes = json.dumps({"history": {"index": "audience", "query_from": "2026-01-01T02:00:00Z"}})
    env = {"CHANNELS": HISTORY, "ROUTES": ROUTES, "AUDIENCE_INDEXES": indexes}

    channel = config.load_stream_config(env).channels["history"]

    assert channel.audience_index == config.AudienceIndex("audience", 1767232800.0)


def test_without_audience_indexes_no_channel_has_one(config):
    env = {"CHANNELS": HISTORY, "ROUTES": ROUTES}

    assert config.load_stream_config(env).channels["history"].audience_index is None


def test_endpoint_without_execute_api_host_needs_aws_region(config):
    with pytest.raises(config.ConfigError, match="AWS_REGION"):
        config.load_stream_config({"CONNECTIONS_TABLE": "t", "WS_ENDPOINT": "http://127.0.0.1:1/p"})


def test_max_concurrency_defaults_to_the_benchmarked_default(config):
    env = {"CONNECTIONS_TABLE": "t", "WS_ENDPOINT": ENDPOINT}

    assert config.load_stream_config(env).max_concurrency == LIMITS.DEFAULT_MAX_CONCURRENCY


@pytest.mark.parametrize(
    "legacy_endpoint",
    [
        "kote8jrryb.execute-api.us-east-1.amazonaws.com/prod/",
        "kote8jrryb.execute-api.us-east-1.amazonaws.com/prod",
        "https://kote8jrryb.execute-api.us-east-1.amazonaws.com/prod/",
        "https://kote8jrryb.execute-api.us-east-1.amazonaws.com/prod",
    ],
)
def test_legacy_ws_endpoint_is_normalised_with_or_without_scheme_and_slash(config, legacy_endpoint):
    loaded = config.load_stream_config(
        {"CONNECTIONS_TABLE": "WebSocketConnections", "WS_ENDPOINT": legacy_endpoint}
    )

    [channel] = loaded.channels.values()
    assert channel.endpoint == "https://kote8jrryb.execute-api.us-east-1.amazonaws.com/prod"
    assert channel.region == "us-east-1"
    assert channel.table == "WebSocketConnections"


def test_legacy_single_channel_receives_every_message_type(config):
    loaded = config.load_stream_config({"CONNECTIONS_TABLE": "t", "WS_ENDPOINT": ENDPOINT})

    [key] = loaded.channels
    assert loaded.message_routing == {"incident": (key,), "remediation": (key,)}


@pytest.mark.parametrize("suffix", ["", "/"])
def test_legacy_heartbeat_endpoints_are_normalised(config, suffix):
    loaded = config.load_heartbeat_config(
        {
            "EVENT_API_GW_ENDPOINT": f"egtwu3mkhb.execute-api.us-east-1.amazonaws.com/prod{suffix}",
            "EVENT_CONNECTIONS_TABLE": "WebSocketConnections_v2",
            "HISTORY_API_GW_ENDPOINT": f"https://kote8jrryb.execute-api.us-east-1.amazonaws.com/prod{suffix}",
            "HISTORY_CONNECTIONS_TABLE": "IncidentWebSocketConnections",
        }
    )  # fmt: skip

    assert {key: c.endpoint for key, c in loaded.channels.items()} == {
        "events": "https://egtwu3mkhb.execute-api.us-east-1.amazonaws.com/prod",
        "history": "https://kote8jrryb.execute-api.us-east-1.amazonaws.com/prod",
    }


def test_local_endpoint_keeps_its_scheme_port_and_prefix(config):
    loaded = config.load_stream_config(
        {
            "CHANNELS": channels_env(history=("t", "http://127.0.0.1:4510/history/prod/")),
            "ROUTES": ROUTES,
            "AWS_REGION": "eu-central-1",
        }
    )

    channel = loaded.channels["history"]
    assert channel.endpoint == "http://127.0.0.1:4510/history/prod"
    assert channel.region == "eu-central-1"


def test_signing_region_comes_from_the_execute_api_host(config):
    loaded = config.load_stream_config(
        {"CHANNELS": HISTORY, "ROUTES": ROUTES, "AWS_REGION": "us-east-1"}
    )

    assert loaded.channels["history"].region == "eu-west-1"


def test_legacy_ws_endpoint_delivers_with_a_trailing_slash(load, make_connections_table, fake_api):
    make_connections_table("WebSocketConnections").put_item(Item=connection("c1"))
    processor = load(
        "stream_processor",
        CONNECTIONS_TABLE="WebSocketConnections",
        WS_ENDPOINT=fake_api.endpoint("prod") + "/",
    )
    incidents = IncidentTable()
    incidents.put({"incident_id": "i-1"})
    incidents.put({"incident_id": "i-1", "action": "isolate"})

    processor.handler(incidents.event(), None)

    assert len(fake_api.bodies("c1")) == 2
