"""Reading API Gateway WebSocket `$connect`/`$disconnect` events defensively."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any


def request_context(event: Any) -> Mapping[str, Any]:
    context = event.get("requestContext") if isinstance(event, Mapping) else None
    return context if isinstance(context, Mapping) else {}


def connection_id(event: Any) -> str | None:
    value = request_context(event).get("connectionId")
    return value if isinstance(value, str) and value else None


def header(event: Any, name: str) -> str | None:
    """A header's (first) value, whatever the case of its name."""
    if not isinstance(event, Mapping):
        return None
    wanted = name.lower()
    for key, single, multi in (("headers", True, False), ("multiValueHeaders", False, True)):
        headers = event.get(key)
        if not isinstance(headers, Mapping):
            continue
        for header_name, value in headers.items():
            if not isinstance(header_name, str) or header_name.lower() != wanted:
                continue
            if single and isinstance(value, str):
                return value
            if multi and isinstance(value, list) and value and isinstance(value[0], str):
                return value[0]
    return None


def source_ip(event: Any) -> str | None:
    """`identity.sourceIp`, else the first address of X-Forwarded-For; only valid IPs."""
    identity = request_context(event).get("identity")
    candidates = [identity.get("sourceIp") if isinstance(identity, Mapping) else None]
    forwarded = header(event, "X-Forwarded-For")
    if forwarded:
        candidates.append(forwarded.split(",", 1)[0].strip())
    return next((ip for ip in candidates if _is_ip(ip)), None)


def _is_ip(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True
