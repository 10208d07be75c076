"""The two ways the authorizer refuses a `$connect`."""

from __future__ import annotations


class Unauthorized(Exception):
    """No token, or one that cannot be trusted: API Gateway answers 401.

    `reason` is a fixed, short word for the log line; it never carries token material.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Forbidden(Exception):
    """A trusted token whose principal may not connect from here: a Deny policy, 403."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
