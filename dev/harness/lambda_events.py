"""Lambda events as AWS services send them, for code that invokes a handler in-process."""

from __future__ import annotations

from typing import Any

from dev.emulator import connect_authorizer_event

DEFAULT_METHOD_ARN = "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/$connect"


def authorizer_event(
    token: str | None, method_arn: str = DEFAULT_METHOD_ARN, user_agent: str = "bench/1.0"
) -> dict[str, Any]:
    """What a `$connect` REQUEST authorizer receives from a client that presents `token` as
    the `token` query parameter (no token: no query string)."""
    query = [("token", token)] if token is not None else []
    return connect_authorizer_event(method_arn, [("User-Agent", user_agent)], query)
