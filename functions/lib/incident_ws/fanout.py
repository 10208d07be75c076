"""Sending messages to the live connections of channels: the delivery policy.

Who receives what and in which order is decided here: a connection gets the messages its
account and region filters accept, one after another in the order given (stream order); a
410 deletes the connection and ends its deliveries; what an unreadable connections table
means for the messages is the caller's `ReadFailurePolicy`. How one post is signed, sent and
retried is connection_poster.py (over http_keepalive.py). docs/handlers.md states the rules.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.credentials import ReadOnlyCredentials
from botocore.exceptions import BotoCoreError, ClientError

from .clients import dynamodb_client, frozen_credentials, keepalive_http
from .config import ChannelConfig, FanOutConfig
from .connection_poster import ConnectionPoster, PostOutcome
from .connection_store import Connection, ConnectionStore
from .http_keepalive import KeepAliveHttp
from .logs import log_event
from .messages import Message

logger = logging.getLogger(__name__)


class ReadFailurePolicy(enum.Enum):
    """What a channel whose connections table failed while being read means for its messages."""

    # Stream records: when the table failed before any connection was read, the channel's
    # messages are handed back (`ChannelReport.unsent`) so that their records are retried,
    # the only way they ever reach it. Once some connections have them, a retry would send
    # them twice, so a partly read channel only reports its error.
    RETRY_IF_NONE_READ = "retry_if_none_read"
    # Pings: the error is reported; the next scheduled run is the retry.
    REPORT = "report"

    def unsent(self, messages: Sequence[Message], connections_read: int) -> tuple[Message, ...]:
        """The messages to hand back when the table failed after `connections_read`."""
        if self is ReadFailurePolicy.RETRY_IF_NONE_READ and connections_read == 0:
            return tuple(messages)
        return ()


@dataclass
class DeliveryCounts:
    """Per-post outcomes: `gone` connections were deleted; `retried` counts retries."""

    delivered: int = 0
    gone: int = 0
    failed: int = 0
    retried: int = 0

    def add(self, other: DeliveryCounts) -> None:
        self.delivered += other.delivered
        self.gone += other.gone
        self.failed += other.failed
        self.retried += other.retried

    def as_dict(self) -> dict[str, int]:
        return {k: getattr(self, k) for k in ("delivered", "gone", "failed", "retried")}


@dataclass(frozen=True)
class ChannelReport:
    """What sending to one channel came to; `connections` is how many live ones were read."""

    channel: str
    table: str
    connections: int
    counts: DeliveryCounts
    error: str | None = None  # why the table could not be read to the end
    unsent: tuple[Message, ...] = ()  # handed back for a retry (ReadFailurePolicy)

    def summary(self) -> dict[str, Any]:
        """The channel's entry in a summary log line: its counts, and its error if any; only
        the error when its messages were handed back, as nothing was sent."""
        if self.unsent:
            return {"error": self.error}
        summary = {"connections": self.connections, **self.counts.as_dict()}
        return summary if self.error is None else {**summary, "error": self.error}

    def error_fields(self) -> dict[str, Any]:
        """The fields of the log line that reports the channel's error."""
        return {
            "channel": self.channel,
            "table": self.table,
            "connectionsRead": self.connections,
            "error": self.error,
        }


@dataclass(frozen=True)
class Delivery:
    """The messages (encoded, in order) one connection receives."""

    connection: Connection
    bodies: Sequence[bytes]


class FanOut:
    """Sends messages to the live connections of the configured channels.

    One worker per channel reads its table page by page and hands each connection's
    delivery to one pool of `max_concurrency` posting workers as soon as the connection is
    read, so posting starts with the first page and channels proceed side by side. The
    pools live for one `send`; the clients (built here unless given) for the container's.
    """

    def __init__(
        self, config: FanOutConfig, dynamodb: Any = None, http: KeepAliveHttp | None = None
    ) -> None:
        self._config = config
        self.dynamodb = dynamodb or dynamodb_client(config.max_concurrency)
        self.http = http or keepalive_http()
        self._session = boto3.session.Session()

    def send(
        self, messages: Mapping[str, Sequence[Message]], on_read_failure: ReadFailurePolicy
    ) -> dict[str, ChannelReport]:
        """Each channel key's messages to that channel's live connections."""
        credentials = frozen_credentials(self._session)
        with (
            ThreadPoolExecutor(self._config.max_concurrency) as posts,
            ThreadPoolExecutor(len(self._config.channels)) as channel_workers,
        ):
            futures = {
                key: channel_workers.submit(
                    self._send_to_channel,
                    self._config.channels[key],
                    channel_messages,
                    credentials,
                    posts,
                    on_read_failure,
                )
                for key, channel_messages in messages.items()
            }
            return {key: future.result() for key, future in futures.items()}

    def _send_to_channel(
        self,
        settings: ChannelConfig,
        messages: Sequence[Message],
        credentials: ReadOnlyCredentials,
        posts: Executor,
        on_read_failure: ReadFailurePolicy,
    ) -> ChannelReport:
        store = ConnectionStore(self.dynamodb, settings.table)
        poster = ConnectionPoster(settings.endpoint, settings.region, credentials, self.http)
        connections = store.scan_live()
        tasks = [
            posts.submit(_deliver, d, poster, store) for d in _deliveries(messages, connections)
        ]
        counts = DeliveryCounts()
        for task in tasks:
            counts.add(task.result())
        if connections.error is None:
            return ChannelReport(settings.key, settings.table, connections.count, counts)
        return ChannelReport(
            settings.key,
            settings.table,
            connections.count,
            counts,
            error=repr(connections.error),
            unsent=on_read_failure.unsent(messages, connections.count),
        )


def _deliveries(
    messages: Sequence[Message], connections: Iterable[Connection]
) -> Iterator[Delivery]:
    """Connection by connection as they are read: the messages its filters accept, in order;
    connections that accept none are passed over."""
    for connection in connections:
        bodies = tuple(m.body for m in messages if _accepts(connection, m))
        if bodies:
            yield Delivery(connection, bodies)


def _accepts(connection: Connection, message: Message) -> bool:
    """A connection that registered an account (region) receives the messages of that account
    (region) and those with none."""
    return _matches(connection.account, message.account) and _matches(
        connection.region, message.region
    )


def _matches(registered: str | None, value: Any) -> bool:
    return registered is None or value is None or str(value) == registered


def _deliver(
    delivery: Delivery, poster: ConnectionPoster, store: ConnectionStore
) -> DeliveryCounts:
    counts = DeliveryCounts()
    connection_id = delivery.connection.connection_id
    for body in delivery.bodies:
        result = poster.post(connection_id, body)
        counts.retried += result.retries
        if result.outcome is PostOutcome.DELIVERED:
            counts.delivered += 1
        elif result.outcome is PostOutcome.GONE:
            counts.gone += 1
            _forget(store, connection_id)
            return counts  # the rest of its messages would be gone too
        else:
            counts.failed += 1
            log_event(
                logger,
                logging.WARNING,
                "post_failed",
                table=store.table,
                connectionId=connection_id,
                status=result.detail,
                retries=result.retries,
            )
    return counts


def _forget(store: ConnectionStore, connection_id: str) -> None:
    try:
        store.delete(connection_id)
    except (BotoCoreError, ClientError) as error:  # a failed cleanup must not stop the rest
        log_event(
            logger,
            logging.ERROR,
            "gone_connection_delete_failed",
            table=store.table,
            connectionId=connection_id,
            error=repr(error),
        )
