"""A channel's connections table (partition key `connectionId`) and the connections it holds."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from boto3.dynamodb.types import TypeSerializer
from botocore.exceptions import BotoCoreError, ClientError

from .records import decode_item

_serializer = TypeSerializer()


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


class ConnectionStore:
    """Thread-safe (a low-level client): the fan-out deletes gone connections from workers."""

    def __init__(self, client, table: str, page_size: int | None = None) -> None:
        self._client = client
        self._table = table
        self._page_size = page_size

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
        (it is never created here)."""
        try:
            self._client.update_item(
                TableName=self._table,
                Key=_serialise({"connectionId": connection_id}),
                UpdateExpression="SET goneAt = :now",
                ConditionExpression="attribute_exists(connectionId)",
                ExpressionAttributeValues={":now": {"N": str(int(now * 1000))}},
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
        return ConnectionScan(self._pages(attributes, segment), now, keep_reading)

    def item_count(self) -> int:
        """The table's item count as DynamoDB reports it: refreshed about every six hours,
        and counting expired items not yet deleted."""
        return int(self._client.describe_table(TableName=self._table)["Table"]["ItemCount"])

    def _pages(self, attributes: str, segment: ScanSegment | None) -> Iterable[dict[str, Any]]:
        pagination = {"PageSize": self._page_size} if self._page_size else {}
        parallel = (
            {} if segment is None else {"Segment": segment.index, "TotalSegments": segment.total}
        )
        return self._client.get_paginator("scan").paginate(
            TableName=self._table,
            ProjectionExpression=attributes,
            ExpressionAttributeNames={"#region": "region", "#ttl": "ttl"},
            PaginationConfig=pagination,
            **parallel,
        )


class ConnectionScan:
    """Iterates live connections until the table has been read, stops answering, or reading
    is to stop. A read error ends the pass instead of escaping into the fan-out consuming it:
    `error` is what it was, `stopped` whether reading stopped before the last page, `count`
    how many connections were handed out."""

    def __init__(
        self, pages: Iterable[dict[str, Any]], now: float, keep_reading: Callable[[], bool]
    ) -> None:
        self._pages = pages
        self._now = now
        self._keep_reading = keep_reading
        self.count = 0
        self.error: BotoCoreError | ClientError | None = None
        self.stopped = False

    @property
    def complete(self) -> bool:
        return self.error is None and not self.stopped

    def __iter__(self) -> Iterator[Connection]:
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
                    connection = _live_connection(decode_item(item), self._now)
                    if connection:
                        self.count += 1
                        yield connection
                if "LastEvaluatedKey" not in page:
                    return
        except (BotoCoreError, ClientError) as error:
            self.error = error


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
