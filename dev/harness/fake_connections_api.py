"""A local stand-in for API Gateway's `@connections` management API.

moto never answers 410 Gone and does not see posts sent outside boto3 clients, so this is
the one fake: `POST /<prefix>/@connections/{connectionId}` answers like API Gateway —
200 and the message recorded (connection id, body, arrival order); 403 without a SigV4
`Authorization` header; 413 over the emulator's message limit (128 KB). Faults are injected
per connection id: a status for every attempt (410, 403, 413, ...), or a script of what each
attempt gets in turn — a status, `RESET` (the TCP connection is reset before the request is
read), `DROP` (the request is read and its message delivered, then the connection is closed
without an answer) or `Slow(seconds, status)` (answered late: longer than the client's read
timeout, it is a black hole). `GET /_stats` reports what arrived; `answers` what each attempt
got. Optionally it speaks TLS (a `TestCa`'s certificate for 127.0.0.1 and localhost) and
enforces an account-wide request rate as API Gateway throttles: a token bucket of
`rate_limit` requests per second holding half a second's worth, and 429 for a post that finds
it empty (nothing is delivered).

In tests: `with FakeConnectionsApi() as api: ... api.endpoint() ...` (a background thread).
As a process (the benchmark): `start_fake_connections_api(output, latency_ms=20)`, which runs
`python -m dev.harness fake-connections-api` (see `serve_until_signal`); `tls_dir` and
`rate_limit` turn on TLS and throttling.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import enum
import signal
import socket
import ssl
import struct
import threading
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from dev.emulator import MAX_MESSAGE_BYTES
from dev.harness.processes import ManagedProcess, Server, stopped_on_error

CONNECTIONS_PATH = "/@connections/"


@dataclass(frozen=True)
class Received:
    connection_id: str
    body: bytes
    order: int


class Fault(enum.Enum):
    RESET = "reset"  # the TCP connection is reset before the request is read: nothing arrives
    DROP = "drop"  # the request is read and its message delivered; the connection closes unanswered


RESET, DROP = Fault.RESET, Fault.DROP


@dataclass(frozen=True)
class Slow:
    """Answered `status` after `seconds`. A 200 delivers the message when the request is read,
    as API Gateway forwards it before answering: a client that stops waiting cannot know."""

    seconds: float
    status: int = 200


Step = int | Fault | Slow


class FakeConnectionsApi:
    def __init__(
        self,
        latency_ms: float = 0,
        host: str = "127.0.0.1",
        port: int = 0,
        tls: ssl.SSLContext | None = None,
        rate_limit: float | None = None,
        keep_bodies: bool = True,
    ) -> None:
        self.latency_seconds = latency_ms / 1000
        self.host, self.port = host, port
        self.tls = tls
        self.throttle = None if rate_limit is None else TokenBucket(rate_limit, rate_limit / 2)
        self.throttled = 0  # posts answered 429 by the rate limit
        self.url = ""
        self.received: list[Received] = []
        self.keep_bodies = keep_bodies  # False: a long benchmark keeps only the counts
        self.copies: collections.Counter[str] = collections.Counter()
        self.attempts: collections.Counter[str] = collections.Counter()
        self.answers: dict[str, list[Step]] = collections.defaultdict(list)  # per attempt, in order
        self.in_flight = 0
        self.max_in_flight = 0  # the most posts being answered at once
        self._always: dict[str, Step] = {}
        self._scripts: dict[str, tuple[Step, ...]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stopped: asyncio.Event | None = None

    # -- behaviour per connection id ---------------------------------------------------
    def gone(self, *connection_ids: str) -> None:
        """These ids answer 410 Gone (the client has disconnected)."""
        self._always.update(dict.fromkeys(connection_ids, 410))

    def respond(self, connection_id: str, step: Step) -> None:
        """Every post to this id gets `step`: a status (403, 413...), a fault or a slow answer."""
        self._always[connection_id] = step

    def fail_first(self, connection_id: str, status: int, attempts: int) -> None:
        """The first `attempts` posts to this id answer `status` (429, 500...), then 200."""
        self.script(connection_id, *[status] * attempts)

    def script(self, connection_id: str, *steps: Step) -> None:
        """Post n to this id gets `steps[n - 1]`; the posts after the last step are answered
        normally."""
        self._scripts[connection_id] = steps

    def respond_normally(self) -> None:
        """Forget every configured behaviour: all ids answer 200 again."""
        self._always.clear()
        self._scripts.clear()

    # -- what arrived ------------------------------------------------------------------
    def endpoint(self, prefix: str = "prod") -> str:
        return f"{self.url}/{prefix}" if prefix else self.url

    def bodies(self, connection_id: str) -> list[bytes]:
        return [r.body for r in self.received if r.connection_id == connection_id]

    def stats(self) -> dict:
        if self.keep_bodies:
            counts = collections.Counter(r.connection_id for r in self.received)
        else:
            counts = self.copies
        stats = {"total": counts.total(), "connections": dict(counts)}
        return stats if self.throttle is None else {**stats, "throttled": self.throttled}

    def answered(self, step: Step) -> int:
        """How many attempts, to any id, got `step`."""
        return sum(answers.count(step) for answers in self.answers.values())

    # -- HTTP --------------------------------------------------------------------------
    def app(self) -> web.Application:
        app = web.Application(client_max_size=4 * MAX_MESSAGE_BYTES)
        app.router.add_get("/_stats", self._stats)
        app.router.add_post("/{path:.*}", self._post)
        return app

    async def _stats(self, request: web.Request) -> web.Response:
        return web.json_response(self.stats())

    async def _post(self, request: web.Request) -> web.Response:
        _, marker, escaped_id = request.rel_url.raw_path.rpartition(CONNECTIONS_PATH)
        if not marker or not escaped_id or "/" in escaped_id:
            return _error(404, "NotFoundException", "No method found matching route")
        connection_id = urllib.parse.unquote(escaped_id)
        if not request.headers.get("Authorization", "").startswith("AWS4-HMAC-SHA256 "):
            return _error(403, "ForbiddenException", "Missing Authentication Token")
        self.attempts[connection_id] += 1
        if self.throttle is not None and not self.throttle.take(time.monotonic()):
            self.throttled += 1
            self.answers[connection_id].append(429)
            await request.read()
            return _error(429, "LimitExceededException", "Rate exceeded")
        step = self._step_for(connection_id)
        if step is RESET:
            self.answers[connection_id].append(step)
            return _reset(request)
        body = await request.read()
        if step is None:
            step = 413 if len(body) > MAX_MESSAGE_BYTES else 200
        self.answers[connection_id].append(step)
        status = step.status if isinstance(step, Slow) else step
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.latency_seconds:
                await asyncio.sleep(self.latency_seconds)
            if status == 200 or step is DROP:
                self._receive(connection_id, body)
            if isinstance(step, Slow):
                await asyncio.sleep(step.seconds)
        finally:
            self.in_flight -= 1
        if step is DROP:
            request.transport.close()
        elif status != 200:
            return _error(status, _ERROR_TYPES.get(status, "BadRequestException"), "fake")
        return web.Response(status=200)

    def _receive(self, connection_id: str, body: bytes) -> None:
        if self.keep_bodies:
            self.received.append(Received(connection_id, body, len(self.received)))
        else:
            self.copies[connection_id] += 1

    def _step_for(self, connection_id: str) -> Step | None:
        """What this attempt gets; None: answered normally (200, or 413 when too large)."""
        if connection_id in self._always:
            return self._always[connection_id]
        script = self._scripts.get(connection_id, ())
        attempt = self.attempts[connection_id]
        return script[attempt - 1] if attempt <= len(script) else None

    # -- running -----------------------------------------------------------------------
    async def serve(self, started: threading.Event | None = None) -> None:
        """Serve until `stop()`; `self.url` is set once the socket is bound."""
        self._loop = asyncio.get_running_loop()
        self._stopped = asyncio.Event()
        runner = web.AppRunner(self.app(), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, self.host, self.port, ssl_context=self.tls).start()
        host, port = runner.addresses[0][:2]
        self.url = f"{'https' if self.tls else 'http'}://{host}:{port}"
        if started:
            started.set()
        try:
            await self._stopped.wait()
        finally:
            await runner.cleanup()

    def stop(self) -> None:
        if self._loop and self._stopped:
            self._loop.call_soon_threadsafe(self._stopped.set)

    def __enter__(self) -> FakeConnectionsApi:
        started = threading.Event()
        self._thread = threading.Thread(
            target=asyncio.run, args=(self.serve(started),), name="fake-connections-api"
        )
        self._thread.start()
        if not started.wait(timeout=10):
            raise RuntimeError("fake @connections API did not start")
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
        if self._thread:
            self._thread.join(timeout=10)


_ERROR_TYPES = {
    403: "ForbiddenException",
    410: "GoneException",
    413: "PayloadTooLargeException",
    429: "LimitExceededException",
    500: "InternalServerErrorException",
}


def _reset(request: web.Request) -> web.Response:
    """Close the client's TCP connection with a reset; the response is never written."""
    sock = request.transport.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    request.transport.abort()
    return web.Response(status=200)


def _error(status: int, error_type: str, message: str) -> web.Response:
    return web.json_response(
        {"message": message}, status=status, headers={"x-amzn-ErrorType": error_type}
    )


def serve_until_signal(fake: FakeConnectionsApi) -> None:
    """Serve in this process: print the base URL as the first stdout line, stop on SIGINT/TERM."""
    started = threading.Event()

    async def run() -> None:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, fake.stop)
        server = asyncio.create_task(fake.serve(started))
        while not started.is_set() and not server.done():
            await asyncio.sleep(0.01)
        if fake.url:
            print(fake.url, flush=True)
        await server

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())


class TokenBucket:
    """`rate` tokens a second, at most `burst` kept; a request takes one or is refused."""

    def __init__(self, rate: float, burst: float) -> None:
        self.rate, self.burst = rate, burst
        self.tokens = burst
        self.updated: float | None = None

    def take(self, now: float) -> bool:
        if self.updated is not None:
            self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


def start_fake_connections_api(
    output: Path,
    latency_ms: float = 0,
    tls_dir: Path | None = None,
    rate_limit: float | None = None,
) -> Server:
    """The fake in a process of its own (so its event loop has a core to itself); with
    `tls_dir`, over TLS with a throwaway CA written there (`ca.pem`, for the clients)."""
    arguments = ["dev.harness", "fake-connections-api", "--latency-ms", str(latency_ms)]
    if tls_dir is not None:
        arguments += ["--tls-dir", str(tls_dir)]
    if rate_limit is not None:
        arguments += ["--rate-limit", str(rate_limit)]
    process = ManagedProcess("fake @connections API", arguments, output)
    with stopped_on_error(process):
        url = process.wait_for_output(_first_url, "the fake @connections API to print its URL")
    return Server(process, url)


def _first_url(output: str) -> str | None:
    for line in output.splitlines():
        if line.startswith(("http://", "https://")):
            return line.strip().rstrip("/")
    return None
