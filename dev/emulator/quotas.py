"""The AWS quotas the emulator applies (fixed by AWS: API Gateway WebSocket, Lambda Invoke)."""

from __future__ import annotations

from dataclasses import dataclass

MAX_MESSAGE_BYTES = 128 * 1024
"""Largest frame a client may send and largest `@connections` POST body."""

IDLE_TIMEOUT_SECONDS = 600.0
"""A connection with no traffic in either direction is closed after this long."""

MAX_CONNECTION_SECONDS = 7200.0
"""Every connection is closed after this long, active or not."""


@dataclass(frozen=True)
class ConnectionTimeouts:
    """The connection timeouts, shortened in tests and by `serve --idle-timeout/--max-duration`."""

    idle_timeout: float = IDLE_TIMEOUT_SECONDS
    max_duration: float = MAX_CONNECTION_SECONDS


SYNC_INVOKE_PAYLOAD_BYTES = 6 * 1024 * 1024
"""Largest `Invoke` payload of a synchronous (`RequestResponse`) invocation."""

ASYNC_INVOKE_PAYLOAD_BYTES = 1024 * 1024
"""Largest `Invoke` payload of an asynchronous (`Event`) invocation."""
