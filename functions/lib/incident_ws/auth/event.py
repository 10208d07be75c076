"""Reading the API Gateway WebSocket REQUEST authorizer event of `$connect`, defensively.

Its shape: `type` ("REQUEST"), `methodArn` (`arn:aws:execute-api:{region}:{account}:
{api-id}/{stage}/$connect`), `headers` / `multiValueHeaders`, `queryStringParameters` /
`multiValueQueryStringParameters`, `stageVariables`, `requestContext` (`connectionId`,
`identity.sourceIp`, ...). Any of it may be missing or of another type: a reader then
answers None, and the caller decides.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

_METHOD_ARN = re.compile(
    r"arn:aws[a-z-]*:execute-api:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9]+/[^/\s]+/\S+"
)
_MAX_LOGGED_LENGTH = 256


def method_arn(event: Any) -> str | None:
    value = event.get("methodArn") if isinstance(event, Mapping) else None
    return value if isinstance(value, str) and _METHOD_ARN.fullmatch(value) else None


def header(event: Any, name: str) -> str | None:
    """A header's first value, whatever the case of its name."""
    wanted = name.lower()
    return _first(event, "headers", "multiValueHeaders", lambda key: key.lower() == wanted)


def query_parameter(event: Any, name: str) -> str | None:
    """A query parameter's first value."""
    return _first(
        event, "queryStringParameters", "multiValueQueryStringParameters", lambda key: key == name
    )


def request_fields(event: Any) -> dict[str, str]:
    """connectionId and sourceIp for the log line, when the event has them as strings."""
    context = event.get("requestContext") if isinstance(event, Mapping) else None
    context = context if isinstance(context, Mapping) else {}
    identity = context.get("identity")
    fields = {
        "connectionId": context.get("connectionId"),
        "sourceIp": identity.get("sourceIp") if isinstance(identity, Mapping) else None,
    }
    return {k: v[:_MAX_LOGGED_LENGTH] for k, v in fields.items() if isinstance(v, str)}


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
