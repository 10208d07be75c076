"""Posting to @connections: transport faults are retried, bounded."""

from __future__ import annotations

import http.server
import socket
import threading
from typing import ClassVar

import pytest
from botocore.credentials import ReadOnlyCredentials

from dev.harness.fake_connections_api import FakeConnectionsApi
from tests.support.lambda_zip import load_module

CREDENTIALS = ReadOnlyCredentials("testing", "testing", None)


@pytest.fixture(scope="module")
def connection_poster():
    return load_module("stream_processor", "incident_ws.connection_poster")


@pytest.fixture(scope="module")
def http_keepalive():
    return load_module("stream_processor", "incident_ws.http_keepalive")


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def poster_for(connection_poster, endpoint: str, read_timeout: float = 5):
    http = connection_poster.KeepAliveHttp(connect_timeout=1, read_timeout=read_timeout)
    return connection_poster.ConnectionPoster(
        endpoint, "us-east-1", CREDENTIALS, http, sleep=lambda seconds: None
    )


def test_read_timeout_is_retried_then_reported_failed(connection_poster):
    with FakeConnectionsApi(latency_ms=400) as slow:
        poster = poster_for(connection_poster, slow.endpoint(), read_timeout=0.1)

        result = poster.post("c1", b"{}")

        assert slow.attempts["c1"] == 4
    assert result.outcome is connection_poster.PostOutcome.FAILED
    assert result.retries == 3
    assert result.detail == "TimeoutError"


def test_unreachable_endpoint_is_retried_then_reported_failed(connection_poster):
    poster = poster_for(connection_poster, f"http://127.0.0.1:{closed_port()}/prod")

    result = poster.post("c1", b"{}")

    assert result.outcome is connection_poster.PostOutcome.FAILED
    assert result.retries == 3
    assert result.detail == "ConnectionRefusedError"


def test_connection_id_is_escaped_in_the_path(connection_poster, fake_api):
    poster = poster_for(connection_poster, fake_api.endpoint())

    result = poster.post("Qp4L/Ze+q=", b"{}")

    assert result.outcome is connection_poster.PostOutcome.DELIVERED
    assert fake_api.bodies("Qp4L/Ze+q=") == [b"{}"]


@pytest.mark.parametrize("retry", [0, 1, 2, 3, 6])
def test_backoff_is_full_jitter_capped(connection_poster, retry):
    policy = connection_poster.RetryPolicy(max_retries=3, base_seconds=0.05, cap_seconds=1.0)

    delays = [policy.delay(retry) for _ in range(200)]

    assert min(delays) >= 0
    assert max(delays) <= min(1.0, 0.05 * 2**retry)


class ClosesAfterEachResponse(http.server.BaseHTTPRequestHandler):
    """A server that drops every kept-alive connection after answering, without saying so."""

    protocol_version = "HTTP/1.1"
    requests: ClassVar[list[str]] = []

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        self.requests.append(self.path)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()
        self.close_connection = True

    def log_message(self, *args) -> None:
        pass


class ClosingServer(http.server.ThreadingHTTPServer):
    """Counts the connections it has closed, so that a test can wait for the close."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), ClosesAfterEachResponse)
        self.closed = threading.Semaphore(0)

    def shutdown_request(self, request) -> None:
        super().shutdown_request(request)
        self.closed.release()


def test_a_kept_alive_http_connection_the_server_closed_is_replaced_without_a_retry(
    connection_poster,
):
    server = ClosingServer()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        poster = poster_for(connection_poster, f"http://127.0.0.1:{server.server_port}/prod")
        results = []
        for n in range(3):
            results.append(poster.post(f"c{n}", b"{}"))
            assert server.closed.acquire(timeout=5)  # closed before the next post
    finally:
        server.shutdown()
        server.server_close()

    assert [r.outcome for r in results] == [connection_poster.PostOutcome.DELIVERED] * 3
    assert [r.retries for r in results] == [0, 0, 0]
    assert ClosesAfterEachResponse.requests == [f"/prod/@connections/c{n}" for n in range(3)]


def test_no_attempt_starts_when_the_caller_allows_none(connection_poster, fake_api):
    poster = poster_for(connection_poster, fake_api.endpoint())

    result = poster.post("c1", b"{}", may_start=lambda seconds: False)

    assert result.outcome is connection_poster.PostOutcome.UNATTEMPTED
    assert fake_api.attempts["c1"] == 0


def test_no_retry_starts_once_the_caller_allows_no_more(connection_poster, fake_api):
    fake_api.respond("c1", 503)
    poster = poster_for(connection_poster, fake_api.endpoint())
    starts = iter([True, True, False])

    result = poster.post("c1", b"{}", may_start=lambda seconds: next(starts))

    assert (result.outcome, result.retries) == (connection_poster.PostOutcome.FAILED, 1)
    assert fake_api.attempts["c1"] == 2


def test_each_thread_keeps_its_http_connection_alive_between_posts(http_keepalive, fake_api):
    http = http_keepalive.KeepAliveHttp(connect_timeout=1, read_timeout=5)
    url = f"{fake_api.endpoint()}/@connections/c1"
    headers = {"Authorization": "AWS4-HMAC-SHA256 test", "Content-Type": "application/json"}

    http.post(url, headers, b"{}")
    [first] = http._http_connections.values()
    http.post(url, headers, b"{}")

    assert list(http._http_connections.values()) == [first]
    assert first.sock is not None
