"""DynamoDB values and stream records → plain JSON-ready Python values."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import Binary, TypeDeserializer

from .limits import MAX_NESTING_LEVELS


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
    """An INSERT or MODIFY from the stream, its new image decoded."""

    sequence_number: str
    event: str  # "created" | "updated"
    item: dict[str, Any]


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
    if not isinstance(record, Mapping):
        raise RecordError("record is not an object")
    if _deeper_than(record, MAX_RECORD_DEPTH):
        raise RecordError(f"record nests deeper than DynamoDB's {MAX_NESTING_LEVELS} levels")
    event_name = record.get("eventName")
    if event_name == "REMOVE":
        return None
    if not isinstance(event_name, str) or event_name not in EVENT_NAMES:
        raise RecordError(f"unknown eventName {event_name!r}")
    dynamodb = record.get("dynamodb")
    if not isinstance(dynamodb, Mapping):
        raise RecordError("record has no dynamodb section")
    image = dynamodb.get("NewImage")
    if not isinstance(image, Mapping):
        raise RecordError("record has no NewImage (stream view type must include new images)")
    try:
        item = decode_item(image)
    except (TypeError, ValueError, ArithmeticError, AttributeError, KeyError) as error:
        raise RecordError(f"NewImage cannot be decoded: {error!r}") from None
    return Change(str(dynamodb.get("SequenceNumber", "")), EVENT_NAMES[event_name], item)


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
