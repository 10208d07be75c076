"""AWS clients are built once per container, with explicit timeouts, retries and pool."""

from __future__ import annotations

import json

import pytest

from tests.unit.helpers import CONNECTIONS_TABLE, LIMITS, channels_env


@pytest.mark.parametrize("name", ["stream_processor", "heartbeat"])
def test_clients_have_timeouts_standard_retries_and_a_pool_sized_to_concurrency(load, name):
    handler = load(
        name,
        CHANNELS=channels_env(history=("t", "https://abc.execute-api.us-east-1.amazonaws.com/p")),
        ROUTES=json.dumps({"incident": ["history"]}),
        MAX_CONCURRENCY="48",
    )

    config = handler.FAN_OUT.dynamodb.meta.config
    assert (config.connect_timeout, config.read_timeout) == (
        LIMITS.FAN_OUT_DYNAMODB_CONNECT_TIMEOUT_SECONDS,
        LIMITS.FAN_OUT_DYNAMODB_READ_TIMEOUT_SECONDS,
    )
    assert config.retries == {"mode": "standard", "total_max_attempts": 2}
    assert config.max_pool_connections == 48
    timeouts = handler.FAN_OUT.sender.timeouts
    assert (timeouts.connect_seconds, timeouts.response_seconds) == (
        LIMITS.POST_CONNECT_TIMEOUT_SECONDS,
        LIMITS.POST_READ_TIMEOUT_SECONDS,
    )
    assert handler.FAN_OUT.sender.max_in_flight == 48


@pytest.mark.parametrize("name", ["connect", "disconnect"])
def test_connect_and_disconnect_clients_have_timeouts_and_standard_retries(load, name):
    handler = load(name, CONNECTIONS_TABLE=CONNECTIONS_TABLE, AUTHORIZATION_TYPE="none")

    config = handler.DYNAMODB.meta.config
    assert (config.connect_timeout, config.read_timeout) == (2, 5)
    assert config.retries == {"mode": "standard", "total_max_attempts": 3}


def test_the_deadline_margin_covers_the_longest_request_in_flight():
    assert LIMITS.LONGEST_POST_ATTEMPT_SECONDS == 1 + 2
    assert LIMITS.LONGEST_DYNAMODB_CALL_SECONDS == 2 * (1 + 2) + 1  # two attempts, 1 s backoff
    assert LIMITS.DEADLINE_MARGIN_SECONDS == 7.5


def test_dynamodb_endpoint_comes_from_aws_endpoint_url_dynamodb(load, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:4566")

    handler = load("connect", CONNECTIONS_TABLE="t", AUTHORIZATION_TYPE="none")

    assert handler.DYNAMODB.meta.endpoint_url == "http://127.0.0.1:4566"
