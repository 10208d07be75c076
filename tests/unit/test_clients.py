"""AWS clients are built once per container, with explicit timeouts, retries and pool."""

from __future__ import annotations

import json

import pytest

from tests.unit.helpers import channels_env


@pytest.mark.parametrize("name", ["stream_processor", "heartbeat"])
def test_clients_have_timeouts_standard_retries_and_a_pool_sized_to_concurrency(load, name):
    handler = load(
        name,
        CHANNELS=channels_env(history=("t", "https://abc.execute-api.us-east-1.amazonaws.com/p")),
        ROUTES=json.dumps({"incident": ["history"]}),
        MAX_CONCURRENCY="48",
    )

    config = handler.FAN_OUT.dynamodb.meta.config
    assert (config.connect_timeout, config.read_timeout) == (2, 5)
    assert config.retries["mode"] == "standard"
    assert config.max_pool_connections == 48
    assert (handler.FAN_OUT.http.connect_timeout, handler.FAN_OUT.http.read_timeout) == (2, 5)


def test_dynamodb_endpoint_comes_from_aws_endpoint_url_dynamodb(load, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:4566")

    handler = load("connect", CONNECTIONS_TABLE="t")

    assert handler.DYNAMODB.meta.endpoint_url == "http://127.0.0.1:4566"
