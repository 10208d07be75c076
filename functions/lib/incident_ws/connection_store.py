"""A channel's connections table (partition key `connectionId`) and the connections it holds.

Every connection `$connect` stores carries its `audience`: the one account whose messages it
may receive when its registration says so (its account filter, else the only account of its
scope), else `*`. The table's index by `audience` (partition `audience`, sort `connectionId`,
holding what delivery reads) lets a batch of messages of one account read only the
connections of that account and of `*` instead of the whole table.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from boto3.dynamodb.types import TypeSerializer
from botocore.exceptions import BotoCoreError, ClientError

from .account_scope import ACCOUNT_ID
from .config import AudienceIndex
from .limits import CONNECTING_SECONDS
from .messages import Message
from .records import decode_item

_serializer = TypeSerializer()

EVERY_ACCOUNT = "*"  # the audience of a connection that may receive more than one account


# A connection that is not connecting any more: stored CONNECTING_SECONDS ago or earlier. One
# whose `createdAt` is no number may be connecting, and one without it is not.
_CONNECTED = "attribute_not_exists(createdAt) OR createdAt < :connectedBefore"

# What the fan-out reads of a connection, and what presence also shows of it.
_DELIVERY_ATTRIBUTES = "connectionId, account, accounts, #region, #ttl"
_MEMBER_ATTRIBUTES = f"{_DELIVERY_ATTRIBUTES}, clientId, createdAt"


@dataclass(frozen=True)
class ScanSegment:
    """One of `total` parts of a DynamoDB parallel Scan: together they hold every item once."""

    index: int
    total: int

    def __post_init__(self) -> None:
        if not 0 <= self.index < self.total:
            raise ValueError(f"segment {self.index} is not one of 0..{self.total - 1}")


@dataclass(frozen=True)
class Connection:
    """A client's WebSocket connection as its channel's table holds it: its id, the account
    and region it registered to receive (None: every one), and the accounts its principal may
    see (None: unscoped, every account); its clientId and connect time (epoch milliseconds)
    when they were read."""

    connection_id: str
    account: str | None = None
    region: str | None = None
    accounts: frozenset[str] | None = None
    client_id: str | None = None
    created_at: int | None = None


def audience(account: str | None, accounts: Collection[str] | None) -> str:
    """The audience of a connection registered for `account` (None: every one) with the scope
    `accounts` (None: unscoped)."""
    if account is not None:
        return account
    if accounts is not None and len(accounts) == 1:
        return next(iter(accounts))
    return EVERY_ACCOUNT


class ConnectionStore:
    """Thread-safe (a low-level client): the fan-out deletes gone connections from workers.
    Without `audience_index` every read is a Scan."""

    def __init__(
        self,
        client,
        table: str,
        page_size: int | None = None,
        audience_index: AudienceIndex | None = None,
    ) -> None:
        self._client = client
        self._table = table
        self._page_size = page_size
        self._audience_index = audience_index

    @property
    def table(self) -> str:
        return self._table

    def put(self, item: Mapping[str, Any]) -> None:
        self._client.put_item(TableName=self._table, Item=_serialise(item))

    def get(self, connection_id: str, now: float | None = None) -> Connection | None:
        """The live connection (its `ttl` not passed) with that id, read consistently: a
        connection asks right after its `$connect` stored it."""
        response = self._client.get_item(
            TableName=self._table,
            Key=_serialise({"connectionId": connection_id}),
            ConsistentRead=True,
        )
        item = response.get("Item")
        now = time.time() if now is None else now
        return _live_connection(decode_item(item), now) if item else None

    def mark_gone(self, connection_id: str, now: float) -> bool:
        """Set `goneAt` (epoch milliseconds) on the connection's item before it is deleted
        after a 410, so that the stream's REMOVE says why; False when there is no such item
        (it is never created here) or it may still be connecting (`delete_gone`)."""
        try:
            self._client.update_item(
                TableName=self._table,
                Key=_serialise({"connectionId": connection_id}),
                UpdateExpression="SET goneAt = :now",
                ConditionExpression=f"attribute_exists(connectionId) AND ({_CONNECTED})",
                ExpressionAttributeValues={
                    ":now": {"N": str(int(now * 1000))},
                    **_connected_before(now),
                },
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def delete_gone(self, connection_id: str, now: float) -> bool:
        """Delete the item of a connection a post found gone (410), unless it was stored less
        than CONNECTING_SECONDS ago: API Gateway also answers 410 while a connection's
        `$connect` has not returned, and that connection may be about to open. False when it
        was kept for that; a later heartbeat or broadcast finds it again."""
        try:
            self._client.delete_item(
                TableName=self._table,
                Key=_serialise({"connectionId": connection_id}),
                ConditionExpression=_CONNECTED,
                ExpressionAttributeValues=_connected_before(now),
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def delete(self, connection_id: str) -> dict[str, Any] | None:
        """Delete the item and return it as it was (None when there was none)."""
        response = self._client.delete_item(
            TableName=self._table,
            Key=_serialise({"connectionId": connection_id}),
            ReturnValues="ALL_OLD",
        )
        old = response.get("Attributes")
        return decode_item(old) if old else None

    def scan_live(
        self,
        now: float | None = None,
        keep_reading: Callable[[], bool] = lambda: True,
        members: bool = False,
        segment: ScanSegment | None = None,
    ) -> ConnectionScan:
        """One lazy pass, page by page, over the connections whose `ttl` has not passed: the
        fan-out consumes each page as it arrives instead of waiting for the whole table. No
        page is asked for once `keep_reading()` is False. `members` also reads each one's
        clientId and connect time; `segment` reads only that part of the table."""
        now = time.time() if now is None else now
        attributes = _MEMBER_ATTRIBUTES if members else _DELIVERY_ATTRIBUTES
        return ConnectionScan([self._scan_pages(attributes, segment)], now, keep_reading)

    def item_count(self) -> int:
        """The table's item count as DynamoDB reports it: refreshed about every six hours,
        and counting expired items not yet deleted."""
        return int(self._client.describe_table(TableName=self._table)["Table"]["ItemCount"])

    def live_audience(
        self,
        messages: Sequence[Message],
        now: float | None = None,
        keep_reading: Callable[[], bool] = lambda: True,
    ) -> ConnectionScan:
        """The live connections that may receive some of `messages`, read as `scan_live` reads
        them. When the messages are all of one account and the index holds every connection
        still open (from its `query_from` on), only the connections of that account's audience
        and of `*` are read, one Query after the other; otherwise the whole table. Which of
        them accept which message is still for the fan-out to decide."""
        now = time.time() if now is None else now
        account = _only_account(messages)
        index = self._audience_index
        if account is None or index is None or now < index.query_from:
            return self.scan_live(now, keep_reading)
        sources = [self._audience_pages(index.name, value) for value in (account, EVERY_ACCOUNT)]
        return ConnectionScan(sources, now, keep_reading)

    def _scan_pages(
        self, attributes: str, segment: ScanSegment | None = None
    ) -> Iterable[dict[str, Any]]:
        parallel = (
            {} if segment is None else {"Segment": segment.index, "TotalSegments": segment.total}
        )
        return self._client.get_paginator("scan").paginate(
            TableName=self._table,
            ProjectionExpression=attributes,
            ExpressionAttributeNames={"#region": "region", "#ttl": "ttl"},
            PaginationConfig=self._pagination(),
            **parallel,
        )

    def _audience_pages(self, index: str, value: str) -> Iterable[dict[str, Any]]:
        return self._client.get_paginator("query").paginate(
            TableName=self._table,
            IndexName=index,
            KeyConditionExpression="audience = :audience",
            ExpressionAttributeValues={":audience": {"S": value}},
            ProjectionExpression=_DELIVERY_ATTRIBUTES,
            ExpressionAttributeNames={"#region": "region", "#ttl": "ttl"},
            PaginationConfig=self._pagination(),
        )

    def _pagination(self) -> dict[str, int]:
        return {"PageSize": self._page_size} if self._page_size else {}


class ConnectionScan:
    """Iterates live connections until every source of pages (a Scan, or Queries one after
    the other) has been read, the table stops answering, or reading is to stop. A read error
    ends the pass instead of escaping into the fan-out consuming it: `error` is what it was,
    `stopped` whether reading stopped before the last page, `count` how many connections were
    handed out."""

    def __init__(
        self,
        sources: Sequence[Iterable[dict[str, Any]]],
        now: float,
        keep_reading: Callable[[], bool],
    ) -> None:
        self._sources = sources
        self._now = now
        self._keep_reading = keep_reading
        self.count = 0
        self.error: BotoCoreError | ClientError | None = None
        self.stopped = False

    @property
    def complete(self) -> bool:
        return self.error is None and not self.stopped

    def __iter__(self) -> Iterator[Connection]:
        try:
            for source in self._sources:
                if not (yield from self._read(iter(source))):
                    return
        except (BotoCoreError, ClientError) as error:
            self.error = error

    def _read(self, pages: Iterator[dict[str, Any]]) -> Iterator[Connection]:
        """One source's connections; returns whether it was read to its last page."""
        while True:
            if not self._keep_reading():
                self.stopped = True
                return False
            page = next(pages, None)
            if page is None:
                return True
            for item in page.get("Items", []):
                connection = _live_connection(decode_item(item), self._now)
                if connection:
                    self.count += 1
                    yield connection
            if "LastEvaluatedKey" not in page:
                return True


def _only_account(messages: Sequence[Message]) -> str | None:
    """The account all of `messages` are of; None when they are of several, or one is of
    none, or of a value that is no account id (the only audiences there are), or is to
    everyone."""
    accounts = {
        m.account if _is_account_id(m.account) and not m.to_everyone else None for m in messages
    }
    return accounts.pop() if len(accounts) == 1 and None not in accounts else None


def _is_account_id(value: Any) -> bool:
    return isinstance(value, str) and ACCOUNT_ID.fullmatch(value) is not None


def _connected_before(now: float) -> dict[str, Any]:
    return {":connectedBefore": {"N": str(int((now - CONNECTING_SECONDS) * 1000))}}


def _serialise(item: Mapping[str, Any]) -> dict[str, Any]:
    return {key: _serializer.serialize(value) for key, value in item.items()}


def _live_connection(item: Mapping[str, Any], now: float) -> Connection | None:
    ttl = item.get("ttl")
    if isinstance(ttl, int | float) and not isinstance(ttl, bool) and ttl <= now:
        return None
    return connection_from_item(item)


def connection_from_item(item: Mapping[str, Any]) -> Connection | None:
    """The connection a decoded item holds, whatever its `ttl`; None without a connectionId.
    A value of an odd type reads as absent, except the scope (`_scope`)."""
    connection_id = item.get("connectionId")
    if not isinstance(connection_id, str) or not connection_id:
        return None
    account, region = item.get("account"), item.get("region")
    client_id, created_at = item.get("clientId"), item.get("createdAt")
    return Connection(
        connection_id,
        account if isinstance(account, str) else None,
        region if isinstance(region, str) else None,
        _scope(item),
        client_id if isinstance(client_id, str) else None,
        created_at if isinstance(created_at, int) and not isinstance(created_at, bool) else None,
    )


def _scope(item: Mapping[str, Any]) -> frozenset[str] | None:
    """An item without `accounts` is unscoped. One whose `accounts` is not a set of strings
    is scoped to no account: an unreadable scope never widens to every account."""
    if "accounts" not in item:
        return None
    accounts = item["accounts"]  # a string set, decoded as a sorted list
    if not isinstance(accounts, list) or not all(isinstance(a, str) for a in accounts):
        return frozenset()
    return frozenset(accounts)
