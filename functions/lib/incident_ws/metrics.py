"""CloudWatch metrics: the catalogue of every metric the handlers emit, and the recorder that
writes one invocation's metrics as Embedded Metric Format (EMF) lines (docs/handlers.md).

An EMF line is a JSON object printed to stdout, from which CloudWatch Logs extracts the
metrics: no `PutMetricData`, so no IAM permission. Not through `logging`: under Lambda's JSON
log format a logged line becomes the `message` of another object, which CloudWatch does not
extract, while a printed line is kept as it is.

Dimension values never come from a request: `Function` is the recorder's function, `Channel`
one of the channel keys it was configured with, `Reason` and `Source` words of the metric's
fixed vocabulary. A call that breaks the catalogue (an unknown metric, other dimensions, a
value outside them) is a bug: it is logged as `metric_rejected` and dropped, never raised —
metrics never break a handler — and the unit tests, which run every handler with metrics on,
fail on any such line. With metrics off (no namespace) nothing is checked or written.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from .config import ConfigError
from .logs import log_event

logger = logging.getLogger(__name__)

NAMESPACE_VARIABLE = "METRICS_NAMESPACE"

COUNT, SECONDS, MILLISECONDS = "Count", "Seconds", "Milliseconds"
FUNCTION, CHANNEL, REASON, SOURCE = "Function", "Channel", "Reason", "Source"

FUNCTIONS = (
    "connect",
    "disconnect",
    "authorizer",
    "stream_processor",
    "heartbeat",
    "findings",
    "replay",
    "presence",
)
# The `Source` of a finding: GuardDuty (native), Security Hub (ASFF or OCSF), anything else.
SOURCES = ("guardduty", "securityhub", "other")

# EMF's limits on one line.
MAX_METRICS_PER_DIRECTIVE = 100
MAX_VALUES_PER_METRIC = 100
MAX_DIMENSIONS_PER_SET = 30
MAX_DIMENSION_VALUE_CHARS = 1024

# CloudWatch's namespace characters; `AWS/` is reserved for AWS's own.
_NAMESPACE = re.compile(r"[0-9A-Za-z.\-_/#:]{1,255}")
_MAX_LOGGED_VALUE_CHARS = 64


@dataclass(frozen=True)
class Metric:
    """A metric one function emits: its unit, its dimension names (`Function` first) and, for
    a `Reason` dimension, the words it may take."""

    function: str
    name: str
    unit: str
    dimensions: tuple[str, ...]
    meaning: str
    reasons: tuple[str, ...] = ()

    def vocabulary(self, dimension: str) -> tuple[str, ...] | None:
        """The fixed values of a `Reason` or `Source` dimension; None for the others."""
        return {REASON: self.reasons, SOURCE: SOURCES}.get(dimension)


def _per_channel(function: str, name: str, meaning: str, unit: str = COUNT) -> Metric:
    return Metric(function, name, unit, (FUNCTION, CHANNEL), meaning)


def _delivery(function: str, what: str, gone: str) -> tuple[Metric, ...]:
    """The outcomes of a fan-out's posts, per channel."""
    return (
        _per_channel(function, "Delivered", f"posts of {what} answered 200"),
        _per_channel(function, "Gone", f"posts of {what} answered 410: {gone}"),
        _per_channel(
            function,
            "Failed",
            f"posts of {what} rejected (403, 413, another 4xx) or still failing after the retries",
        ),
        _per_channel(
            function,
            "Unattempted",
            f"posts of {what} not tried: the deadline passed or the channel's circuit breaker "
            "opened",
        ),
    )


CATALOGUE: tuple[Metric, ...] = (
    _per_channel("connect", "ConnectionsAccepted", "`$connect` requests stored (answered 200)"),
    Metric(
        "connect",
        "ConnectionsRejected",
        COUNT,
        (FUNCTION, CHANNEL, REASON),
        "`$connect` requests refused: `validation`, a query parameter or the connection id is "
        "not acceptable (400); `forbidden`, the route's authorization left no principal or no "
        "readable scope, or the account asked for is outside the principal's scope (403); "
        "`store_error`, DynamoDB could not store the connection (500)",
        reasons=("validation", "forbidden", "store_error"),
    ),
    _per_channel("authorizer", "Authorized", "tokens verified and allowed (an Allow policy)"),
    Metric(
        "authorizer",
        "ConnectionsRejected",
        COUNT,
        (FUNCTION, CHANNEL, REASON),
        "handshakes refused: `unauthorized`, no token, a token that fails a check, the "
        "issuer's keys unavailable, or an unexpected error (401); `forbidden`, a valid token "
        "from an Origin that is not allowed or with an unreadable account scope (a Deny, 403)",
        reasons=("unauthorized", "forbidden"),
    ),
    Metric(
        "authorizer",
        "ConnectionsByScope",
        COUNT,
        (FUNCTION, CHANNEL, REASON),
        "allowed principals by the kind of their account scope: `scoped` to a list of "
        "accounts, or `unscoped` (every account)",
        reasons=("scoped", "unscoped"),
    ),
    _per_channel(
        "disconnect",
        "Disconnections",
        "`$disconnect` events, whether the connection's row was still stored or not",
    ),
    _per_channel(
        "disconnect",
        "ConnectedDuration",
        "how long each closed connection was connected: from its stored `createdAt` to the "
        "`$disconnect` (only for a row that was still stored)",
        SECONDS,
    ),
    Metric("stream_processor", "Records", COUNT, (FUNCTION,), "stream records in the batch"),
    Metric(
        "stream_processor",
        "Messages",
        COUNT,
        (FUNCTION,),
        "incident and remediation messages built from the batch's records",
    ),
    Metric(
        "stream_processor",
        "FailedRecords",
        COUNT,
        (FUNCTION,),
        "records reported as failed (`batchItemFailures`), which the event source mapping "
        "sends again",
    ),
    *_delivery("stream_processor", "messages", "the connection is gone, and deleted"),
    _per_channel(
        "stream_processor",
        "Retried",
        "re-sends of posts (after a 429, a 5xx, a timeout or a lost HTTP connection)",
    ),
    _per_channel(
        "stream_processor",
        "PossibleDuplicates",
        "re-sends of a post that the endpoint may already have received",
    ),
    _per_channel(
        "stream_processor", "ConnectionsRead", "live connections read from the channel's table"
    ),
    _per_channel(
        "stream_processor",
        "LogFailed",
        "messages that could not be written to the channel's message log (channels with one)",
    ),
    _per_channel(
        "stream_processor",
        "EndToEndLatency",
        "per message delivered on the channel: from its stream record's creation "
        "(`ApproximateCreationDateTime`, whole seconds) to the end of the last post that "
        "delivered it",
        MILLISECONDS,
    ),
    _per_channel(
        "stream_processor",
        "FanOutDuration",
        "how long the channel's pass took: reading its connections and posting to them",
        MILLISECONDS,
    ),
    _per_channel(
        "heartbeat",
        "Connections",
        "live connections read from the channel's table: the connected clients, every run",
    ),
    *_delivery("heartbeat", "pings", "the connection is gone, and deleted"),
    *(
        Metric("findings", name, COUNT, (FUNCTION, SOURCE), meaning)
        for name, meaning in (
            ("FindingsWritten", "findings written as a new or newer incident"),
            ("FindingsStale", "findings not written: the stored incident is as new or newer"),
            ("FindingsSkipped", "findings (or events) that cannot become an incident"),
            ("FindingsFailed", "findings whose write failed; the event is invoked again"),
        )
    ),
    _per_channel("replay", "ReplayRequests", "`replay` requests received"),
    _per_channel("replay", "ReplayMessages", "logged messages sent to the requesters"),
    _per_channel(
        "replay",
        "ReplayRejected",
        "requests answered with an error frame for bad input (`body`, `since` or `last`)",
    ),
    _per_channel("presence", "PresenceEvents", "`online` and `offline` events on the channel"),
    _per_channel("presence", "Delivered", "posts of presence events answered 200"),
    _per_channel(
        "presence",
        "Failed",
        "posts of presence events rejected (4xx) or still failing after the retries",
    ),
)

_BY_NAME: dict[tuple[str, str], Metric] = {(m.function, m.name): m for m in CATALOGUE}


def metric(function: str, name: str) -> Metric | None:
    """The catalogue's metric `name` of `function`, if it has one."""
    return _BY_NAME.get((function, name))


def load_namespace(env: Mapping[str, str] = os.environ) -> str | None:
    """METRICS_NAMESPACE; None (metrics off) when it is unset or empty."""
    namespace = env.get(NAMESPACE_VARIABLE, "").strip()
    if not namespace:
        return None
    if not _NAMESPACE.fullmatch(namespace) or namespace.startswith("AWS/"):
        raise ConfigError(
            f"{NAMESPACE_VARIABLE} must be a CloudWatch namespace: 1-255 of A-Z a-z 0-9 . - _ / "
            f"# :, not starting with AWS/, got {env[NAMESPACE_VARIABLE]!r}"
        )
    return namespace


def _print_line(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


class Metrics:
    """A function's metrics: where they go (a namespace; None: nowhere) and the channel keys a
    `Channel` dimension may name. Built once per container; `recording()` is one invocation."""

    def __init__(
        self,
        function: str,
        namespace: str | None,
        channels: Iterable[str] = (),
        write: Callable[[str], None] = _print_line,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if function not in FUNCTIONS:
            raise ValueError(f"unknown function {function!r}")
        self.function = function
        self.namespace = namespace
        self.channels = frozenset(channels)
        self._write = write
        self._clock = clock

    @classmethod
    def from_environment(
        cls, function: str, channels: Iterable[str] = (), env: Mapping[str, str] = os.environ
    ) -> Metrics:
        """Raises ConfigError for a malformed METRICS_NAMESPACE; without one, or with a channel
        key CloudWatch would refuse as a dimension value, metrics are off and a warning says
        so once."""
        namespace = load_namespace(env)
        if namespace is None:
            return cls.off(function, f"{NAMESPACE_VARIABLE} is not set")
        unusable = sorted(key for key in channels if not _is_dimension_value(key))
        if unusable:
            return cls.off(
                function,
                f"channel keys {unusable} are no CloudWatch dimension values "
                f"(1-{MAX_DIMENSION_VALUE_CHARS} ASCII characters)",
            )
        return cls(function, namespace, channels)

    @classmethod
    def off(cls, function: str, reason: str) -> Metrics:
        """Metrics that are neither checked nor written; a warning says why, once."""
        log_event(logger, logging.WARNING, "metrics_off", function=function, reason=reason)
        return cls(function, None)

    @contextmanager
    def recording(self) -> Iterator[Recorder]:
        """A recorder for one invocation, flushed when the block ends, even by an exception."""
        recorder = Recorder(self)
        try:
            yield recorder
        finally:
            recorder.flush()

    def emit(self, lines: Iterable[str]) -> None:
        try:
            for line in lines:
                self._write(line)
        except (OSError, ValueError) as error:
            log_event(logger, logging.ERROR, "metrics_not_written", error=repr(error))

    def now_ms(self) -> int:
        return int(self._clock() * 1000)


class Recorder:
    """One invocation's metrics: `count` adds up a Count metric, `observe` keeps every value
    of a time (a distribution, for percentiles). Checked against the catalogue as they come."""

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics
        # (dimension name, value) pairs in the metric's order → metric → its values
        self._groups: dict[tuple[tuple[str, str], ...], dict[Metric, list[float]]] = {}

    def count(self, name: str, value: int = 1, **dimensions: str) -> None:
        """Adds `value` (a whole number >= 0; 0 still reports the metric) to the count."""
        if self._metrics.namespace is None:
            return
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            self._reject(name, f"a count is a whole number >= 0, got {value!r}")
            return
        values = self._values(name, dimensions, counted=True)
        if values is None:
            return
        if values:
            values[0] += value
        else:
            values.append(value)

    def observe(self, name: str, value: float, **dimensions: str) -> None:
        """Keeps one more value (a finite number >= 0) of a time metric."""
        if self._metrics.namespace is None:
            return
        if not _is_number(value) or not math.isfinite(value) or value < 0:
            self._reject(name, f"a value is a finite number >= 0, got {value!r}")
            return
        values = self._values(name, dimensions, counted=False)
        if values is not None:
            values.append(value)

    def lines(self) -> list[str]:
        """The recorded metrics as EMF lines: one per set of dimension values, split so that no
        line has more than MAX_METRICS_PER_DIRECTIVE metrics or MAX_VALUES_PER_METRIC values of
        one metric."""
        namespace = self._metrics.namespace
        if namespace is None:
            return []
        timestamp = self._metrics.now_ms()
        lines = []
        for dimensions, recorded in self._groups.items():
            chunks = max(math.ceil(len(v) / MAX_VALUES_PER_METRIC) for v in recorded.values())
            for chunk in range(chunks):
                start, end = chunk * MAX_VALUES_PER_METRIC, (chunk + 1) * MAX_VALUES_PER_METRIC
                present = [(m, v[start:end]) for m, v in recorded.items() if v[start:end]]
                for first in range(0, len(present), MAX_METRICS_PER_DIRECTIVE):
                    batch = present[first : first + MAX_METRICS_PER_DIRECTIVE]
                    lines.append(_emf_line(namespace, timestamp, dimensions, batch))
        return lines

    def flush(self) -> None:
        """Writes the lines (nothing when metrics are off) and starts afresh."""
        lines = self.lines()
        self._groups.clear()
        self._metrics.emit(lines)

    def _values(
        self, name: str, dimensions: Mapping[str, str], counted: bool
    ) -> list[float] | None:
        """The values recorded so far of the metric with these dimensions, or None (logged)
        when the call breaks the catalogue."""
        found = metric(self._metrics.function, name)
        if found is None:
            self._reject(name, "not in the catalogue")
            return None
        if counted != (found.unit == COUNT):
            self._reject(name, f"a {found.unit} metric is {'observed' if counted else 'counted'}")
            return None
        expected = set(found.dimensions) - {FUNCTION}
        if set(dimensions) != expected:
            self._reject(name, f"dimensions {sorted(dimensions)}, expected {sorted(expected)}")
            return None
        for dimension, value in dimensions.items():
            allowed = found.vocabulary(dimension)
            if dimension == CHANNEL:
                allowed = self._metrics.channels
            if not isinstance(value, str) or value not in allowed:
                shown = str(value)[:_MAX_LOGGED_VALUE_CHARS]
                self._reject(name, f"{dimension} {shown!r} is not one of its configured values")
                return None
        given = {FUNCTION: self._metrics.function, **dimensions}
        key = tuple((dimension, given[dimension]) for dimension in found.dimensions)
        return self._groups.setdefault(key, {}).setdefault(found, [])

    def _reject(self, name: str, reason: str) -> None:
        log_event(
            logger,
            logging.ERROR,
            "metric_rejected",
            function=self._metrics.function,
            metric=str(name)[:_MAX_LOGGED_VALUE_CHARS],
            reason=reason,
        )


def _is_dimension_value(value: Any) -> bool:
    return (
        isinstance(value, str)
        and bool(value.strip())
        and value.isascii()
        and len(value) <= MAX_DIMENSION_VALUE_CHARS
    )


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _emf_line(
    namespace: str,
    timestamp: int,
    dimensions: tuple[tuple[str, str], ...],
    metrics: list[tuple[Metric, list[float]]],
) -> str:
    document: dict[str, Any] = {
        "_aws": {
            "Timestamp": timestamp,
            "CloudWatchMetrics": [
                {
                    "Namespace": namespace,
                    "Dimensions": [[name for name, _ in dimensions]],
                    "Metrics": [{"Name": m.name, "Unit": m.unit} for m, _ in metrics],
                }
            ],
        },
        **dict(dimensions),
    }
    for found, values in metrics:
        document[found.name] = values[0] if len(values) == 1 else values
    return json.dumps(document, separators=(",", ":"), allow_nan=False)
