"""When a broadcast must stop starting work, so that the invocation ends before Lambda stops it."""

from __future__ import annotations

import time
from typing import Any

from .limits import DEADLINE_MARGIN_SECONDS


class Deadline:
    """A point in `time.monotonic()` time after which no request, retry or backoff sleep may
    start; `None` is no deadline."""

    def __init__(self, at: float | None) -> None:
        self._at = at

    @classmethod
    def from_context(cls, context: Any, margin: float = DEADLINE_MARGIN_SECONDS) -> Deadline:
        """Lambda's remaining time minus `margin`. A context without
        `get_remaining_time_in_millis` (None, a direct call from a script) sets no deadline."""
        remaining = getattr(context, "get_remaining_time_in_millis", None)
        milliseconds = remaining() if callable(remaining) else None
        if not isinstance(milliseconds, int | float) or isinstance(milliseconds, bool):
            return cls(None)
        return cls(time.monotonic() + milliseconds / 1000 - margin)

    @property
    def at(self) -> float | None:
        """The deadline in `time.monotonic()` time, or None."""
        return self._at

    def allows(self, seconds: float = 0.0) -> bool:
        """Whether something that first waits `seconds` starts before the deadline."""
        return self._at is None or time.monotonic() + seconds < self._at

    @property
    def passed(self) -> bool:
        return not self.allows()


NO_DEADLINE = Deadline(None)
