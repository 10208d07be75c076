"""Reading API Gateway WebSocket `$connect`/`$disconnect` events defensively."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

from .limits import MAX_SOURCE_IP_CHARS


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
    """`identity.sourceIp`, else the first address of X-Forwarded-For, whichever is an IP
    address; in canonical form, without an IPv6 zone."""
    identity = request_context(event).get("identity")
    candidates = [identity.get("sourceIp") if isinstance(identity, Mapping) else None]
    forwarded = header(event, "X-Forwarded-For")
    if forwarded:
        candidates.append(forwarded.split(",", 1)[0].strip())
    return next((ip for ip in map(_canonical_ip, candidates) if ip), None)


def _canonical_ip(value: Any) -> str | None:
    """The address as `ipaddress` writes it. A zone (`%eth0`) is dropped: `ipaddress` accepts
    any text there, and it names an interface of the client's host, not of ours."""
    if not isinstance(value, str) or len(value) > MAX_SOURCE_IP_CHARS:
        return None
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address):
        address = ipaddress.IPv6Address(address.packed)
    return str(address)
