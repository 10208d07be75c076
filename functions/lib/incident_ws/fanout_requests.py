"""What the stream processor asks of the fan-out worker, and what the worker answers.

A request names a channel, one segment of its connections table (a parallel Scan), some of
the batch's messages in stream order (each with its id, its stream record and its position
among the channel's messages) and the wall-clock time after which nothing may start. The
answer is the worker's `ChannelReport` of that segment. Both are JSON; a message's body is
its UTF-8 text, so the worker posts exactly the bytes the stream processor encoded.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from .connection_store import ScanSegment
from .fanout import ChannelReport, DeliveryCounts
from .messages import Message

__all__ = [
    "RequestError",
    "SegmentRequest",
    "decode_report",
    "decode_request",
    "encode_report",
    "requests_within",
]


class RequestError(ValueError):
    """A request or an answer that does not have the shape this module writes."""


@dataclass(frozen=True)
class SegmentRequest:
    """Post `messages` (positions `first` on among the channel's) to the connections of
    `segment` of `channel`'s table; start nothing after `deadline` (epoch seconds)."""

    channel: str
    segment: ScanSegment
    messages: tuple[Message, ...]
    deadline: float | None
    first: int = 0

    def encode(self) -> bytes:
        return _dumps(self._fields([_message(m) for m in self.messages]))

    def _fields(self, messages: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "segment": self.segment.index,
            "totalSegments": self.segment.total,
            "first": self.first,
            "deadline": self.deadline,
            "messages": messages,
        }


def requests_within(
    channel: str,
    segment: ScanSegment,
    messages: Sequence[Message],
    deadline: float | None,
    limit: int,
) -> Iterator[tuple[SegmentRequest, bytes]]:
    """The messages as consecutive requests of at most `limit` bytes each, with their
    encodings: one request unless the messages are too big together. Raises RequestError
    when one message alone is over the limit."""
    # The request without messages, less the comma the first message goes without.
    empty = len(SegmentRequest(channel, segment, (), deadline).encode()) - 1
    first, size = 0, empty
    for position, message in enumerate(messages):
        length = len(_dumps(_message(message))) + 1  # and its comma
        if empty + length > limit:
            raise RequestError(f"message {message.id} alone is over {limit} bytes")
        if position > first and size + length > limit:
            yield _request(channel, segment, messages, deadline, first, position)
            first, size = position, empty
        size += length
    if first < len(messages) or not messages:
        yield _request(channel, segment, messages, deadline, first, len(messages))


def _request(
    channel: str,
    segment: ScanSegment,
    messages: Sequence[Message],
    deadline: float | None,
    first: int,
    end: int,
) -> tuple[SegmentRequest, bytes]:
    request = SegmentRequest(channel, segment, tuple(messages[first:end]), deadline, first)
    return request, request.encode()


def decode_request(event: Any) -> SegmentRequest:
    """The request an invocation event holds; RequestError says what is wrong with it."""
    if not isinstance(event, dict):
        raise RequestError(f"the request must be a JSON object, got {type(event).__name__}")
    channel = event.get("channel")
    if not isinstance(channel, str) or not channel:
        raise RequestError("channel must be a non-empty string")
    index, total, first = event.get("segment"), event.get("totalSegments"), event.get("first", 0)
    if not all(_whole(value) for value in (index, total, first)) or first < 0:
        raise RequestError("segment, totalSegments and first must be whole numbers")
    try:
        segment = ScanSegment(index, total)
    except ValueError as error:
        raise RequestError(str(error)) from None
    deadline = event.get("deadline")
    if deadline is not None and not _finite(deadline):
        raise RequestError("deadline must be epoch seconds or null")
    messages = event.get("messages")
    if not isinstance(messages, list):
        raise RequestError("messages must be a list")
    return SegmentRequest(
        channel,
        segment,
        tuple(_read_message(m, n) for n, m in enumerate(messages)),
        deadline,
        first,
    )


def encode_report(report: ChannelReport) -> dict[str, Any]:
    """The worker's answer: its report, with positions among the request's messages."""
    return {
        "connections": report.connections,
        "counts": report.counts.as_dict(),
        "deliveredAt": {str(position): at for position, at in report.delivered_at.items()},
        "unreadable": report.unreadable,
        "incomplete": list(report.incomplete),
        "failure": report.failure,
        "seconds": report.seconds,
    }


def decode_report(
    answer: Any, request: SegmentRequest, channel_messages: tuple[Message, ...], table: str
) -> ChannelReport:
    """A worker's answer to `request` as a report on the channel's messages (positions among
    all of them). RequestError when the answer is not one `encode_report` writes."""
    try:
        counts = DeliveryCounts(**{k: int(v) for k, v in answer["counts"].items()})
        delivered_at = {
            request.first + int(position): float(at)
            for position, at in answer["deliveredAt"].items()
            if 0 <= int(position) < len(request.messages)
        }
        return ChannelReport(
            request.channel,
            table,
            int(answer["connections"]),
            counts,
            channel_messages,
            delivered_at,
            unreadable=answer["unreadable"],
            incomplete=tuple(str(reason) for reason in answer["incomplete"]),
            failure=answer["failure"],
            seconds=float(answer["seconds"]),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise RequestError(f"the worker's answer is not a report: {error!r}") from None


def _message(message: Message) -> dict[str, Any]:
    return {
        "type": message.type,
        "body": message.body.decode("utf-8"),
        "account": message.account,
        "region": message.region,
        "sequenceNumber": message.sequence_number,
        "id": message.id,
        "toEveryone": message.to_everyone,
        "createdAt": message.created_at,
    }


def _read_message(fields: Any, position: int) -> Message:
    if not isinstance(fields, dict):
        raise RequestError(f"messages[{position}] must be an object")
    body, message_type = fields.get("body"), fields.get("type")
    if not isinstance(body, str) or not isinstance(message_type, str):
        raise RequestError(f"messages[{position}] needs a string type and body")
    created_at = fields.get("createdAt")
    return Message(
        message_type,
        body.encode("utf-8"),
        fields.get("account"),
        fields.get("region"),
        _optional_string(fields.get("sequenceNumber")),
        _optional_string(fields.get("id")),
        to_everyone=fields.get("toEveryone") is True,
        created_at=created_at if _finite(created_at) else None,
    )


def _optional_string(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
