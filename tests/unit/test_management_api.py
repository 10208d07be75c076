"""Posting to @connections: transport faults are retried, bounded (SPEC §2.3, §5)."""

from __future__ import annotations

import socket

import pytest
from botocore.credentials import ReadOnlyCredentials
from botocore.httpsession import URLLib3Session

from tests.support.fake_connections_api import FakeConnectionsApi
from tests.support.lambda_zip import load_module

CREDENTIALS = ReadOnlyCredentials("testing", "testing", None)


@pytest.fixture(scope="module")
def management_api():
    return load_module("stream_processor", "incident_ws.management_api")


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def api_for(management_api, endpoint: str, read_timeout: float = 5):
    http = URLLib3Session(timeout=(1, read_timeout))
    return management_api.ConnectionsApi(
        endpoint, "us-east-1", CREDENTIALS, http, sleep=lambda seconds: None
    )


def test_read_timeout_is_retried_then_reported_failed(management_api):
    with FakeConnectionsApi(latency_ms=400) as slow:
        api = api_for(management_api, slow.endpoint(), read_timeout=0.1)

        result = api.post("c1", b"{}")

        assert slow.attempts["c1"] == 4
    assert result.outcome is management_api.Outcome.FAILED
    assert result.retries == 3
    assert result.detail == "ReadTimeoutError"


def test_unreachable_endpoint_is_retried_then_reported_failed(management_api):
    api = api_for(management_api, f"http://127.0.0.1:{closed_port()}/prod")

    result = api.post("c1", b"{}")

    assert result.outcome is management_api.Outcome.FAILED
    assert result.retries == 3
    assert result.detail == "EndpointConnectionError"


def test_connection_id_is_escaped_in_the_path(management_api, fake_api):
    api = api_for(management_api, fake_api.endpoint())

    result = api.post("Qp4L/Ze+q=", b"{}")

    assert result.outcome is management_api.Outcome.DELIVERED
    assert fake_api.bodies("Qp4L/Ze+q=") == [b"{}"]


@pytest.mark.parametrize("retry", [0, 1, 2, 3, 6])
def test_backoff_is_full_jitter_capped(management_api, retry):
    policy = management_api.RetryPolicy(max_retries=3, base_seconds=0.05, cap_seconds=1.0)

    delays = [policy.delay(retry) for _ in range(200)]

    assert min(delays) >= 0
    assert max(delays) <= min(1.0, 0.05 * 2**retry)
