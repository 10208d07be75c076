"""The WebSocket messages clients receive, and their wire encoding (docs/handlers.md)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .limits import MAX_MESSAGE_BYTES
from .records import Change

INCIDENT_FIELDS = ("incident_id", "severity", "status", "title", "account", "region")
REMEDIATION_FIELDS = ("action", "status", "incident_id", "account", "region")


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
            "event": change.event,
            **{field: item.get(field) for field in INCIDENT_FIELDS},
            "timestamp": _first(item, "timestamp", "updated_at", "created_at"),
            "resource": _first(item, "arn", "resource", "sg"),
            "data": item,
        }
    if message_type == "remediation":
        return {
            "type": "remediation",
            "event": change.event,
            **{field: item.get(field) for field in REMEDIATION_FIELDS},
            "target": _first(item, "target", "arn", "resource", "sg"),
            "timestamp": _first(item, "timestamp", "updated_at", "created_at"),
            "data": item,
        }
    return None


def ping(now: float) -> Message:
    """The heartbeat's message; it has no account or region, so every connection gets it."""
    return Message("ping", encode({"type": "ping", "timestamp": int(now)}))


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
