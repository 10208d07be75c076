"""The `replay` route: a connection asks for the messages of its channel it missed, and gets
them from the channel's message log, filtered exactly as live delivery filters them
(docs/handlers.md)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from .clients import connections_sender, fan_out_dynamodb_client, frozen_credentials
from .config import ReplayConfig
from .connection_store import Connection, ConnectionStore
from .connections_sender import ConnectionsSender
from .deadline import Deadline
from .fanout import accepts
from .limits import (
    CLOSING_FRAME_MARGIN_SECONDS,
    REPLAY_MIN_PAGE_ITEMS,
    REPLY_DEADLINE_MARGIN_SECONDS,
)
from .message_ids import is_message_id
from .message_log import LogRead, LogReader
from .messages import frame
from .replies import Reply, error_frame

ACTION = "replay"


class BadRequest(ValueError):
    """A replay request that cannot be answered as asked; `field` names what is wrong."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class ReplayRequest:
    """Exactly one of: the messages after the id `since`, or the `last` ones."""

    since: str | None = None
    last: int | None = None

    def fields(self) -> dict[str, Any]:
        return {"since": self.since} if self.since is not None else {"last": self.last}


def read_request(body: Any, max_messages: int) -> ReplayRequest:
    """The request a frame's body makes; raises BadRequest. A `since` or `last` that is null
    counts as not given."""
    try:
        content = json.loads(body) if isinstance(body, str | bytes) else None
    except (ValueError, RecursionError):
        content = None
    if not isinstance(content, dict):
        raise BadRequest("body", 'a replay request is a JSON object: {"action": "replay", ...}')
    since, last = content.get("since"), content.get("last")
    if (since is None) == (last is None):
        raise BadRequest("body", 'give exactly one of "since" (a message id) and "last" (a count)')
    if since is not None:
        if not is_message_id(since):
            raise BadRequest(
                "since", "not a message id: 10 digits, a hyphen and 40 digits, as messages carry"
            )
        return ReplayRequest(since=since)
    if not isinstance(last, int) or isinstance(last, bool) or not 1 <= last <= max_messages:
        raise BadRequest("last", f"must be an integer from 1 to {max_messages}")
    return ReplayRequest(last=last)


@dataclass
class ReplayOutcome:
    """What one request came to, for its log line."""

    request: ReplayRequest | None = None
    sent: int = 0
    last_id: str | None = None
    truncated: bool = False
    rejected: str | None = None  # the field of a bad request
    failure: str | None = None  # why it could not be answered in full
    lost: str | None = None  # why the connection stopped taking frames

    def fields(self) -> dict[str, Any]:
        fields = {
            **(self.request.fields() if self.request else {}),
            "sent": self.sent,
            "lastId": self.last_id,
            "truncated": self.truncated,
        }
        extra = {"field": self.rejected, "error": self.failure, "lost": self.lost}
        return {**fields, **{key: value for key, value in extra.items() if value is not None}}


class Replayer:
    """Answers replay requests on one channel. The clients (built here unless given) live for
    the container's life."""

    def __init__(
        self,
        config: ReplayConfig,
        dynamodb: Any = None,
        sender: ConnectionsSender | None = None,
    ) -> None:
        self._config = config
        self.dynamodb = dynamodb or fan_out_dynamodb_client(max_pool_connections=2)
        self.sender = sender or connections_sender(max_in_flight=1)
        self._session = boto3.session.Session()
        self._connections = ConnectionStore(self.dynamodb, config.connections_table)
        self._log = LogReader(self.dynamodb, config.messages_table, config.channel)

    def answer(self, connection_id: str, body: Any, context: Any) -> ReplayOutcome:
        """Reads and sends until REPLY_DEADLINE_MARGIN_SECONDS before Lambda's timeout, and
        posts the closing frames until CLOSING_FRAME_MARGIN_SECONDS before it."""
        work = Deadline.from_context(context, REPLY_DEADLINE_MARGIN_SECONDS)
        closing = Deadline.from_context(context, CLOSING_FRAME_MARGIN_SECONDS)
        config = self._config
        credentials = frozen_credentials(self._session)
        reply = Reply(self.sender, config.endpoint, config.region, credentials, connection_id)
        replay = _Replay(reply, work, closing, config.max_messages)
        try:
            request = read_request(body, config.max_messages)
        except BadRequest as bad:
            replay.outcome.rejected = bad.field
            replay.error(bad.field, str(bad))
            return replay.outcome
        replay.outcome.request = request
        try:
            connection = self._connections.get(connection_id)
        except (BotoCoreError, ClientError) as error:
            replay.fail(repr(error), "your connection could not be read; try again")
            return replay.outcome
        if connection is None:
            replay.fail("connection not registered", "this connection is not registered")
        elif request.since is not None:
            page = max(config.max_messages + 1, REPLAY_MIN_PAGE_ITEMS)
            replay.since(connection, self._log.after(request.since, work.allows, page))
        else:
            page = max(request.last, REPLAY_MIN_PAGE_ITEMS)
            replay.last(connection, self._log.newest(work.allows, page), request.last)
        return replay.outcome


class _Replay:
    """One request's frames to its connection, and what they came to."""

    def __init__(self, reply: Reply, work: Deadline, closing: Deadline, max_messages: int) -> None:
        self._reply = reply
        self._work = work
        self._closing = closing
        self._max_messages = max_messages
        self.outcome = ReplayOutcome()

    def since(self, connection: Connection, read: LogRead) -> None:
        """In id order, the messages after `since` that the connection accepts, at most
        max_messages; `replay_truncated` with where to resume when there are more (the last
        id sent) or when time ran out (the last id read: everything up to it was sent or is
        not for this connection)."""
        outcome = self.outcome
        resume_from = outcome.request.since
        for message in read:
            if not accepts(connection, message):
                resume_from = message.id
                continue
            if outcome.sent == self._max_messages:
                resume_from = outcome.last_id
                outcome.truncated = True
                break
            if not self._send(message.body, message.id):
                outcome.truncated = self._reply.lost is None
                break
            resume_from = message.id
        else:
            if read.error is not None:
                self.fail(repr(read.error), "the message log could not be read; try again")
                return
            outcome.truncated = read.stopped
        self._close(resume_from)

    def last(self, connection: Connection, read: LogRead, count: int) -> None:
        """The newest `count` messages the connection accepts, oldest first."""
        newest = []
        for message in read:
            if accepts(connection, message):
                newest.append(message)
                if len(newest) == count:
                    break
        if read.error is not None:
            self.fail(repr(read.error), "the message log could not be read; try again")
            return
        for message in reversed(newest):
            if not self._send(message.body, message.id):
                self.outcome.truncated = self._reply.lost is None and self.outcome.sent > 0
                break
        self._close(self.outcome.last_id)

    def error(self, field: str | None, message: str) -> None:
        self._reply.send(error_frame(ACTION, field, message), self._closing)
        self.outcome.lost = self._reply.lost

    def fail(self, failure: str, message: str) -> None:
        self.outcome.failure = failure
        self.error(None, message)

    def _send(self, body: bytes, message_id: str) -> bool:
        if not self._reply.send(body, self._work):
            self.outcome.lost = self._reply.lost
            return False
        self.outcome.sent += 1
        self.outcome.last_id = message_id
        return True

    def _close(self, resume_from: str | None) -> None:
        outcome = self.outcome
        if outcome.truncated:
            truncated = {"type": "replay_truncated", "lastId": resume_from}
            self._reply.send(frame(truncated), self._closing)
        complete = {"type": "replay_complete", "count": outcome.sent, "lastId": outcome.last_id}
        self._reply.send(frame(complete), self._closing)
        outcome.lost = self._reply.lost
