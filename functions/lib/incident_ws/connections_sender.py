"""Posting messages to many WebSocket connections from one thread: the @connections sender.

One event loop (`selectors`, non-blocking sockets, TLS through `ssl`) keeps up to
`max_in_flight` connections' posts going over a bounded set of kept-alive HTTP/1.1
connections (http_nonblocking.py), signed by connection_signer.py. Threads are not needed to
wait for tens of milliseconds per post, and without them a post costs a fraction of the CPU
(dev/bench/profile.md, "The @connections sender").

What a post comes to: 200 is `delivered`; 410 is `gone` (the connection's later messages are
not posted); 429, 500, 502, 503, 504 and transport errors are retried after a full-jitter
backoff, at most `Backoff.max_retries` times, then `failed`; any other status is `failed` at
once; a post never attempted (the deadline passed, or the channel was stopped) is
`unattempted`.

A connection's messages are posted in the order given, each once the one before has an
outcome. No attempt, re-send included, starts at or after the run's deadline, so a run ends
at the latest about one attempt's time (`Timeouts`: connect + response, checked every
`TIMEOUT_CHECK_SECONDS`) after its deadline. Every re-send
is counted in `retries`; it is also a `possible_duplicate` when the request before it had been
written out completely and no response came back: the server may have taken it. A kept-alive
HTTP connection the server had closed is not worth a backoff: the post goes again at once on a
new connection (counted like any re-send).
"""

from __future__ import annotations

import collections
import contextlib
import enum
import heapq
import math
import random
import selectors
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, fields
from typing import NamedTuple

from botocore.credentials import ReadOnlyCredentials

from .connection_signer import ConnectionSigner, amz_date, body_hash
from .http_nonblocking import CLOSED_ERRORS, HttpConnection, Origin, Timeouts
from .limits import (
    DEFAULT_MAX_CONCURRENCY,
    POST_BACKOFF_BASE_SECONDS,
    POST_BACKOFF_CAP_SECONDS,
    POST_IDLE_CONNECTION_SECONDS,
    POST_MAX_RETRIES,
    POST_TIMEOUT_CHECK_SECONDS,
)

__all__ = [
    "Backoff",
    "ChannelPosts",
    "ConnectionsSender",
    "Outcome",
    "PostResult",
    "SendCounts",
    "SendRun",
    "Timeouts",
]

RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
# How often the loop looks for attempts that have run out of time, while any are under way.
TIMEOUT_CHECK_SECONDS = POST_TIMEOUT_CHECK_SECONDS


class Outcome(enum.Enum):
    DELIVERED = "delivered"
    GONE = "gone"
    FAILED = "failed"
    UNATTEMPTED = "unattempted"


class PostResult(NamedTuple):
    """What one message to one connection came to."""

    connection_id: str
    body: bytes  # the very object given to `ChannelPosts.post`
    outcome: Outcome
    retries: int = 0  # re-sends, all of them
    possible_duplicates: int = 0  # re-sends after a request the server may have taken
    detail: str = ""  # the last HTTP status or transport error; "" if never attempted


@dataclass
class SendCounts:
    """A channel's posts by outcome; `retried` and `possible_duplicates` count re-sends."""

    delivered: int = 0
    gone: int = 0
    failed: int = 0
    unattempted: int = 0
    retried: int = 0
    possible_duplicates: int = 0

    def add(self, result: PostResult) -> None:
        outcome = result.outcome
        if outcome is Outcome.DELIVERED:
            self.delivered += 1
        elif outcome is Outcome.GONE:
            self.gone += 1
        elif outcome is Outcome.FAILED:
            self.failed += 1
        else:
            self.unattempted += 1
        self.retried += result.retries
        self.possible_duplicates += result.possible_duplicates

    def as_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with full jitter: retry k sleeps U(0, min(cap, base * 2**k))."""

    max_retries: int = POST_MAX_RETRIES
    base_seconds: float = POST_BACKOFF_BASE_SECONDS
    cap_seconds: float = POST_BACKOFF_CAP_SECONDS

    def delay(self, retry: int, rng: random.Random) -> float:
        return rng.uniform(0, min(self.cap_seconds, self.base_seconds * 2**retry))


class ConnectionsSender:
    """Posts to `@connections` endpoints; one run at a time (`start`, or `send`).

    Build one per container and keep it: its idle HTTP connections are reused by the next
    run. They hold no credentials (each run signs with the credentials it is given), and one
    that died meanwhile costs a re-send, never a message.
    """

    def __init__(
        self,
        max_in_flight: int = DEFAULT_MAX_CONCURRENCY,
        timeouts: Timeouts | None = None,
        backoff: Backoff = Backoff(),
        ssl_context: ssl.SSLContext | None = None,
        idle_seconds: float = POST_IDLE_CONNECTION_SECONDS,
        rng: random.Random | None = None,
    ) -> None:
        if max_in_flight < 1:
            raise ValueError("max_in_flight must be at least 1")
        self.max_in_flight = max_in_flight
        self.timeouts = timeouts or Timeouts()
        self.backoff = backoff
        self.idle_seconds = idle_seconds
        self.ssl_context = ssl_context or ssl.create_default_context()
        self.rng = rng or random.Random()
        self._idle: dict[Origin, list[HttpConnection]] = {}  # between runs
        self._running = threading.Lock()

    def start(self, deadline: float | None = None) -> SendRun:
        """A run whose attempts all start before `deadline` (a `time.monotonic()` value)."""
        return SendRun(self, deadline)

    def send(
        self,
        endpoint: str,
        region: str,
        credentials: ReadOnlyCredentials,
        deliveries: Iterable[tuple[str, Sequence[bytes]]],
        deadline: float | None = None,
        on_result: Callable[[PostResult], None] | None = None,
    ) -> SendCounts:
        """Post each (connection id, bodies) of one endpoint; its counts once all are done."""
        run = self.start(deadline)
        channel = run.channel(endpoint, region, credentials, on_result)
        for connection_id, bodies in deliveries:
            channel.post(connection_id, bodies)
        channel.close()
        run.wait()
        return channel.counts

    def close(self) -> None:
        """Close the idle HTTP connections kept for the next run."""
        with self._running:
            for idle in self._idle.values():
                for http in idle:
                    http.close()
            self._idle.clear()


class ChannelPosts:
    """One endpoint's posts in a run, signed with one set of credentials.

    `post`, `close` and `stop` may be called from any thread; every channel must be closed
    (in a `finally`), or `SendRun.wait` does not return. `on_result` is called on the run's
    thread once per message with its `PostResult`; it must not block or raise (hand slow
    work such as deleting gone connections to another thread, or do it after `wait`).
    """

    def __init__(
        self,
        run: SendRun,
        endpoint: str,
        region: str,
        credentials: ReadOnlyCredentials,
        on_result: Callable[[PostResult], None] | None,
    ) -> None:
        self.origin = Origin.of(endpoint)
        self.signer = ConnectionSigner(endpoint, region, credentials)
        if not self.signer.path_prefix.isascii() or " " in self.signer.path_prefix:
            raise ValueError(f"endpoint path must be URL-escaped ASCII: {endpoint!r}")
        self.counts = SendCounts()
        self.on_result = on_result
        self.closed = False
        self.stopped = False
        self._run = run
        token = self.signer.security_token
        self._fixed_headers = f"Host: {self.signer.host}\r\nContent-Type: application/json\r\n" + (
            f"X-Amz-Security-Token: {token}\r\n" if token is not None else ""
        )

    def post(self, connection_id: str, bodies: Sequence[bytes]) -> None:
        """Queue the messages of one connection, to be posted in this order."""
        if self.closed:
            raise RuntimeError("post() after close()")
        if bodies:
            self._run._submit(_Job(self, connection_id, bodies))

    def close(self) -> None:
        """No more posts for this channel: the run can end once they are done."""
        self.closed = True
        self._run._wake()

    def stop(self) -> None:
        """Give up the channel's remaining posts (e.g. a circuit breaker opened): no further
        attempt or re-send starts; what was not attempted is `unattempted`."""
        self.stopped = True
        self._run._wake()

    def request(self, connection_id: str, body: bytes, payload_hash: str, timestamp: str) -> bytes:
        path, authorization = self.signer.sign(connection_id, payload_hash, timestamp)
        head = (
            f"POST {path} HTTP/1.1\r\n{self._fixed_headers}Content-Length: {len(body)}\r\n"
            f"X-Amz-Date: {timestamp}\r\nAuthorization: {authorization}\r\n\r\n"
        )
        return head.encode() + body

    def _report(self, result: PostResult) -> None:
        self.counts.add(result)
        if self.on_result is not None:
            self.on_result(result)


class _Job:
    """One connection's messages, posted one after another; holds a slot until done."""

    __slots__ = (
        "attempts",
        "backoffs",
        "bodies",
        "channel",
        "connection_id",
        "detail",
        "index",
        "possible_duplicates",
        "renewed",
        "retries",
        "unanswered",
    )

    def __init__(self, channel: ChannelPosts, connection_id: str, bodies: Sequence[bytes]):
        self.channel = channel
        self.connection_id = connection_id
        self.bodies = bodies
        self.index = 0
        self.next_post()

    def next_post(self) -> None:
        self.attempts = 0  # of the current message
        self.retries = 0
        self.backoffs = 0  # retries that took a backoff (the bounded kind)
        self.possible_duplicates = 0
        self.unanswered = False  # its last attempt was written out and not answered
        self.renewed = False  # it was re-sent at once on a new HTTP connection
        self.detail = ""

    def result(self, outcome: Outcome) -> PostResult:
        return PostResult(
            self.connection_id,
            self.bodies[self.index],
            outcome,
            self.retries,
            self.possible_duplicates,
            self.detail,
        )


class SendRun:
    """One invocation's posts: channels are added (`channel`), fed from any thread, and
    `wait` drives them to the end in the calling thread. Add every channel before `wait`."""

    def __init__(self, sender: ConnectionsSender, deadline: float | None) -> None:
        self._sender = sender
        self._deadline = math.inf if deadline is None else deadline
        self._channels: list[ChannelPosts] = []
        self._pending: collections.deque[_Job] = collections.deque()
        self._sleeping = False
        self._wake_socket: socket.socket | None = None

    def channel(
        self,
        endpoint: str,
        region: str,
        credentials: ReadOnlyCredentials,
        on_result: Callable[[PostResult], None] | None = None,
    ) -> ChannelPosts:
        """Posts to `endpoint` (`scheme://host[:port][/stage]`), signed for `region`."""
        channel = ChannelPosts(self, endpoint, region, credentials, on_result)
        self._channels.append(channel)
        return channel

    def wait(self) -> None:
        """Post everything the channels are given until each is closed and done."""
        with self._sender._running:
            loop = _Loop(self._sender, self._deadline, self._channels, self._pending)
            self._wake_socket = loop.wake_sender
            try:
                loop.run(self)
            finally:
                self._wake_socket = None
                loop.close()

    def _submit(self, job: _Job) -> None:
        self._pending.append(job)
        self._wake()

    def _wake(self) -> None:
        # Only a loop asleep in select() needs waking; it looks at its queue before sleeping.
        wake_socket = self._wake_socket
        if self._sleeping and wake_socket is not None:
            # Full: the loop has wake-ups to read. Closed: the run is over.
            with contextlib.suppress(OSError):
                wake_socket.send(b"\0")


class _Loop:
    """The event loop of one `SendRun.wait`."""

    def __init__(
        self,
        sender: ConnectionsSender,
        deadline: float,
        channels: list[ChannelPosts],
        pending: collections.deque[_Job],
    ) -> None:
        self.sender = sender
        self.deadline = deadline
        self.channels = channels
        self.pending = pending
        self.active = 0  # jobs started and not finished
        self.busy: set[HttpConnection] = set()
        self.idle: dict[Origin, list[HttpConnection]] = sender._idle
        sender._idle = {}
        self.backoffs: list[tuple[float, int, _Job]] = []
        self.backoff_count = 0
        self.addresses: dict[Origin, list[tuple[int, tuple]]] = {}
        self.next_address = 0
        self.payload_hashes: dict[bytes, str] = {}
        self.stamp_second = -1
        self.stamp = ""
        self.selector = selectors.DefaultSelector()
        self.wake_receiver, self.wake_sender = socket.socketpair()
        for end in (self.wake_receiver, self.wake_sender):
            end.setblocking(False)
        self.selector.register(self.wake_receiver.fileno(), selectors.EVENT_READ, None)
        for idle in self.idle.values():
            for http in idle:
                self._watch(http)

    # -- the loop ----------------------------------------------------------------------
    def run(self, run: SendRun) -> None:
        select = self.selector.select
        self._drop_closed_idle(select(0))
        next_check = 0.0
        while True:
            # From here to select() a post, close or stop from another thread wakes the loop;
            # before here, the checks below see it.
            run._sleeping = True
            self._start_pending()
            if self._finished():
                return
            timeout = self._sleep_time(next_check)
            if self.pending and self.active < self.sender.max_in_flight:
                timeout = 0
            events = select(timeout)
            run._sleeping = False
            for key, _ in events:
                http = key.data
                if http is None:
                    self._drain_wake()
                elif http.closed:  # closed by an earlier event of this round
                    continue
                elif http.job is None:
                    if not http.still_open():
                        self._discard_idle(http)
                else:
                    end = http.advance()
                    if end is None:
                        self._watch(http)
                    else:
                        self._exchange_ended(http, end)
            now = time.monotonic()
            if self.busy and now >= next_check:
                self._expire(now)
                next_check = now + TIMEOUT_CHECK_SECONDS
            while self.backoffs and self.backoffs[0][0] <= now:
                self._attempt(heapq.heappop(self.backoffs)[2], resend=True)

    def _drop_closed_idle(self, events: list) -> None:
        """Idle HTTP connections kept from an earlier run that the server closed meanwhile."""
        for key, _ in events:
            http = key.data
            if http is not None and not http.still_open():
                self._discard_idle(http)

    def _finished(self) -> bool:
        return (
            not self.active
            and not self.pending
            and all(channel.closed for channel in self.channels)
        )

    def _sleep_time(self, next_check: float) -> float | None:
        wake_at = math.inf
        if self.busy:
            wake_at = next_check
        if self.backoffs:
            wake_at = min(wake_at, self.backoffs[0][0])
        if wake_at == math.inf:
            return None
        return max(0.0, wake_at - time.monotonic())

    def _start_pending(self) -> None:
        limit = self.sender.max_in_flight
        while self.pending and self.active < limit:
            self.active += 1
            self._attempt(self.pending.popleft(), resend=False)

    def _expire(self, now: float) -> None:
        for http in [h for h in self.busy if h.due <= now]:
            self._exchange_ended(http, http.timeout_error())

    def _drain_wake(self) -> None:
        with contextlib.suppress(OSError):
            while self.wake_receiver.recv(4096):
                pass

    # -- posts -------------------------------------------------------------------------
    def _attempt(self, job: _Job, resend: bool, renew: bool = False) -> None:
        """Start an attempt at the job's current message, unless it is too late for one."""
        channel = job.channel
        if channel.stopped or time.monotonic() >= self.deadline:
            self._give_up(job)
            return
        if resend:
            job.retries += 1
            if job.unanswered:
                job.possible_duplicates += 1
        job.attempts += 1
        job.unanswered = False
        body = job.bodies[job.index]
        payload_hash = self.payload_hashes.get(body)
        if payload_hash is None:
            payload_hash = self.payload_hashes[body] = body_hash(body)
        request = channel.request(job.connection_id, body, payload_hash, self._timestamp())
        http = None if renew else self._take_idle(channel.origin)
        if http is None:
            try:
                http = self._open(channel.origin)
            except OSError as error:
                self._attempt_failed(job, type(error).__name__, reused=False, written=False)
                return
        http.job = job
        self.busy.add(http)
        end = http.begin(request)
        if end is None:
            self._watch(http)
        else:
            self._exchange_ended(http, end)

    def _exchange_ended(self, http: HttpConnection, end: int | str) -> None:
        job = http.job
        http.job = None
        self.busy.discard(http)
        if isinstance(end, int):
            if http.keep_alive:
                self._keep_idle(http)
            else:
                self._close(http)
            self._answered(job, end)
        else:
            reused = http.exchanges > 0
            written = http.request_written
            if http.response_started:
                reused = False  # the server answered something: not a connection it had closed
            self._close(http)
            self._attempt_failed(job, end, reused, written)

    def _answered(self, job: _Job, status: int) -> None:
        job.detail = str(status)
        if status == 200:
            self._post_ended(job, Outcome.DELIVERED)
        elif status == 410:
            self._post_ended(job, Outcome.GONE)
        elif status in RETRYABLE_STATUSES:
            self._retry_later(job)
        else:
            self._post_ended(job, Outcome.FAILED)

    def _attempt_failed(self, job: _Job, error: str, reused: bool, written: bool) -> None:
        job.detail = error
        job.unanswered = written
        if reused and error in CLOSED_ERRORS and not job.renewed:
            job.renewed = True
            self._attempt(job, resend=True, renew=True)
        else:
            self._retry_later(job)

    def _retry_later(self, job: _Job) -> None:
        backoff = self.sender.backoff
        if job.backoffs >= backoff.max_retries or job.channel.stopped:
            self._post_ended(job, Outcome.FAILED)
            return
        due = time.monotonic() + backoff.delay(job.backoffs, self.sender.rng)
        if due >= self.deadline:
            self._post_ended(job, Outcome.FAILED)
            return
        job.backoffs += 1
        self.backoff_count += 1
        heapq.heappush(self.backoffs, (due, self.backoff_count, job))

    def _post_ended(self, job: _Job, outcome: Outcome) -> None:
        job.channel._report(job.result(outcome))
        job.index += 1
        if outcome is Outcome.GONE or job.index == len(job.bodies):
            self.active -= 1
            return
        job.next_post()
        self._attempt(job, resend=False)

    def _give_up(self, job: _Job) -> None:
        """The job's current message failed if it was attempted; the rest were not."""
        report = job.channel._report
        if job.attempts:
            report(job.result(Outcome.FAILED))
            job.index += 1
        for index in range(job.index, len(job.bodies)):
            report(PostResult(job.connection_id, job.bodies[index], Outcome.UNATTEMPTED))
        self.active -= 1

    def _timestamp(self) -> str:
        now = time.time()
        if int(now) != self.stamp_second:
            self.stamp_second = int(now)
            self.stamp = amz_date(self.stamp_second)
        return self.stamp

    # -- HTTP connections --------------------------------------------------------------
    def _take_idle(self, origin: Origin) -> HttpConnection | None:
        idle = self.idle.get(origin)
        while idle:
            http = idle.pop()
            if time.monotonic() - http.idle_since < self.sender.idle_seconds:
                return http
            self._close(http)
        return None

    def _keep_idle(self, http: HttpConnection) -> None:
        idle = self.idle.setdefault(http.origin, [])
        if len(idle) >= self.sender.max_in_flight:
            self._close(http)
            return
        http.idle_since = time.monotonic()
        idle.append(http)
        self._watch(http)

    def _discard_idle(self, http: HttpConnection) -> None:
        self.idle[http.origin].remove(http)
        self._close(http)

    def _open(self, origin: Origin) -> HttpConnection:
        addresses = self.addresses.get(origin)
        if addresses is None:
            found = socket.getaddrinfo(origin.host, origin.port, type=socket.SOCK_STREAM)
            addresses = self.addresses[origin] = [(info[0], info[4]) for info in found]
        self.next_address += 1
        address = addresses[self.next_address % len(addresses)]
        context = self.sender.ssl_context if origin.tls else None
        http = HttpConnection.open(origin, address, context, self.sender.timeouts)
        self._watch(http)
        return http

    def _watch(self, http: HttpConnection) -> None:
        if http.events == http.registered:
            return
        if http.registered:
            self.selector.modify(http.fd, http.events, http)
        else:
            self.selector.register(http.fd, http.events, http)
        http.registered = http.events

    def _close(self, http: HttpConnection) -> None:
        if http.registered:
            self.selector.unregister(http.fd)
            http.registered = 0
        http.close()

    def close(self) -> None:
        """Keep the idle HTTP connections for the next run; close everything else."""
        for http in list(self.busy):
            self._close(http)
        for idle in self.idle.values():
            for http in idle:
                if http.registered:
                    self.selector.unregister(http.fd)
                    http.registered = 0
        self.sender._idle = {origin: idle for origin, idle in self.idle.items() if idle}
        self.selector.close()
        self.wake_receiver.close()
        self.wake_sender.close()
