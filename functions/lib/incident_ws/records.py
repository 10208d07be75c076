"""DynamoDB values and stream records → plain JSON-ready Python values."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import Binary, TypeDeserializer

from .limits import MAX_NESTING_LEVELS
from .message_ids import NoMessageId, message_id


class _Deserializer(TypeDeserializer):
    """Also reads binary as Lambda delivers it in stream events: base64 text (the JSON wire
    form), where boto3 responses carry bytes."""

    def _deserialize_b(self, value: Any) -> Binary:
        if isinstance(value, str):
            value = base64.b64decode(value, validate=True)
        return super()._deserialize_b(value)


_deserializer = _Deserializer()

EVENT_NAMES = {"INSERT": "created", "MODIFY": "updated"}
# A record, its `dynamodb`, its NewImage and an attribute's value are 4 levels of JSON; every
# map or list of an item adds 2 (`{"M": {...}}`, `{"L": [...]}`).
MAX_RECORD_DEPTH = 4 + 2 * MAX_NESTING_LEVELS


class RecordError(ValueError):
    """A stream record that cannot be read (malformed, not a DynamoDB change)."""


@dataclass(frozen=True)
class Change:
    """An INSERT or MODIFY from the stream, its new image decoded, the id of its message, and
    when the record was created (its ApproximateCreationDateTime, epoch seconds)."""

    sequence_number: str
    event: str  # "created" | "updated"
    item: dict[str, Any]
    message_id: str
    created_at: float


def decode_item(item: Mapping[str, Any]) -> dict[str, Any]:
    """A low-level item (`{"n": {"N": "1"}}`) as JSON-ready Python values."""
    return {key: _plain(_deserializer.deserialize(value)) for key, value in item.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"number {value} has no JSON form")
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, Binary | bytes | bytearray):
        raw = value.value if isinstance(value, Binary) else bytes(value)
        return base64.b64encode(raw).decode("ascii")
    if isinstance(value, set):
        return sorted(_plain(member) for member in value)
    if isinstance(value, list):
        return [_plain(member) for member in value]
    if isinstance(value, dict):
        return {key: _plain(member) for key, member in value.items()}
    return value


def read_change(record: Any) -> Change | None:
    """The change a stream record carries; None for REMOVE (TTL deletes included).

    Raises RecordError when the record is not a readable INSERT/MODIFY.
    """
    event_name = event_name_of(record)
    if event_name == "REMOVE":
        return None
    if event_name not in EVENT_NAMES:
        raise RecordError(f"unknown eventName {event_name!r}")
    dynamodb = stream_section(record)
    identifier = record_id(dynamodb)
    item = decoded_image(dynamodb, "NewImage")
    return Change(
        dynamodb["SequenceNumber"],
        EVENT_NAMES[event_name],
        item,
        identifier,
        dynamodb["ApproximateCreationDateTime"],
    )


def event_name_of(record: Any) -> str:
    """The eventName of a record that is an object no deeper than DynamoDB allows; raises
    RecordError otherwise."""
    if not isinstance(record, Mapping):
        raise RecordError("record is not an object")
    if _deeper_than(record, MAX_RECORD_DEPTH):
        raise RecordError(f"record nests deeper than DynamoDB's {MAX_NESTING_LEVELS} levels")
    event_name = record.get("eventName")
    if not isinstance(event_name, str):
        raise RecordError(f"unknown eventName {event_name!r}")
    return event_name


def stream_section(record: Mapping[str, Any]) -> Mapping[str, Any]:
    """The record's `dynamodb` section; raises RecordError."""
    dynamodb = record.get("dynamodb")
    if not isinstance(dynamodb, Mapping):
        raise RecordError("record has no dynamodb section")
    return dynamodb


def decoded_image(dynamodb: Mapping[str, Any], name: str) -> dict[str, Any]:
    """The record's `NewImage` or `OldImage`, decoded; raises RecordError."""
    image = dynamodb.get(name)
    if not isinstance(image, Mapping):
        raise RecordError(f"record has no {name} (the stream view type must include it)")
    try:
        return decode_item(image)
    except (TypeError, ValueError, ArithmeticError, AttributeError, KeyError) as error:
        raise RecordError(f"{name} cannot be decoded: {error!r}") from None


def record_id(dynamodb: Mapping[str, Any]) -> str:
    """The message id of the record (message_ids.py); raises RecordError."""
    try:
        return message_id(dynamodb)
    except NoMessageId as error:
        raise RecordError(f"no message id: {error}") from None


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether objects and lists nest more than `limit` deep, found without recursion: decoding
    and encoding recurse once per level, and a direct invocation can send any depth."""
    pending = [(value, 1)]
    while pending:
        current, depth = pending.pop()
        if isinstance(current, Mapping):
            members = current.values()
        elif isinstance(current, list):
            members = current
        else:
            continue
        if depth > limit:
            return True
        pending.extend((member, depth + 1) for member in members)
    return False
