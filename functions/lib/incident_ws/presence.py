"""Presence: who is connected to a channel, told to the channel as clients come and go, and
listed on request (docs/handlers.md).

Events come from the connections table's stream, not from `$connect`, which must stay fast:
an INSERT is a client online; a REMOVE a client offline, `expired` when DynamoDB's TTL
service deleted the row, `gone` when a post found it gone (the fan-out marks the row `goneAt`
before deleting it), else `disconnected`. An event, like a member of the list, reaches a
connection as a message of the client's account (`delivery_account`), through the one rule of
the fan-out (`accepts`): tenants see only their accounts' clients, unscoped analysts see all.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from . import websocket_events
from .clients import frozen_credentials
from .config import FanOutConfig
from .connection_store import Connection, ConnectionStore, connection_from_item
from .connections_sender import ConnectionsSender
from .deadline import Deadline
from .fanout import ChannelReport, FanOut, accepts
from .limits import (
    CLOSING_FRAME_MARGIN_SECONDS,
    MAX_MESSAGE_BYTES,
    MAX_PRESENCE_MEMBERS,
    REPLY_DEADLINE_MARGIN_SECONDS,
)
from .logs import log_event
from .messages import Message, frame
from .records import RecordError, decoded_image, event_name_of, record_id, stream_section
from .replies import Reply, error_frame

logger = logging.getLogger(__name__)

ACTION = "presence"
# The `userIdentity` of a stream record whose item DynamoDB's TTL service deleted.
TTL_SERVICE = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}


def delivery_account(connection: Connection) -> str | None:
    """The account a client's presence belongs to: the account it registered to receive, else
    the one account of its scope, else none (seen only by unscoped connections)."""
    if connection.account is not None:
        return connection.account
    if connection.accounts is not None and len(connection.accounts) == 1:
        return next(iter(connection.accounts))
    return None


def member(connection: Connection) -> dict[str, Any]:
    return {
        "clientId": connection.client_id,
        "account": delivery_account(connection),
        "region": connection.region,
        "since": _iso(connection.created_at),
    }


def as_message(connection: Connection, body: bytes = b"", **fields: Any) -> Message:
    """The connection's presence as the fan-out delivers it: a message of its account."""
    return Message("presence", body, delivery_account(connection), **fields)


def presence_message(record: Any) -> Message | None:
    """The presence event of a connections-table stream record; None for a MODIFY (the
    `goneAt` mark). Raises RecordError when the record cannot be read."""
    event_name = event_name_of(record)
    if event_name not in ("INSERT", "REMOVE"):
        if event_name == "MODIFY":
            return None
        raise RecordError(f"unknown eventName {event_name!r}")
    dynamodb = stream_section(record)
    identifier = record_id(dynamodb)
    online = event_name == "INSERT"
    item = decoded_image(dynamodb, "NewImage" if online else "OldImage")
    connection = connection_from_item(item)
    if connection is None:
        raise RecordError("the image has no connectionId")
    content = {
        "type": "presence",
        "id": identifier,
        "event": "online" if online else "offline",
        **member(connection),
        "reason": None if online else _reason(record, item),
    }
    return as_message(
        connection, frame(content), sequence_number=dynamodb["SequenceNumber"], id=identifier
    )


def _reason(record: Mapping[str, Any], old_item: Mapping[str, Any]) -> str:
    if record.get("userIdentity") == TTL_SERVICE:
        return "expired"
    if "goneAt" in old_item:
        return "gone"
    return "disconnected"


def source_table(record: Any) -> str | None:
    """The table of a record's `eventSourceARN`
    (`arn:aws:dynamodb:{region}:{account}:table/{name}/stream/{label}`)."""
    arn = record.get("eventSourceARN") if isinstance(record, Mapping) else None
    if not isinstance(arn, str):
        return None
    resource = arn.split(":", 5)[-1].split("/")
    return resource[1] if len(resource) >= 2 and resource[0] == "table" else None


def accepted_members(requester: Connection, connections: Iterable[Connection]) -> list[dict]:
    """The members among `connections` that `requester` accepts, read until one more than
    MAX_PRESENCE_MEMBERS is found."""
    accepted = []
    for connection in connections:
        if accepts(requester, as_message(connection)):
            accepted.append(member(connection))
            if len(accepted) > MAX_PRESENCE_MEMBERS:
                break
    return accepted


def members_frame(members: list[dict], more: bool = False) -> tuple[bytes, int, bool]:
    """The `presence_members` frame, how many members it lists and whether it is truncated:
    oldest first, at most MAX_PRESENCE_MEMBERS and MAX_MESSAGE_BYTES; `truncated` when it
    lists fewer than `members`, or when there are `more` that were not read."""
    ordered = sorted(members, key=lambda m: (m["since"] or "", m["clientId"] or ""))
    shell = {"type": "presence_members", "members": [], "truncated": True}
    budget = MAX_MESSAGE_BYTES - len(frame(shell))
    listed = []
    for entry in ordered[:MAX_PRESENCE_MEMBERS]:
        size = len(frame(entry)) + (1 if listed else 0)  # and a comma
        if size > budget:
            break
        budget -= size
        listed.append(entry)
    truncated = more or len(listed) < len(ordered)
    return frame({**shell, "members": listed, "truncated": truncated}), len(listed), truncated


@dataclass
class PresenceBatch:
    """A stream batch's presence events per channel key, in stream order, and what the
    records that could be read were."""

    events: dict[str, list[Message]] = field(default_factory=dict)
    messages: list[Message] = field(default_factory=list)

    def add(self, channel: str, message: Message) -> None:
        self.events.setdefault(channel, []).append(message)
        self.messages.append(message)

    def retry(self, reports: Mapping[str, ChannelReport]) -> list[str]:
        """The sequence numbers to report as failed, in stream order (fanout.py's rule)."""
        unreached = {m.sequence_number for r in reports.values() for m in r.unreached()}
        in_order = (m.sequence_number for m in self.messages if m.sequence_number in unreached)
        return list(dict.fromkeys(in_order))


def _iso(epoch_milliseconds: int | None) -> str | None:
    if epoch_milliseconds is None:
        return None
    try:
        moment = datetime.datetime.fromtimestamp(epoch_milliseconds / 1000, datetime.UTC)
    except (OverflowError, OSError, ValueError):
        return None
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def batch_events(records: Any, channel_of_table: Mapping[str, str]) -> PresenceBatch:
    """The presence events of a stream batch, each on the channel whose table it comes from.
    Records that can never become an event (unreadable, of a table that is no presence
    channel's) are skipped and logged, not failed: retrying them would not help."""
    batch = PresenceBatch()
    if not isinstance(records, list):
        log_event(
            logger, logging.ERROR, "stream_event_without_records", type=type(records).__name__
        )
        return batch
    for position, record in enumerate(records):
        channel = channel_of_table.get(source_table(record) or "")
        try:
            if channel is None:
                raise RecordError("its eventSourceARN is no presence channel's table")
            message = presence_message(record)
        except RecordError as error:
            log_event(logger, logging.ERROR, "record_skipped", position=position, reason=str(error))
            continue
        if message is not None:
            batch.add(channel, message)
    return batch


class Presence:
    """Presence on the channels that have it on: a stream batch's events broadcast through the
    fan-out, and the member list a connection asks for. The fan-out leaves a connection
    answered 410 in its table (this function may not write it: the stream processor and the
    heartbeat delete it). Clients (built here unless given) live for the container's life."""

    def __init__(
        self,
        config: FanOutConfig,
        dynamodb: Any = None,
        sender: ConnectionsSender | None = None,
    ) -> None:
        self._channels = config.channels
        self._channel_of_table = {c.table: key for key, c in config.channels.items()}
        self.fan_out = FanOut(config, dynamodb, sender, forget_gone=False)
        self._session = boto3.session.Session()

    def broadcast(
        self, records: Any, deadline: Deadline
    ) -> tuple[PresenceBatch, dict[str, ChannelReport]]:
        batch = batch_events(records, self._channel_of_table)
        return batch, self.fan_out.send(batch.events, deadline)

    def answer_members(self, event: Any, context: Any) -> dict[str, Any]:
        """Posts the `presence_members` frame (or an error frame) to the connection that sent
        `{"action": "presence"}`; the fields of the log line that reports it."""
        request = websocket_events.request_context(event)
        connection_id = websocket_events.connection_id(event)
        api_id, stage = request.get("apiId"), request.get("stage")
        channel = next((c for c in self._channels.values() if c.serves(api_id, stage)), None)
        if channel is None or connection_id is None:
            return {"error": "no presence channel serves this API stage", "apiId": str(api_id)}
        work = Deadline.from_context(context, REPLY_DEADLINE_MARGIN_SECONDS)
        closing = Deadline.from_context(context, CLOSING_FRAME_MARGIN_SECONDS)
        credentials = frozen_credentials(self._session)
        reply = Reply(
            self.fan_out.sender, channel.endpoint, channel.region, credentials, connection_id
        )
        fields: dict[str, Any] = {"channel": channel.key, "connectionId": connection_id}
        try:
            members, more = self._members(channel.table, connection_id, work)
        except _Unlisted as unlisted:
            reply.send(error_frame(ACTION, None, "the members could not be listed"), closing)
            return {**fields, "error": str(unlisted), "lost": reply.lost}
        body, listed, truncated = members_frame(members, more)
        reply.send(body, closing)
        return {**fields, "members": listed, "truncated": truncated, "lost": reply.lost}

    def _members(self, table: str, connection_id: str, deadline: Deadline) -> tuple[list, bool]:
        """The members the requester accepts, and whether there may be more than were read.
        Raises _Unlisted when the requester's scope or the table cannot be read."""
        store = ConnectionStore(self.fan_out.dynamodb, table)
        try:
            requester = store.get(connection_id)
        except (BotoCoreError, ClientError) as error:
            raise _Unlisted(repr(error)) from None
        if requester is None:
            raise _Unlisted("connection not registered")
        scan = store.scan_live(keep_reading=deadline.allows, members=True)
        members = accepted_members(requester, scan)
        if scan.error is not None:
            raise _Unlisted(repr(scan.error))
        return members, scan.stopped


class _Unlisted(Exception):
    """The members cannot be listed for the requester: the message says why."""
