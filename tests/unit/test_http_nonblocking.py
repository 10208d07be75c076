"""The sender's HTTP/1.1 client: what it reads from a response, and what it refuses to."""

from __future__ import annotations

import pytest
from botocore.credentials import ReadOnlyCredentials

from tests.support.faulty_connections_endpoint import ScriptedServer
from tests.support.lambda_zip import load_module

CREDENTIALS = ReadOnlyCredentials("AKIDRAW", "raw-secret", None)
OK = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"


@pytest.fixture(scope="module")
def http():
    return load_module("stream_processor", "incident_ws.http_nonblocking")


@pytest.fixture(scope="module")
def sender_module():
    return load_module("stream_processor", "incident_ws.connections_sender")


@pytest.mark.parametrize(
    ("received", "expected"),
    [
        (b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", (200, True)),
        (b"HTTP/1.1 410 Gone\r\ncontent-length: 2\r\nX-A: b\r\n\r\n{}", (410, True)),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: Close\r\n\r\n", (200, False)),
        (b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", (200, False)),
        (b"HTTP/1.1 204 No Content\r\n\r\n", (204, True)),
        (b"HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n", (200, True)),
    ],
    ids=["200", "410-body", "connection-close", "http-1.0", "204", "no-reason"],
)
def test_a_complete_response_gives_its_status_length_and_reuse(http, received, expected):
    status, keep_alive = expected

    assert http.read_response(bytearray(received)) == (status, len(received), keep_alive)


def test_interim_1xx_responses_are_skipped(http):
    received = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"

    assert http.read_response(received) == (200, len(received), True)


@pytest.mark.parametrize(
    "received",
    [b"HTTP/1.1 200 OK\r\nContent-Len", b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n{}"],
    ids=["head", "body"],
)
def test_an_incomplete_response_is_waited_for(http, received):
    assert http.read_response(received) is None


@pytest.mark.parametrize(
    "received",
    [
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\n\r\nthe body runs to the end of the connection",
        b"HTTP/1.1 403 Forbidden\r\nContent-Length: 99999999\r\n\r\n",
    ],
    ids=["chunked", "until-close", "huge-body"],
)
def test_a_response_of_unknown_length_gives_its_status_and_is_not_reused(http, received):
    status, _, keep_alive = http.read_response(received)

    assert (status, keep_alive) == (int(received[9:12]), False)


@pytest.mark.parametrize(
    "received",
    [
        b"garbage\r\n\r\n",
        b"HTTP/2 200\r\n\r\n",
        b"HTTP/1.1 2000 OK\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: x1\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n{}",
        b"HTTP/1.1 101 Switching Protocols\r\n\r\n",
        b"HTTP/1.1 200 OK\r\n" + b"X-Long: " + b"a" * 70000,
    ],
    ids=["not-http", "http2", "status", "length", "two-lengths", "101", "head-too-long"],
)
def test_what_cannot_be_read_is_an_invalid_response(http, received):
    with pytest.raises(http.InvalidResponse):
        http.read_response(received)


def test_an_unreadable_response_is_a_transport_error_and_retried(sender_module):
    sender = sender_module.ConnectionsSender(1, backoff=sender_module.Backoff(3, 0.001, 0.004))
    results = []

    with ScriptedServer([b"garbage\r\n\r\n"] * 3 + [OK]) as server:
        sender.send(
            server.url, "us-east-1", CREDENTIALS, [("c1", [b"{}"])], on_result=results.append
        )

    assert [(r.outcome.value, r.retries, r.possible_duplicates) for r in results] == [
        ("delivered", 3, 3)
    ]
    assert (server.requests, server.connections) == (4, 4)


def test_a_connection_whose_response_length_is_unknown_is_not_reused(sender_module):
    chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
    sender = sender_module.ConnectionsSender(1)

    with ScriptedServer([chunked, chunked]) as server:
        counts = sender.send(server.url, "us-east-1", CREDENTIALS, [("c1", [b"{}", b"[]"])])

    assert counts.delivered == 2
    assert server.connections == 2
