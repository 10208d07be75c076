"""A local `@connections` endpoint that misbehaves on request, for the sender's tests.

`POST /<stage>/@connections/{connectionId}` is checked like API Gateway checks it (a SigV4
signature over the request, recomputed here with botocore's signer, and a fresh `X-Amz-Date`:
otherwise 403) and then answered as scripted per connection id, attempt by attempt: a status
(200 takes the message), or a fault — reset before the body is read, reset after it was taken,
no answer at all, a slow answer, or an answer after which the server silently closes the
kept-alive connection. `ScriptedServer` answers with raw bytes, for what no HTTP server
library sends. Everything that arrives is recorded, so a test can compare what the
sender reports with what the server saw.

    with FaultyConnectionsEndpoint(credentials, tls=ca) as endpoint:
        endpoint.script("c1", 500, Fault.RESET_AFTER_READ)   # then 200 for ever
        ... endpoint.url("prod") ...
"""

from __future__ import annotations

import asyncio
import collections
import datetime
import enum
import socket
import threading
import time
import urllib.parse
from dataclasses import dataclass

from aiohttp import web
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import ReadOnlyCredentials

from dev.harness.tls_test_ca import TestCa

CONNECTIONS_PATH = "/@connections/"
MAX_CLOCK_SKEW = datetime.timedelta(minutes=5)


class Fault(enum.Enum):
    RESET_BEFORE_READ = "reset before the body is read"  # nothing taken
    RESET_AFTER_READ = "reset after the message was taken"
    BLACK_HOLE = "message taken, never answered"
    CLOSE_AFTER_ANSWER = "200, then the kept-alive connection silently closed"


@dataclass(frozen=True)
class Slow:
    """Answer `status` after `seconds` more than the endpoint's latency."""

    seconds: float
    status: int = 200


Action = int | Fault | Slow
TAKES_MESSAGE = (Fault.RESET_AFTER_READ, Fault.BLACK_HOLE, Fault.CLOSE_AFTER_ANSWER)


@dataclass(frozen=True)
class Seen:
    """One request whose head arrived, in arrival order."""

    connection_id: str
    body: bytes | None  # None: reset before it was read
    action: Action
    signature_valid: bool | None  # None: reset before the request was read
    http_connection: int  # which TCP connection carried it (numbered from 0)
    at: float  # time.monotonic() when its head arrived


class FaultyConnectionsEndpoint:
    def __init__(
        self,
        *credentials: ReadOnlyCredentials,
        region: str = "us-east-1",
        latency_ms: float = 0,
        tls: TestCa | None = None,
    ) -> None:
        self.secrets = {c.access_key: c for c in credentials}
        self.region = region
        self.latency = latency_ms / 1000
        self.tls = tls
        self.base_url = ""
        self.seen: list[Seen] = []
        self.taken: list[tuple[str, bytes]] = []  # messages the server took, in order
        self.in_flight = 0
        self.max_in_flight = 0
        self._scripts: dict[str, collections.deque[Action]] = {}
        self._always: dict[str, Action] = {}
        self._transports: dict[int, int] = {}  # id(transport) -> its number
        self._open_transports: dict[int, asyncio.BaseTransport] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopped: asyncio.Event | None = None
        self._thread: threading.Thread | None = None

    # -- behaviour ---------------------------------------------------------------------
    def script(self, connection_id: str, *actions: Action) -> None:
        """Answer the next attempts for this id with `actions`, one each, then as before."""
        self._scripts.setdefault(connection_id, collections.deque()).extend(actions)

    def always(self, connection_id: str, action: Action) -> None:
        """Answer every (unscripted) attempt for this id with `action`."""
        self._always[connection_id] = action

    def drop_connections(self) -> None:
        """Close every open TCP connection now, as a server does with idle ones."""
        assert self._loop is not None
        done = threading.Event()

        def close_all() -> None:
            for transport in self._open_transports.values():
                transport.close()
            done.set()

        self._loop.call_soon_threadsafe(close_all)
        done.wait(5)

    # -- what arrived ------------------------------------------------------------------
    def url(self, stage: str = "prod") -> str:
        return f"{self.base_url}/{stage}" if stage else self.base_url

    def attempts(self, connection_id: str) -> int:
        return sum(1 for s in self.seen if s.connection_id == connection_id)

    def taken_by(self, connection_id: str) -> list[bytes]:
        return [body for cid, body in self.taken if cid == connection_id]

    @property
    def http_connections(self) -> int:
        return len(self._transports)

    # -- HTTP --------------------------------------------------------------------------
    async def _post(self, request: web.Request) -> web.StreamResponse:
        _, marker, escaped_id = request.raw_path.rpartition(CONNECTIONS_PATH)
        if not marker or not escaped_id or "/" in escaped_id:
            return web.Response(status=404)
        arrived = time.monotonic()
        connection_id = urllib.parse.unquote(escaped_id)
        transport = request.transport
        assert transport is not None
        number = self._transports.setdefault(id(transport), len(self._transports))
        self._open_transports[id(transport)] = transport
        action = self._action_for(connection_id)
        if action is Fault.RESET_BEFORE_READ:
            self.seen.append(Seen(connection_id, None, action, None, number, arrived))
            transport.abort()
            return web.Response(status=500)  # goes nowhere: the connection is gone
        body = await request.read()
        valid = self._signature_valid(request, body)
        self.seen.append(Seen(connection_id, body, action, valid, number, arrived))
        if not valid:
            return web.json_response({"message": "Forbidden"}, status=403)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await asyncio.sleep(self.latency + (action.seconds if isinstance(action, Slow) else 0))
        finally:
            self.in_flight -= 1
        status = action.status if isinstance(action, Slow) else action
        if status == 200 or action in TAKES_MESSAGE:
            self.taken.append((connection_id, body))
        if action is Fault.RESET_AFTER_READ:
            transport.abort()
            return web.Response(status=500)
        if action is Fault.BLACK_HOLE:
            assert self._stopped is not None
            await self._stopped.wait()
            transport.abort()
            return web.Response(status=500)
        if action is Fault.CLOSE_AFTER_ANSWER:
            asyncio.get_running_loop().call_later(0.002, transport.close)
            return web.Response(status=200)
        if status == 200:
            return web.Response(status=200)
        return web.json_response({"message": "fake"}, status=status)

    def _action_for(self, connection_id: str) -> Action:
        script = self._scripts.get(connection_id)
        if script:
            return script.popleft()
        return self._always.get(connection_id, 200)

    def _signature_valid(self, request: web.Request, body: bytes) -> bool:
        """Recompute the signature with botocore from what arrived, as API Gateway would."""
        authorization = request.headers.get("Authorization", "")
        timestamp = request.headers.get("X-Amz-Date", "")
        access_key = authorization.partition("Credential=")[2].partition("/")[0]
        credentials = self.secrets.get(access_key)
        if credentials is None or not _fresh(timestamp):
            return False
        headers = {"Content-Type": request.headers.get("Content-Type", ""), "X-Amz-Date": timestamp}
        if "X-Amz-Security-Token" in request.headers:
            headers["X-Amz-Security-Token"] = request.headers["X-Amz-Security-Token"]
        if headers.get("X-Amz-Security-Token") != (credentials.token or None):
            return False
        scheme = "https" if self.tls else "http"
        signed = AWSRequest(
            method=request.method,
            url=f"{scheme}://{request.host}{request.raw_path}",
            data=body,
            headers=headers,
        )
        signed.context["timestamp"] = timestamp
        signer = SigV4Auth(credentials, "execute-api", self.region)
        string_to_sign = signer.string_to_sign(signed, signer.canonical_request(signed))
        expected = (
            f"AWS4-HMAC-SHA256 Credential={signer.scope(signed)}, "
            f"SignedHeaders={signer.signed_headers(signer.headers_to_sign(signed))}, "
            f"Signature={signer.signature(string_to_sign, signed)}"
        )
        return authorization == expected

    # -- running -----------------------------------------------------------------------
    async def _serve(self, started: threading.Event) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopped = asyncio.Event()
        app = web.Application(client_max_size=1024 * 1024)
        app.router.add_post("/{path:.*}", self._post)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await runner.setup()
        context = self.tls.server_context() if self.tls else None
        site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context)
        await site.start()
        host, port = runner.addresses[0][:2]
        self.base_url = f"{'https' if self.tls else 'http'}://{host}:{port}"
        started.set()
        try:
            await self._stopped.wait()
        finally:
            await runner.cleanup()

    def __enter__(self) -> FaultyConnectionsEndpoint:
        started = threading.Event()
        self._thread = threading.Thread(
            target=asyncio.run, args=(self._serve(started),), name="faulty-endpoint"
        )
        self._thread.start()
        if not started.wait(timeout=10):
            raise RuntimeError("the faulty @connections endpoint did not start")
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._loop and self._stopped:
            self._loop.call_soon_threadsafe(self._stopped.set)
        if self._thread:
            self._thread.join(timeout=10)


class ScriptedServer:
    """A raw HTTP server, for answers no HTTP server library gives: it reads each request and
    answers it with the next scripted bytes, or closes the connection on `None`."""

    def __init__(self, answers: list[bytes | None]) -> None:
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
                answer = self.answers.pop(0)
                if answer is None:
                    return
                client.sendall(answer)

    def __enter__(self) -> ScriptedServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._listener.close()


def _fresh(timestamp: str) -> bool:
    try:
        signed_at = datetime.datetime.strptime(timestamp, "%Y%m%dT%H%M%SZ")
    except ValueError:
        return False
    now = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
    return abs(now - signed_at) <= MAX_CLOCK_SKEW
