"""The connections-table item of a `$connect`, and the answer to it (docs/handlers.md)."""

from __future__ import annotations

from typing import Any

from . import websocket_events
from .access import Caller
from .connection_store import audience
from .limits import MAX_USER_AGENT_CHARS
from .validation import InvalidParameter, ParameterOutsideScope, client_parameters


def connection_item(
    event: Any, caller: Caller, ttl_seconds: int, store_source_ip: bool, now: float
) -> dict[str, Any]:
    """Raises InvalidParameter (naming it) when the event cannot be registered, and
    ParameterOutsideScope when it asks for an account the caller may not see."""
    connection_id = websocket_events.connection_id(event)
    if connection_id is None:
        raise InvalidParameter("requestContext.connectionId", "missing")
    query = event.get("queryStringParameters")
    client = client_parameters(query)
    if client.account is not None and not caller.may_see(client.account):
        raise ParameterOutsideScope("account", "not one of the accounts this principal may see")
    item: dict[str, Any] = {
        "connectionId": connection_id,
        "createdAt": int(now * 1000),
        "clientId": client.client_id,
        "audience": audience(client.account, caller.accounts),
    }
    if ttl_seconds:
        item["ttl"] = int(now) + ttl_seconds
    optional = {
        "account": client.account,
        "region": client.region,
        "sourceIp": websocket_events.source_ip(event) if store_source_ip else None,
        "userAgent": _user_agent(event),
        "principal": caller.principal,
        "accounts": set(caller.accounts) if caller.accounts is not None else None,
    }
    item.update({key: value for key, value in optional.items() if value})
    return item


def connected_response(event: Any) -> dict[str, Any]:
    """200, echoing the subprotocol the client offered, as API Gateway requires."""
    response: dict[str, Any] = {"statusCode": 200, "body": "connected"}
    subprotocol = websocket_events.subprotocol_to_echo(event)
    if subprotocol is not None:
        response["headers"] = {"Sec-WebSocket-Protocol": subprotocol}
    return response


def _user_agent(event: Any) -> str | None:
    value = websocket_events.header(event, "User-Agent")
    return value[:MAX_USER_AGENT_CHARS] if value else None
