"""Who is connecting, and which accounts' messages they may receive, as the `$connect` event
says after the route's authorization (AUTHORIZATION_TYPE, docs/handlers.md).

- `jwt`: the Lambda authorizer's context: `principalId` (the token's `sub`) and `accounts`.
- `iam`: `identity.userArn`, the caller that signed the handshake; every account.
- `none`: nobody in particular; every account.

A route that should have authorized the request but left no principal or no readable scope in
the event is misconfigured: the connection is refused (`AccessDenied`), never let in with more
than it was given.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import websocket_events
from .account_scope import ALL_ACCOUNTS, UnreadableScope, read_scope


class AccessDenied(Exception):
    """The event does not say who may connect, or what they may see: answered 403.

    `reason` is a fixed, short word for the log line.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Caller:
    """The principal connecting (None without authorization) and the accounts whose messages
    it may receive (None: every account)."""

    principal: str | None
    accounts: frozenset[str] | None

    def may_see(self, account: str) -> bool:
        return self.accounts is None or account in self.accounts

    def scope(self) -> str | list[str]:
        """For log lines: `*`, or the accounts in order."""
        return ALL_ACCOUNTS if self.accounts is None else sorted(self.accounts)


def caller(event: Any, authorization: str) -> Caller:
    """The caller of a `$connect` on a route authorized by `authorization`."""
    if authorization == "none":
        return Caller(None, None)
    if authorization == "iam":
        user_arn = websocket_events.identity(event).get("userArn")
        if not _is_text(user_arn):
            raise AccessDenied("no_iam_caller")
        return Caller(user_arn, None)
    if authorization == "jwt":
        context = websocket_events.authorizer_context(event)
        if context is None:
            raise AccessDenied("no_authorizer_context")
        principal = context.get("principalId")
        if not _is_text(principal):
            raise AccessDenied("no_principal")
        try:
            return Caller(principal, read_scope(context.get("accounts")))
        except UnreadableScope:
            raise AccessDenied("unreadable_scope") from None
    raise AccessDenied("unknown_authorization")


def _is_text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())
