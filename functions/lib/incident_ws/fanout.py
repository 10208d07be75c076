"""Sending messages to the live connections of channels: the delivery policy.

Who receives what and in which order is decided here: a connection gets the messages its
principal's account scope and its own account and region filters accept (`accepts`, the one
rule live delivery, replay and presence share), one after another in the order given (stream
order); a 410 marks the connection gone, deletes it and ends its deliveries. How
far a channel's pass went is decided here too: it stops starting work at the invocation's
deadline, and on a channel whose endpoint fails post after post (its circuit breaker); what
was not attempted is counted, and a `ChannelReport` says which messages reached no connection
of a channel whose pass was incomplete, and when the last post that delivered each message
ended (for its end-to-end latency). How one post is signed, sent and retried is
connection_poster.py (over http_keepalive.py). docs/handlers.md states the rules.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.credentials import ReadOnlyCredentials
from botocore.exceptions import BotoCoreError, ClientError

from .clients import fan_out_dynamodb_client, frozen_credentials, keepalive_http
from .config import ChannelConfig, FanOutConfig
from .connection_poster import ConnectionPoster, PostOutcome, PostResult
from .connection_store import Connection, ConnectionStore
from .deadline import NO_DEADLINE, Deadline
from .http_keepalive import KeepAliveHttp
from .limits import BREAKER_FAILED_POSTS
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


@dataclass
class ConnectionDeliveries:
    """What one connection's deliveries came to, and which messages (positions) it received:
    when (epoch seconds) the post that delivered each one ended."""

    counts: DeliveryCounts = field(default_factory=DeliveryCounts)
    received: dict[int, float] = field(default_factory=dict)
    failure: str | None = None  # the detail of one failed post, for the channel's error


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


class CircuitBreaker:
    """Opens when `threshold` posts of a channel in a row, in the order they end, failed after
    their retries (transport errors, 429, 5xx): the endpoint is down or refusing, and the
    budget is better spent elsewhere. A post the endpoint answered (200, 410, or a 4xx about
    its connection) closes the run. Thread-safe: every posting worker of the channel reports."""

    def __init__(self, channel: ChannelConfig, threshold: int = BREAKER_FAILED_POSTS) -> None:
        self._channel = channel
        self._threshold = threshold
        self._failed_in_a_row = 0
        self._lock = threading.Lock()
        self.opened_by: str | None = None  # the last failure when it opened

    @property
    def open(self) -> bool:
        return self.opened_by is not None

    def record(self, result: PostResult) -> None:
        if result.outcome is PostOutcome.UNATTEMPTED or result.cut_short:
            return
        with self._lock:
            if result.outcome is not PostOutcome.FAILED:
                self._failed_in_a_row = 0
                return
            self._failed_in_a_row += 1
            if self.open or self._failed_in_a_row < self._threshold:
                return
            self.opened_by = result.detail
        log_event(
            logger,
            logging.ERROR,
            "circuit_breaker_opened",
            channel=self._channel.key,
            endpoint=self._channel.endpoint,
            failedInARow=self._threshold,
            last=result.detail,
        )

    def reason(self) -> str:
        return f"circuit breaker opened: {self._threshold} posts in a row failed ({self.opened_by})"


class _Budget:
    """Whether a channel's next attempt may start: before the deadline, breaker closed.
    `deadline_refused` records that the deadline kept an attempt or a retry from starting."""

    def __init__(self, deadline: Deadline, breaker: CircuitBreaker) -> None:
        self.deadline = deadline
        self.breaker = breaker
        self.deadline_refused = False

    def allows(self, seconds: float) -> bool:
        if self.breaker.open:
            return False
        if not self.deadline.allows(seconds):
            self.deadline_refused = True
            return False
        return True


class FanOut:
    """Sends messages to the live connections of the configured channels.

    One worker per channel reads its table page by page and hands each connection's
    delivery to one pool of `max_concurrency` posting workers as soon as the connection is
    read, so posting starts with the first page and channels proceed side by side. The
    pools live for one `send`; the clients (built here unless given) for the container's.
    With `forget_gone` False a connection answered 410 is counted gone but left in its table
    (for a function that may not write it: the stream processor and heartbeat delete it).
    """

    def __init__(
        self,
        config: FanOutConfig,
        dynamodb: Any = None,
        http: KeepAliveHttp | None = None,
        forget_gone: bool = True,
    ) -> None:
        self._config = config
        self.dynamodb = dynamodb or fan_out_dynamodb_client(config.max_concurrency)
        self.http = http or keepalive_http()
        self._session = boto3.session.Session()
        self._forget_gone = forget_gone

    def send(
        self, messages: Mapping[str, Sequence[Message]], deadline: Deadline = NO_DEADLINE
    ) -> dict[str, ChannelReport]:
        """Each channel key's messages to that channel's live connections; nothing starts
        after `deadline`."""
        credentials = frozen_credentials(self._session)
        with (
            ThreadPoolExecutor(self._config.max_concurrency) as posts,
            ThreadPoolExecutor(len(self._config.channels)) as channel_workers,
        ):
            futures = {
                key: channel_workers.submit(
                    self._send_to_channel,
                    self._config.channels[key],
                    tuple(channel_messages),
                    credentials,
                    posts,
                    deadline,
                )
                for key, channel_messages in messages.items()
            }
            return {key: future.result() for key, future in futures.items()}

    def _send_to_channel(
        self,
        settings: ChannelConfig,
        messages: tuple[Message, ...],
        credentials: ReadOnlyCredentials,
        posts: Executor,
        deadline: Deadline,
    ) -> ChannelReport:
        started = time.monotonic()
        store = ConnectionStore(
            self.dynamodb, settings.table, audience_index=settings.audience_index
        )
        poster = ConnectionPoster(settings.endpoint, settings.region, credentials, self.http)
        budget = _Budget(deadline, CircuitBreaker(settings))
        connections = store.live_audience(messages, keep_reading=deadline.allows)
        tasks = [
            posts.submit(_deliver, d, poster, store, budget, self._forget_gone)
            for d in _deliveries(messages, connections)
        ]
        counts, delivered_at, failure = DeliveryCounts(), {}, None
        for task in tasks:
            result = task.result()
            counts.add(result.counts)
            for position, ended in result.received.items():
                delivered_at[position] = max(ended, delivered_at.get(position, ended))
            failure = failure or result.failure
        incomplete = []
        if connections.error is not None:
            incomplete.append(repr(connections.error))
        if connections.stopped:
            incomplete.append("deadline reached before the table was read to the end")
        elif budget.deadline_refused:
            incomplete.append("deadline reached")
        if budget.breaker.open:
            incomplete.append(budget.breaker.reason())
        if incomplete and counts.unattempted:
            incomplete.append(f"{counts.unattempted} posts not attempted")
        return ChannelReport(
            settings.key,
            settings.table,
            connections.count,
            counts,
            messages,
            delivered_at,
            unreadable=None if connections.error is None else repr(connections.error),
            incomplete=tuple(incomplete),
            failure=failure,
            seconds=time.monotonic() - started,
        )


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


def _deliver(
    delivery: Delivery,
    poster: ConnectionPoster,
    store: ConnectionStore,
    budget: _Budget,
    forget_gone: bool,
) -> ConnectionDeliveries:
    deliveries = ConnectionDeliveries()
    counts = deliveries.counts
    connection_id = delivery.connection.connection_id
    for sent, (position, body) in enumerate(delivery.bodies):
        result = poster.post(connection_id, body, budget.allows)
        budget.breaker.record(result)
        counts.retried += result.retries
        counts.duplicates += result.duplicates
        if result.outcome is PostOutcome.UNATTEMPTED:
            counts.unattempted += len(delivery.bodies) - sent
            return deliveries
        if result.outcome is PostOutcome.DELIVERED:
            counts.delivered += 1
            deliveries.received[position] = time.time()
        elif result.outcome is PostOutcome.GONE:
            counts.gone += 1
            if forget_gone:
                _forget(store, connection_id, budget.deadline)
            return deliveries  # the rest of its messages would be gone too
        else:
            counts.failed += 1
            deliveries.failure = deliveries.failure or result.detail
            log_event(
                logger,
                logging.WARNING,
                "post_failed",
                table=store.table,
                connectionId=connection_id,
                status=result.detail,
                retries=result.retries,
            )
    return deliveries


def _forget(store: ConnectionStore, connection_id: str, deadline: Deadline) -> None:
    """Mark a gone connection (`goneAt`, so that presence says why it went offline), then
    delete it, each unless the deadline has passed: a later broadcast or heartbeat then finds
    it gone again. A failed mark never stops the delete, nor a failed delete the other
    deliveries."""
    if not deadline.passed:
        try:
            store.mark_gone(connection_id, time.time())
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
            store.delete(connection_id)
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
