"""Where the token of a `$connect` comes from, in order of precedence.

1. the `token` query parameter: browsers cannot set headers on a WebSocket handshake;
2. `Authorization: Bearer <jwt>`: agents and services;
3. an entry of `Sec-WebSocket-Protocol` shaped like a JWT: browsers that keep the token
   out of URLs offer `["incident-websocket", "<jwt>"]`, and `$connect` echoes
   `incident-websocket`, the first entry, as API Gateway requires.

The first source present is the one used: a bad token there is not rescued by another.
"""

from __future__ import annotations

import re
from typing import Any

from incident_ws.auth.event import header, query_parameter

SUBPROTOCOL = "incident-websocket"

_JWT_SHAPE = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
_BEARER = re.compile(r"bearer[ \t]+(\S+)[ \t]*", re.IGNORECASE)


def token_from_event(event: Any) -> tuple[str, str] | None:
    """(token, source) with source `query`, `authorization` or `subprotocol`; else None."""
    token = query_parameter(event, "token")
    if token:
        return token, "query"
    bearer = _BEARER.fullmatch(header(event, "Authorization") or "")
    if bearer:
        return bearer.group(1), "authorization"
    for entry in (header(event, "Sec-WebSocket-Protocol") or "").split(","):
        if _JWT_SHAPE.fullmatch(entry.strip()):
            return entry.strip(), "subprotocol"
    return None
