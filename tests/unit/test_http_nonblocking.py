"""The sender's HTTP/1.1 client: what it reads from a response, and what it refuses to."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest
from botocore.credentials import ReadOnlyCredentials

from tests.support.lambda_zip import load_module

CREDENTIALS = ReadOnlyCredentials("AKIDRAW", "raw-secret", None)


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


class ScriptedServer:
    """A raw TCP server: reads each request and answers it with the next scripted bytes, for
    answers no real HTTP server library would give."""

    def __init__(self, answers: list[bytes]) -> None:
        self.answers = answers
        self.requests = 0
        self.connections = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}/prod"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._answer, args=(client,), daemon=True).start()

    def _answer(self, client: socket.socket) -> None:
        with client:
            received = b""
            while self.answers:
                while b"\r\n\r\n" not in received:
                    data = client.recv(65536)
                    if not data:
                        return
                    received += data
                head, _, rest = received.partition(b"\r\n\r\n")
                length = int(head.lower().partition(b"content-length: ")[2].split(b"\r\n")[0])
                while len(rest) < length:
                    rest += client.recv(65536)
                received = rest[length:]
                self.requests += 1
                client.sendall(self.answers.pop(0))

    def close(self) -> None:
        self._listener.close()


@pytest.fixture
def scripted() -> Iterator[type[ScriptedServer]]:
    servers = []

    def start(answers: list[bytes]) -> ScriptedServer:
        servers.append(ScriptedServer(answers))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def test_an_unreadable_response_is_a_transport_error_and_retried(sender_module, scripted):
    server = scripted([b"garbage\r\n\r\n"] * 3 + [b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"])
    sender = sender_module.ConnectionsSender(1, backoff=sender_module.Backoff(3, 0.001, 0.004))

    results = []
    sender.send(server.url, "us-east-1", CREDENTIALS, [("c1", [b"{}"])], on_result=results.append)

    assert [(r.outcome.value, r.retries, r.possible_duplicates) for r in results] == [
        ("delivered", 3, 3)
    ]
    assert (server.requests, server.connections) == (4, 4)


def test_a_connection_whose_response_length_is_unknown_is_not_reused(sender_module, scripted):
    chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
    server = scripted([chunked, chunked])
    sender = sender_module.ConnectionsSender(1)

    counts = sender.send(server.url, "us-east-1", CREDENTIALS, [("c1", [b"{}", b"[]"])])

    assert counts.delivered == 2
    assert server.connections == 2
