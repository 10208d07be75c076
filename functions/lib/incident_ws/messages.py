"""The WebSocket messages clients receive, and their wire encoding (docs/handlers.md)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from .limits import MAX_MESSAGE_BYTES
from .records import Change

INCIDENT_FIELDS = ("incident_id", "severity", "status", "title", "account", "region")
REMEDIATION_FIELDS = ("action", "status", "incident_id", "account", "region")

# What a channel's messages carry as `data`: None the whole item, () nothing (no `data` key),
# else only these attributes of the item.
DataAttributes = tuple[str, ...] | None


class MessageTooLarge(ValueError):
    """Even without `data` the message is over MAX_MESSAGE_BYTES."""


@dataclass(frozen=True)
class Message:
    """An encoded message, ready to post, and what routing and connection filters read."""

    type: str
    body: bytes
    account: Any = None
    region: Any = None
    sequence_number: str | None = None  # of the stream record it was built from
    id: str | None = None  # the message id (message_ids.py); None for a ping
    to_everyone: bool = False  # whatever a connection's scope and filters (the heartbeat's ping)
    created_at: float | None = None  # epoch seconds its stream record was created
    # What `body` encodes, `data` and all; None for a message no channel encodes otherwise.
    content: Mapping[str, Any] | None = field(default=None, repr=False, compare=False)

    def with_data(self, attributes: DataAttributes) -> Message:
        """The message as a channel whose `data` carries `attributes` receives it. Its `body`
        encodes the whole item; only another choice is encoded again."""
        if attributes is None or self.content is None:
            return self
        return replace(self, body=encode(restrict_data(self.content, attributes)))


def classify(item: Mapping[str, Any]) -> str | None:
    """`action` → remediation (a log may carry its incident_id), else `incident_id` →
    incident, else None."""
    if "action" in item:
        return "remediation"
    if "incident_id" in item:
        return "incident"
    return None


def build_message(change: Change) -> dict[str, Any] | None:
    """The message for a change, or None when the item is neither kind."""
    item = change.item
    message_type = classify(item)
    if message_type == "incident":
        return {
            "type": "incident",
            "id": change.message_id,
            "event": change.event,
            **{field: item.get(field) for field in INCIDENT_FIELDS},
            "timestamp": _first(item, "timestamp", "updated_at", "created_at"),
            "resource": _first(item, "arn", "resource", "sg"),
            "data": item,
        }
    if message_type == "remediation":
        return {
            "type": "remediation",
            "id": change.message_id,
            "event": change.event,
            **{field: item.get(field) for field in REMEDIATION_FIELDS},
            "target": _first(item, "target", "arn", "resource", "sg"),
            "timestamp": _first(item, "timestamp", "updated_at", "created_at"),
            "data": item,
        }
    return None


def restrict_data(message: Mapping[str, Any], attributes: DataAttributes) -> dict[str, Any]:
    """`message` whose `data` (the whole item) keeps only the `attributes` that the item has,
    or is left out when `attributes` is empty; unchanged when it is None."""
    if attributes is None:
        return dict(message)
    restricted = {key: value for key, value in message.items() if key != "data"}
    if attributes:
        item = message.get("data") or {}
        restricted["data"] = {name: item[name] for name in attributes if name in item}
    return restricted


def ping(now: float) -> Message:
    """The heartbeat's message, to every connection whatever its scope and filters."""
    return Message("ping", encode({"type": "ping", "timestamp": int(now)}), to_everyone=True)


def frame(content: Mapping[str, Any]) -> bytes:
    """A message that is not an incident's: compact UTF-8 JSON, as every message is."""
    return _dumps(content)


def encode(message: Mapping[str, Any]) -> bytes:
    """UTF-8 JSON within MAX_MESSAGE_BYTES: over it, sent without `data` and marked
    `"truncated": true`; raises MessageTooLarge when even that is over, ValueError when a
    value has no JSON form."""
    body = _dumps(message)
    if len(body) <= MAX_MESSAGE_BYTES:
        return body
    body = _dumps({**{k: v for k, v in message.items() if k != "data"}, "truncated": True})
    if len(body) <= MAX_MESSAGE_BYTES:
        return body
    raise MessageTooLarge(f"{len(body)} bytes without data (limit {MAX_MESSAGE_BYTES})")


def _dumps(message: Mapping[str, Any]) -> bytes:
    text = json.dumps(message, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.encode("utf-8")


def _first(item: Mapping[str, Any], *fields: str) -> Any:
    return next((item[field] for field in fields if item.get(field) is not None), None)
