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

    @classmethod
    def from_epoch(cls, epoch: float | None) -> Deadline:
        """The deadline at `epoch` (seconds, wall-clock time): how another process passes one."""
        return cls(None if epoch is None else time.monotonic() + epoch - time.time())

    def to_epoch(self) -> float | None:
        """The deadline in wall-clock seconds, or None."""
        return None if self._at is None else time.time() + self._at - time.monotonic()

    def earlier(self, seconds: float) -> Deadline:
        """The deadline `seconds` before this one (None stays None)."""
        return self if self._at is None else Deadline(self._at - seconds)

    def earliest(self, other: Deadline) -> Deadline:
        """Whichever of the two comes first."""
        if self._at is None or other.at is None:
            return other if self._at is None else self
        return self if self._at <= other.at else other

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
