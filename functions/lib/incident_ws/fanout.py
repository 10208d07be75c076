"""Sending messages to the live connections of channels: the delivery policy.

Who receives what and in which order is decided here: a connection gets the messages its
principal's account scope and its own account and region filters accept (`accepts`, the one
rule live delivery, replay and presence share), one after another in the order given (stream
order); a 410 marks the connection gone, deletes it and ends its deliveries. How
far a channel's pass went is decided here too: it stops starting work at the invocation's
deadline, and on a channel whose endpoint fails post after post (its circuit breaker); what
was not attempted is counted, and a `ChannelReport` says which messages reached no connection
of a channel whose pass was incomplete, and when the last post that delivered each message
ended (for its end-to-end latency). How posts are signed, sent and retried is
connections_sender.py. docs/handlers.md states the rules.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from .clients import connections_sender, fan_out_dynamodb_client, frozen_credentials
from .config import ChannelConfig, FanOutConfig
from .connection_store import Connection, ConnectionScan, ConnectionStore, ScanSegment
from .connections_sender import (
    RETRYABLE_STATUSES,
    ChannelPosts,
    ConnectionsSender,
    Outcome,
    PostResult,
)
from .deadline import NO_DEADLINE, Deadline
from .limits import BREAKER_FAILED_POSTS, GONE_CLEANUP_WORKERS
from .logs import log_event
from .messages import Message

logger = logging.getLogger(__name__)

COUNTS = ("delivered", "gone", "failed", "unattempted", "retried", "duplicates")


@dataclass
class DeliveryCounts:
    """Per-post outcomes (`failed` includes the rejected ones; `unattempted` were not tried
    because of the deadline or the circuit breaker); `retried` counts re-sends and
    `duplicates` the re-sends of a post the endpoint may already have received."""

    delivered: int = 0
    gone: int = 0
    failed: int = 0
    unattempted: int = 0
    retried: int = 0
    duplicates: int = 0

    def add(self, other: DeliveryCounts) -> None:
        for name in COUNTS:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def as_dict(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in COUNTS}


@dataclass(frozen=True)
class ChannelReport:
    """What sending to one channel came to; `connections` is how many live ones were read."""

    channel: str
    table: str
    connections: int
    counts: DeliveryCounts
    messages: tuple[Message, ...] = ()
    # Position of each message some connection received → when (epoch seconds) the last post
    # that delivered it ended.
    delivered_at: Mapping[int, float] = field(default_factory=dict)
    unreadable: str | None = None  # why the table could not be read to the end
    incomplete: tuple[str, ...] = ()  # why the pass stopped before every connection was tried
    failure: str | None = None  # the detail of one failed post
    seconds: float = 0.0  # how long the pass took: reading the table and posting

    @property
    def error(self) -> str | None:
        """Why the pass was incomplete, or that every post failed; None when neither."""
        if self.incomplete:
            return "; ".join(self.incomplete)
        if self.counts.failed and not self.counts.delivered:
            return f"every post failed ({self.counts.failed}, e.g. {self.failure})"
        return None

    def unreached(self) -> tuple[Message, ...]:
        """When the pass was incomplete, the messages that reached no connection of this
        channel: a retry of their records is the only way they reach it, and duplicates
        nothing here. Empty when the pass was complete."""
        if not self.incomplete:
            return ()
        return tuple(
            m for position, m in enumerate(self.messages) if position not in self.delivered_at
        )

    def last_deliveries(self) -> Iterator[tuple[Message, float]]:
        """Each message that reached a connection, with when the last post that delivered it
        ended (epoch seconds)."""
        for position, ended in sorted(self.delivered_at.items()):
            yield self.messages[position], ended

    def summary(self) -> dict[str, Any]:
        """The channel's entry in a summary log line: its counts, and its error if any."""
        summary = {"connections": self.connections, **self.counts.as_dict()}
        return summary if self.error is None else {**summary, "error": self.error}

    def error_fields(self) -> dict[str, Any]:
        """The fields of the log line that reports the channel's error."""
        return {
            "channel": self.channel,
            "table": self.table,
            "connectionsRead": self.connections,
            "unattempted": self.counts.unattempted,
            "error": self.error,
        }


@dataclass(frozen=True)
class Delivery:
    """The messages (their positions and encodings, in order) one connection receives."""

    connection: Connection
    bodies: Sequence[tuple[int, bytes]]


class _ChannelPass:
    """One channel's pass: its outcomes as the sender reports them, one by one on the sender's
    thread (`record` must not block: a gone connection's cleanup is handed to `cleanup`), and
    its circuit breaker. The breaker opens when BREAKER_FAILED_POSTS posts in a row, in the
    order they end, failed after their retries (transport errors, 429, 5xx): the endpoint is
    down or refusing, and the budget is better spent elsewhere. A post the endpoint answered
    (200, 410, or a 4xx about its connection) closes the run; a post cut short by the deadline
    or the breaker itself counts for neither."""

    def __init__(
        self,
        settings: ChannelConfig,
        messages: tuple[Message, ...],
        store: ConnectionStore,
        deadline: Deadline,
        cleanup: Executor | None,
        max_retries: int,
        segment: ScanSegment | None = None,
    ) -> None:
        self.settings = settings
        self.segment = segment
        self.messages = messages
        self.store = store
        self.deadline = deadline
        self.cleanup = cleanup
        self.max_retries = max_retries
        self.started = time.monotonic()
        self.ended = self.started  # when the last outcome came
        self.read_ended = self.started  # when the table had been read
        # Each message's body, one object per position: the sender reports a post by the very
        # body object it was given.
        self.bodies = _distinct_bodies(messages)
        self.positions = {id(body): position for position, body in enumerate(self.bodies)}
        self.counts = DeliveryCounts()
        self.delivered_at: dict[int, float] = {}
        self.failure: str | None = None
        self.deadline_refused = False
        self.failed_in_a_row = 0
        self.breaker_opened_by: str | None = None
        self.posts: ChannelPosts | None = None

    def record(self, result: PostResult) -> None:
        counts = self.counts
        outcome = result.outcome
        counts.retried += result.retries
        counts.duplicates += result.possible_duplicates
        if outcome is Outcome.DELIVERED:
            counts.delivered += 1
            self.delivered_at[self.positions[id(result.body)]] = time.time()
            self.failed_in_a_row = 0
        elif outcome is Outcome.GONE:
            counts.gone += 1
            self.failed_in_a_row = 0
            if self.cleanup is not None:
                self.cleanup.submit(_forget, self.store, result.connection_id, self.deadline)
        elif outcome is Outcome.FAILED:
            counts.failed += 1
            self.failure = self.failure or result.detail
            self._failed(result)
        else:
            counts.unattempted += 1
            self.deadline_refused = self.deadline_refused or self.breaker_opened_by is None
        self.ended = time.monotonic()

    def _failed(self, result: PostResult) -> None:
        log_event(
            logger,
            logging.WARNING,
            "post_failed",
            table=self.store.table,
            connectionId=result.connection_id,
            status=result.detail,
            retries=result.retries,
        )
        if not _endpoint_failure(result.detail):
            self.failed_in_a_row = 0
            return
        if result.retries < self.max_retries:  # cut short: no time left, or breaker open
            self.deadline_refused = self.deadline_refused or self.breaker_opened_by is None
            return
        self.failed_in_a_row += 1
        if self.breaker_opened_by is None and self.failed_in_a_row >= BREAKER_FAILED_POSTS:
            self.breaker_opened_by = result.detail
            self.posts.stop()
            log_event(
                logger,
                logging.ERROR,
                "circuit_breaker_opened",
                channel=self.settings.key,
                endpoint=self.settings.endpoint,
                failedInARow=BREAKER_FAILED_POSTS,
                last=result.detail,
            )

    def report(self, connections: ConnectionScan) -> ChannelReport:
        counts = self.counts
        incomplete = []
        if connections.error is not None:
            incomplete.append(repr(connections.error))
        if connections.stopped:
            incomplete.append("deadline reached before the table was read to the end")
        elif self.deadline_refused:
            incomplete.append("deadline reached")
        if self.breaker_opened_by is not None:
            incomplete.append(
                f"circuit breaker opened: {BREAKER_FAILED_POSTS} posts in a row failed "
                f"({self.breaker_opened_by})"
            )
        if incomplete and counts.unattempted:
            incomplete.append(f"{counts.unattempted} posts not attempted")
        return ChannelReport(
            self.settings.key,
            self.settings.table,
            connections.count,
            counts,
            self.messages,
            self.delivered_at,
            unreadable=None if connections.error is None else repr(connections.error),
            incomplete=tuple(incomplete),
            failure=self.failure,
            seconds=max(self.ended, self.read_ended) - self.started,
        )


def _endpoint_failure(detail: str) -> bool:
    """Whether a failed post's last answer says the endpoint is failing (a transport error,
    429 or 5xx), not that it refused this connection's post (another 4xx)."""
    return not detail.isdigit() or int(detail) in RETRYABLE_STATUSES


def _distinct_bodies(messages: Sequence[Message]) -> list[bytes]:
    bodies, seen = [], set()
    for message in messages:
        body = message.body
        if id(body) in seen:
            body = bytes(bytearray(body))  # the same object at two positions: copy it
        seen.add(id(body))
        bodies.append(body)
    return bodies


class FanOut:
    """Sends messages to the live connections of the configured channels.

    One reader thread per channel reads its table page by page and hands each connection's
    messages to the container's one `ConnectionsSender` as soon as the connection is read, so
    posting starts with the first page and channels proceed side by side; the sender's event
    loop runs in the calling thread and keeps `max_concurrency` connections' posts in flight.
    Gone connections are cleaned up by a few threads while the posts go on. With
    `forget_gone` False a connection answered 410 is counted gone but left in its table (for a
    function that may not write it: the stream processor and heartbeat delete it). The clients
    and the sender's kept-alive HTTP connections (built here unless given) live for the
    container's life.
    """

    def __init__(
        self,
        config: FanOutConfig,
        dynamodb: Any = None,
        sender: ConnectionsSender | None = None,
        forget_gone: bool = True,
    ) -> None:
        self._config = config
        self.dynamodb = dynamodb or fan_out_dynamodb_client(config.max_concurrency)
        self.sender = sender or connections_sender(config.max_concurrency)
        self._session = boto3.session.Session()
        self._forget_gone = forget_gone

    @property
    def channels(self) -> Mapping[str, ChannelConfig]:
        return self._config.channels

    def send(
        self,
        messages: Mapping[str, Sequence[Message]],
        deadline: Deadline = NO_DEADLINE,
        segments: Mapping[str, ScanSegment] | None = None,
    ) -> dict[str, ChannelReport]:
        """Each channel key's messages to that channel's live connections (only those of its
        part of the table, for a channel key in `segments`); nothing starts after
        `deadline`."""
        segments = segments or {}
        credentials = frozen_credentials(self._session)
        run = self.sender.start(deadline.at)
        with (
            ThreadPoolExecutor(GONE_CLEANUP_WORKERS) as cleanup,
            ThreadPoolExecutor(max(1, len(messages))) as readers,
        ):
            passes = {}
            for key, channel_messages in messages.items():
                settings = self._config.channels[key]
                store = ConnectionStore(
                    self.dynamodb, settings.table, audience_index=settings.audience_index
                )
                channel_pass = _ChannelPass(
                    settings,
                    tuple(channel_messages),
                    store,
                    deadline,
                    cleanup if self._forget_gone else None,
                    self.sender.backoff.max_retries,
                    segments.get(key),
                )
                channel_pass.posts = run.channel(
                    settings.endpoint, settings.region, credentials, channel_pass.record
                )
                passes[key] = channel_pass
            scans = {key: readers.submit(_read, p, deadline) for key, p in passes.items()}
            try:
                run.wait()
            finally:
                for channel_pass in passes.values():
                    channel_pass.posts.close()
            return {key: passes[key].report(scan.result()) for key, scan in scans.items()}


def _read(channel_pass: _ChannelPass, deadline: Deadline) -> ConnectionScan:
    """Reads a channel's table and posts to each connection as it is read (a reader thread)."""
    posts = channel_pass.posts
    try:
        store, segment = channel_pass.store, channel_pass.segment
        if segment is None:
            connections = store.live_audience(channel_pass.messages, keep_reading=deadline.allows)
        else:  # one part of a parallel Scan: an index Query cannot be split the same way
            connections = store.scan_live(keep_reading=deadline.allows, segment=segment)
        bodies = channel_pass.bodies
        for delivery in _deliveries(channel_pass.messages, connections):
            posts.post(delivery.connection.connection_id, [bodies[n] for n, _ in delivery.bodies])
        return connections
    finally:
        channel_pass.read_ended = time.monotonic()
        posts.close()  # the run ends only once every channel is closed


def _deliveries(
    messages: Sequence[Message], connections: Iterable[Connection]
) -> Iterator[Delivery]:
    """Connection by connection as they are read: the messages its filters accept, in order;
    connections that accept none are passed over."""
    for connection in connections:
        bodies = tuple((n, m.body) for n, m in enumerate(messages) if accepts(connection, m))
        if bodies:
            yield Delivery(connection, bodies)


def accepts(connection: Connection, message: Message) -> bool:
    """A scoped connection receives only the messages of an account in its scope; within
    that, a connection that registered an account (region) receives the messages of that
    account (region) and those with none. A message to everyone ignores both."""
    if message.to_everyone:
        return True
    if connection.accounts is not None and not _in_scope(connection.accounts, message.account):
        return False
    return _matches(connection.account, message.account) and _matches(
        connection.region, message.region
    )


def _in_scope(accounts: frozenset[str], value: Any) -> bool:
    return isinstance(value, str) and value in accounts


def _matches(registered: str | None, value: Any) -> bool:
    return registered is None or value is None or str(value) == registered


def _forget(store: ConnectionStore, connection_id: str, deadline: Deadline) -> None:
    """Mark a gone connection (`goneAt`, so that presence says why it went offline), then
    delete it, each unless the deadline has passed: a later broadcast or heartbeat then finds
    it gone again. A connection stored moments ago may still be connecting and is kept
    (`ConnectionStore.delete_gone`). A failed mark never stops the delete, nor a failed delete
    the other deliveries."""
    now = time.time()
    if not deadline.passed:
        try:
            store.mark_gone(connection_id, now)
        except (BotoCoreError, ClientError) as failure:
            log_event(
                logger,
                logging.WARNING,
                "gone_connection_mark_failed",
                table=store.table,
                connectionId=connection_id,
                error=repr(failure),
            )
    if deadline.passed:
        error = "deadline reached before the delete"
    else:
        try:
            if not store.delete_gone(connection_id, now):
                log_event(
                    logger,
                    logging.INFO,
                    "gone_connection_kept",
                    table=store.table,
                    connectionId=connection_id,
                    reason="connecting",
                )
            return
        except (BotoCoreError, ClientError) as failure:
            error = repr(failure)
    log_event(
        logger,
        logging.ERROR,
        "gone_connection_delete_failed",
        table=store.table,
        connectionId=connection_id,
        error=error,
    )
