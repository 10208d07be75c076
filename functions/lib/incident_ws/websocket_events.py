"""Reading API Gateway WebSocket events defensively: `$connect`, `$disconnect`, and the REQUEST
authorizer event of `$connect` (the `$connect` event plus `type` and `methodArn`).

Any part of an event may be missing or of another type: a reader then answers None (or
nothing), and the caller decides.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Mapping
from typing import Any

from .limits import MAX_LOGGED_EVENT_CHARS, MAX_SOURCE_IP_CHARS

_METHOD_ARN = re.compile(
    r"arn:aws[a-z-]*:execute-api:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9]+/[^/\s]+/\S+"
)
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")


def request_context(event: Any) -> Mapping[str, Any]:
    context = event.get("requestContext") if isinstance(event, Mapping) else None
    return context if isinstance(context, Mapping) else {}


def identity(event: Any) -> Mapping[str, Any]:
    """`requestContext.identity`: the caller's address, and its IAM identity on `AWS_IAM`
    routes (`userArn`, `accessKey`, ...)."""
    value = request_context(event).get("identity")
    return value if isinstance(value, Mapping) else {}


def authorizer_context(event: Any) -> Mapping[str, Any] | None:
    """`requestContext.authorizer` of `$connect`: the Lambda authorizer's context and its
    `principalId`; None when the event has none."""
    value = request_context(event).get("authorizer")
    return value if isinstance(value, Mapping) else None


def connection_id(event: Any) -> str | None:
    value = request_context(event).get("connectionId")
    return value if isinstance(value, str) and value else None


def method_arn(event: Any) -> str | None:
    """The authorizer event's `arn:aws:execute-api:{region}:{account}:{api}/{stage}/$connect`."""
    value = event.get("methodArn") if isinstance(event, Mapping) else None
    return value if isinstance(value, str) and _METHOD_ARN.fullmatch(value) else None


def header(event: Any, name: str) -> str | None:
    """A header's first value, whatever the case of its name: `headers`, then
    `multiValueHeaders`."""
    wanted = name.lower()
    return _first(event, "headers", "multiValueHeaders", lambda key: key.lower() == wanted)


def query_parameter(event: Any, name: str) -> str | None:
    """A query parameter's first value: `queryStringParameters`, then
    `multiValueQueryStringParameters`."""
    return _first(
        event, "queryStringParameters", "multiValueQueryStringParameters", lambda key: key == name
    )


def source_ip(event: Any) -> str | None:
    """`identity.sourceIp`, else the first address of X-Forwarded-For, whichever is an IP
    address; in canonical form, without an IPv6 zone."""
    candidates = [identity(event).get("sourceIp")]
    forwarded = header(event, "X-Forwarded-For")
    if forwarded:
        candidates.append(forwarded.split(",", 1)[0].strip())
    return next((ip for ip in map(_canonical_ip, candidates) if ip), None)


def offered_subprotocols(event: Any) -> list[str]:
    """The entries of `Sec-WebSocket-Protocol`, in the client's order."""
    offered = header(event, "Sec-WebSocket-Protocol") or ""
    return [entry.strip() for entry in offered.split(",") if entry.strip()]


def is_token_shaped(entry: str) -> bool:
    """Whether a subprotocol entry has the shape of a JWT (three base64url segments)."""
    return bool(_TOKEN_SHAPE.fullmatch(entry))


def subprotocol_to_echo(event: Any) -> str | None:
    """The subprotocol `$connect` must answer with when the client offered any (API Gateway
    refuses the handshake otherwise): the first entry that is not a token, else the first."""
    offered = offered_subprotocols(event)
    candidates = [entry for entry in offered if not is_token_shaped(entry)] or offered
    return candidates[0] if candidates else None


def log_fields(event: Any) -> dict[str, str]:
    """connectionId and sourceIp for a log line, when the event has them."""
    fields = {"connectionId": connection_id(event), "sourceIp": source_ip(event)}
    return {k: v[:MAX_LOGGED_EVENT_CHARS] for k, v in fields.items() if v is not None}


def _first(event: Any, single: str, multi: str, matches: Callable[[str], bool]) -> str | None:
    """The first string value under a matching name: `single` map first, then `multi`."""
    if not isinstance(event, Mapping):
        return None
    for key, is_multi in ((single, False), (multi, True)):
        values = event.get(key)
        if not isinstance(values, Mapping):
            continue
        for name, value in values.items():
            if not isinstance(name, str) or not matches(name):
                continue
            if is_multi:
                value = value[0] if isinstance(value, list) and value else None
            if isinstance(value, str):
                return value
    return None


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
