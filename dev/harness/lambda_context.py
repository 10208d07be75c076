"""The part of Lambda's context object the handlers read: the time left before the timeout."""

from __future__ import annotations

import time


class LambdaContext:
    """An invocation that Lambda stops `timeout_seconds` after it starts (now)."""

    aws_request_id = "8f5e2a4c-0b1d-4c3e-9f6a-1234567890ab"

    def __init__(self, timeout_seconds: float, function_name: str = "incident-ws-test") -> None:
        self.function_name = function_name
        self._ends = time.monotonic() + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._ends - time.monotonic()) * 1000))

    def timed_out(self) -> bool:
        """Whether Lambda would have stopped the invocation by now."""
        return self.get_remaining_time_in_millis() == 0
