"""A channel's message log: a DynamoDB table with partition key `channel` (the channel key)
and sort key `id` (the message id), items expiring on `ttl` (docs/handlers.md).

The stream processor appends each message a channel receives, once, before it is posted;
replay reads a channel's messages back in id order. A logged item holds the `body` exactly as
it was posted on that channel, and its `account` and `region` when they are text (for people
and tools reading the table: replay filters on the body's own values, the very ones live
delivery filtered on).
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from .config import ChannelConfig
from .connections_sender import Backoff
from .deadline import NO_DEADLINE, Deadline
from .limits import LOG_WRITE_BATCH_ITEMS, LOG_WRITE_CONCURRENCY, LOG_WRITE_MAX_RETRIES
from .logs import log_event
from .messages import Message

logger = logging.getLogger(__name__)

# Items a BatchWriteItem left unprocessed are sent again with the posts' backoff.
UNPROCESSED_RETRY = Backoff(max_retries=LOG_WRITE_MAX_RETRIES)
_JITTER = random.Random()


@dataclass
class LogCounts:
    """A channel's messages written to its log, and those that could not be."""

    logged: int = 0
    failed: int = 0


@dataclass(frozen=True)
class _Chunk:
    channel: str
    table: str
    messages: tuple[Message, ...]


class MessageLog:
    """Appends messages to the logs of channels. Thread-safe: a low-level client."""

    def __init__(
        self,
        dynamodb: Any,
        retention_seconds: int,
        retry: Backoff = UNPROCESSED_RETRY,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._client = dynamodb
        self._retention_seconds = retention_seconds
        self._retry = retry
        self._sleep = sleep

    def append(
        self,
        channels: Mapping[str, ChannelConfig],
        messages: Mapping[str, Sequence[Message]],
        deadline: Deadline = NO_DEADLINE,
    ) -> dict[str, LogCounts]:
        """Each channel key's messages to that channel's log, if it keeps one; the counts of
        those channels. Chunks of LOG_WRITE_BATCH_ITEMS are written side by side; what is
        still not written after the retries, or when the deadline passes, is logged and
        counted, never raised."""
        expires = int(time.time()) + self._retention_seconds
        logged = _logged(channels, messages)
        counts = {key: LogCounts() for key in logged}
        chunks = [
            _Chunk(key, channels[key].messages_table, tuple(batch[start:end]))
            for key, batch in logged.items()
            for start, end in _chunk_bounds(len(batch), LOG_WRITE_BATCH_ITEMS)
        ]
        if not chunks:
            return counts
        with ThreadPoolExecutor(min(len(chunks), LOG_WRITE_CONCURRENCY)) as writers:
            failures = writers.map(lambda chunk: self._write(chunk, expires, deadline), chunks)
            for chunk, failed in zip(chunks, failures, strict=True):
                counts[chunk.channel].logged += len(chunk.messages) - failed
                counts[chunk.channel].failed += failed
        return counts

    def _write(self, chunk: _Chunk, expires: int, deadline: Deadline) -> int:
        """Write one chunk; how many of its messages could not be written."""
        pending = [
            {"PutRequest": {"Item": _item(chunk.channel, message, expires)}}
            for message in chunk.messages
        ]
        retries = 0
        while True:
            if not deadline.allows():
                return self._failed(chunk, len(pending), "deadline reached", retries)
            try:
                response = self._client.batch_write_item(RequestItems={chunk.table: pending})
            except (BotoCoreError, ClientError) as error:
                return self._failed(chunk, len(pending), repr(error), retries)
            pending = response.get("UnprocessedItems", {}).get(chunk.table, [])
            if not pending:
                return 0
            if retries >= self._retry.max_retries:
                return self._failed(chunk, len(pending), "still unprocessed", retries)
            delay = self._retry.delay(retries, _JITTER)
            if not deadline.allows(delay):
                return self._failed(chunk, len(pending), "deadline reached", retries)
            self._sleep(delay)
            retries += 1

    def _failed(self, chunk: _Chunk, count: int, error: str, retries: int) -> int:
        log_event(
            logger,
            logging.ERROR,
            "message_log_failed",
            channel=chunk.channel,
            table=chunk.table,
            messages=count,
            error=error,
            retries=retries,
        )
        return count


def _logged(
    channels: Mapping[str, ChannelConfig], messages: Mapping[str, Sequence[Message]]
) -> dict[str, list[Message]]:
    """The messages of the channels that keep a log (those with an id: every one but a ping)."""
    return {
        key: [m for m in batch if m.id is not None]
        for key, batch in messages.items()
        if channels[key].messages_table is not None
    }


def _chunk_bounds(length: int, size: int) -> Iterator[tuple[int, int]]:
    for start in range(0, length, size):
        yield start, min(start + size, length)


def _item(channel: str, message: Message, expires: int) -> dict[str, Any]:
    item = {
        "channel": {"S": channel},
        "id": {"S": message.id},
        "body": {"S": message.body.decode("utf-8")},
        "ttl": {"N": str(expires)},
    }
    for name, value in (("account", message.account), ("region", message.region)):
        if isinstance(value, str) and value:
            item[name] = {"S": value}
    return item


# -- reading ---------------------------------------------------------------------------------


class LogReader:
    """Reads one channel's log in id order, lazily, page by page, and consistently: a message
    is logged moments before it is posted, and a client may ask for it right away."""

    def __init__(self, dynamodb: Any, table: str, channel: str) -> None:
        self._client = dynamodb
        self._table = table
        self._channel = channel

    def after(
        self, since: str, keep_reading: Callable[[], bool], page_size: int | None = None
    ) -> LogRead:
        """The messages whose id is greater than `since`, oldest first."""
        return LogRead(self._pages(since, True, page_size), keep_reading)

    def newest(self, keep_reading: Callable[[], bool], page_size: int | None = None) -> LogRead:
        """Every message, newest first."""
        return LogRead(self._pages(None, False, page_size), keep_reading)

    def _pages(
        self, since: str | None, oldest_first: bool, page_size: int | None
    ) -> Iterable[dict[str, Any]]:
        condition = "#channel = :channel"
        values = {":channel": {"S": self._channel}}
        if since is not None:
            condition += " AND #id > :since"
            values[":since"] = {"S": since}
        return self._client.get_paginator("query").paginate(
            TableName=self._table,
            KeyConditionExpression=condition,
            ExpressionAttributeNames={"#channel": "channel", "#id": "id"},
            ExpressionAttributeValues=values,
            ProjectionExpression="#id, body",
            ScanIndexForward=oldest_first,
            ConsistentRead=True,
            PaginationConfig={"PageSize": page_size} if page_size else {},
        )


class LogRead:
    """Iterates logged messages until the log has been read, stops answering, or reading is
    to stop. A read error ends the pass instead of escaping: `error` is what it was,
    `stopped` whether reading stopped before the last page, `unreadable` how many items were
    passed over because their body is not a JSON object."""

    def __init__(self, pages: Iterable[dict[str, Any]], keep_reading: Callable[[], bool]) -> None:
        self._pages = pages
        self._keep_reading = keep_reading
        self.error: BotoCoreError | ClientError | None = None
        self.stopped = False
        self.unreadable = 0

    def __iter__(self) -> Iterator[Message]:
        pages = iter(self._pages)
        try:
            while True:
                if not self._keep_reading():
                    self.stopped = True
                    return
                page = next(pages, None)
                if page is None:
                    return
                for item in page.get("Items", []):
                    message = _logged_message(item)
                    if message is None:
                        self.unreadable += 1
                    else:
                        yield message
                if "LastEvaluatedKey" not in page:
                    return
        except (BotoCoreError, ClientError) as error:
            self.error = error


def _logged_message(item: Mapping[str, Any]) -> Message | None:
    """A logged item as a message: its body as posted, and the account and region that live
    delivery filtered it on, read from that body."""
    identifier = item.get("id", {}).get("S")
    text = item.get("body", {}).get("S")
    if not isinstance(identifier, str) or not isinstance(text, str):
        return None
    try:
        content = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if not isinstance(content, dict):
        return None
    return Message(
        str(content.get("type")),
        text.encode("utf-8"),
        content.get("account"),
        content.get("region"),
        id=identifier,
    )
