"""The connections-table item of a `$connect` (docs/handlers.md)."""

from __future__ import annotations

from typing import Any

from . import websocket_events
from .limits import MAX_USER_AGENT_CHARS
from .validation import InvalidParameter, client_parameters


def connection_item(
    event: Any, ttl_seconds: int, store_source_ip: bool, now: float
) -> dict[str, Any]:
    """Raises InvalidParameter (naming it) when the event cannot be registered."""
    connection_id = websocket_events.connection_id(event)
    if connection_id is None:
        raise InvalidParameter("requestContext.connectionId", "missing")
    query = event.get("queryStringParameters")
    client = client_parameters(query)
    item: dict[str, Any] = {
        "connectionId": connection_id,
        "createdAt": int(now * 1000),
        "clientId": client.client_id,
    }
    if ttl_seconds:
        item["ttl"] = int(now) + ttl_seconds
    optional = {
        "account": client.account,
        "region": client.region,
        "sourceIp": websocket_events.source_ip(event) if store_source_ip else None,
        "userAgent": _user_agent(event),
    }
    item.update({key: value for key, value in optional.items() if value})
    return item


def _user_agent(event: Any) -> str | None:
    value = websocket_events.header(event, "User-Agent")
    return value[:MAX_USER_AGENT_CHARS] if value else None
