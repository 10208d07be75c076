"""Where the token of a `$connect` comes from, in order of precedence.

1. the `token` query parameter: browsers cannot set headers on a WebSocket handshake;
2. `Authorization: Bearer <jwt>`: agents and services;
3. an entry of `Sec-WebSocket-Protocol` shaped like a JWT: browsers that keep the token
   out of URLs offer `["incident-websocket", "<jwt>"]`, and `$connect` echoes
   `incident-websocket`, the first entry that is not a token, as API Gateway requires.

The first source present is the one used: a bad token there is not rescued by another.
"""

from __future__ import annotations

import re
from typing import Any

from incident_ws.websocket_events import (
    header,
    is_token_shaped,
    offered_subprotocols,
    query_parameter,
)

SUBPROTOCOL = "incident-websocket"

_BEARER = re.compile(r"bearer[ \t]+(\S+)[ \t]*", re.IGNORECASE)


def token_from_event(event: Any) -> tuple[str, str] | None:
    """(token, source) with source `query`, `authorization` or `subprotocol`; else None."""
    token = query_parameter(event, "token")
    if token:
        return token, "query"
    bearer = _BEARER.fullmatch(header(event, "Authorization") or "")
    if bearer:
        return bearer.group(1), "authorization"
    for entry in offered_subprotocols(event):
        if is_token_shaped(entry):
            return entry, "subprotocol"
    return None
