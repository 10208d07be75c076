"""CloudWatch's extraction of Embedded Metric Format (EMF) lines from a function's log.

A line that is a JSON object with an `_aws` member is read as CloudWatch Logs reads it: checked
against the format's specification (`_aws.Timestamp` in epoch milliseconds, `CloudWatchMetrics`
a list of directives, each with a valid `Namespace`, `Dimensions` as lists of at most 30 names
whose values are strings at the root, at most 100 `Metrics` with a valid `Unit`, each a number
or a list of at most 100 numbers at the root). A valid line adds its values to the series of
its namespace, metric, dimensions and unit; an invalid one adds nothing, as a line CloudWatch
refuses (it stays in the log either way). Any other line is a plain log line.

A series keeps its count (CloudWatch's SampleCount), sum, minimum and maximum exactly, and at
most `MAX_KEPT_VALUES` of its values (a uniform sample) for its percentiles.
"""

from __future__ import annotations

import json
import math
import random
import re
from dataclasses import dataclass, field
from typing import Any

MAX_DIMENSIONS_PER_SET = 30
MAX_METRICS_PER_DIRECTIVE = 100
MAX_VALUES_PER_METRIC = 100
MAX_NAME_CHARS = 255
MAX_DIMENSION_VALUE_CHARS = 1024
MAX_KEPT_VALUES = 10_000
PERCENTILES = (50, 99)

_NAMESPACE = re.compile(r"[0-9A-Za-z.\-_/#: ]{1,255}")
_SIZES = (
    *("Bytes", "Kilobytes", "Megabytes", "Gigabytes", "Terabytes"),
    *("Bits", "Kilobits", "Megabits", "Gigabits", "Terabits"),
)
UNITS = frozenset(
    {
        *("Seconds", "Microseconds", "Milliseconds", "Percent", "Count", "None"),
        *_SIZES,
        *(f"{unit}/Second" for unit in (*_SIZES, "Count")),
    }
)
STORAGE_RESOLUTIONS = (1, 60)

Dimensions = tuple[tuple[str, str], ...]
"""(name, value) pairs sorted by name: CloudWatch tells metrics apart by the set, not its
order."""


class InvalidEmf(ValueError):
    """A line that claims to be EMF but breaks the specification; the message says how."""


@dataclass(frozen=True)
class Datapoint:
    """The values one line gives one metric under one dimension set."""

    namespace: str
    name: str
    unit: str
    dimensions: Dimensions
    values: tuple[float, ...]


def extract(line: str) -> list[Datapoint] | None:
    """The datapoints of an EMF line; None for a line that is not EMF (no JSON object with an
    `_aws` member). Raises InvalidEmf for an EMF line that breaks the specification."""
    text = line.strip()
    if not (text.startswith("{") and '"_aws"' in text):
        return None
    try:
        root = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if not isinstance(root, dict) or "_aws" not in root:
        return None
    metadata = root["_aws"]
    _check(isinstance(metadata, dict), "`_aws` is not an object")
    timestamp = metadata.get("Timestamp")
    _check(
        _is_number(timestamp) and timestamp >= 0,
        f"`_aws.Timestamp` is not a number of epoch milliseconds: {timestamp!r}",
    )
    directives = metadata.get("CloudWatchMetrics")
    _check(isinstance(directives, list), "`_aws.CloudWatchMetrics` is not a list")
    return [point for directive in directives for point in _directive(root, directive)]


def _directive(root: dict[str, Any], directive: Any) -> list[Datapoint]:
    _check(isinstance(directive, dict), "a directive of `CloudWatchMetrics` is not an object")
    namespace = directive.get("Namespace")
    _check(
        isinstance(namespace, str)
        and bool(_NAMESPACE.fullmatch(namespace))
        and bool(namespace.strip())
        and not namespace.startswith("AWS/"),
        f"invalid Namespace {namespace!r}",
    )
    dimension_sets = directive.get("Dimensions")
    _check(isinstance(dimension_sets, list), "`Dimensions` is not a list of dimension sets")
    sets = [_dimension_set(root, names) for names in dimension_sets]
    metrics = directive.get("Metrics")
    _check(
        isinstance(metrics, list) and len(metrics) <= MAX_METRICS_PER_DIRECTIVE,
        f"`Metrics` is not a list of at most {MAX_METRICS_PER_DIRECTIVE} metric definitions",
    )
    points = []
    for definition in metrics:
        name, unit = _definition(definition)
        values = _values(root.get(name), name)
        # A directive without dimension sets still publishes its metrics, without dimensions.
        for dimensions in sets or [()]:
            points.append(Datapoint(namespace, name, unit, dimensions, values))
    return points


def _dimension_set(root: dict[str, Any], names: Any) -> Dimensions:
    _check(isinstance(names, list), f"a dimension set is not a list: {names!r}")
    _check(
        len(names) <= MAX_DIMENSIONS_PER_SET,
        f"{len(names)} dimensions in a set (at most {MAX_DIMENSIONS_PER_SET})",
    )
    pairs = {}
    for name in names:
        _check(isinstance(name, str) and bool(name), f"dimension name {name!r}")
        value = root.get(name)
        _check(
            isinstance(value, str)
            and bool(value.strip())
            and value.isascii()
            and len(value) <= MAX_DIMENSION_VALUE_CHARS,
            f"dimension {name!r} has no valid string value at the root: {value!r}",
        )
        pairs[name] = value
    return tuple(sorted(pairs.items()))


def _definition(definition: Any) -> tuple[str, str]:
    _check(isinstance(definition, dict), f"a metric definition is not an object: {definition!r}")
    name = definition.get("Name")
    _check(
        isinstance(name, str) and 0 < len(name) <= MAX_NAME_CHARS, f"invalid metric name {name!r}"
    )
    unit = definition.get("Unit", "None")
    _check(unit in UNITS, f"{name}: invalid Unit {unit!r}")
    resolution = definition.get("StorageResolution", 60)
    _check(
        resolution in STORAGE_RESOLUTIONS and not isinstance(resolution, bool),
        f"{name}: StorageResolution {resolution!r} is neither 1 nor 60",
    )
    return name, unit


def _values(value: Any, name: str) -> tuple[float, ...]:
    values = value if isinstance(value, list) else [value]
    _check(
        0 < len(values) <= MAX_VALUES_PER_METRIC,
        f"{name}: {len(values)} values (1 to {MAX_VALUES_PER_METRIC})",
    )
    for number in values:
        _check(
            _is_number(number) and math.isfinite(number),
            f"{name}: value {number!r} is not a number",
        )
    return tuple(values)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise InvalidEmf(message)


# --------------------------------------------------------------------------------------------
# Aggregation
# --------------------------------------------------------------------------------------------


@dataclass
class Series:
    """The values of one metric: exact count, sum, minimum and maximum; a bounded sample of
    the values for percentiles."""

    count: int = 0
    total: float = 0.0
    minimum: float = math.inf
    maximum: float = -math.inf
    kept: list[float] = field(default_factory=list)

    def add(self, value: float, rng: random.Random) -> None:
        self.count += 1
        self.total += value
        self.minimum = min(self.minimum, value)
        self.maximum = max(self.maximum, value)
        if len(self.kept) < MAX_KEPT_VALUES:
            self.kept.append(value)
            return
        # Reservoir sampling: every value so far is kept with the same chance.
        slot = rng.randrange(self.count)
        if slot < MAX_KEPT_VALUES:
            self.kept[slot] = value

    def percentile(self, p: float) -> float:
        """Nearest rank over the kept values."""
        ordered = sorted(self.kept)
        return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


SeriesKey = tuple[str, str, Dimensions, str]
"""namespace, metric name, dimensions, unit"""


class MetricStore:
    """Every valid EMF line's values, by namespace, metric, dimensions and unit; and how many
    EMF lines were refused."""

    def __init__(self, seed: int = 0) -> None:
        self._series: dict[SeriesKey, Series] = {}
        self._rng = random.Random(seed)
        self.rejected_lines = 0

    def add_line(self, line: str) -> list[Datapoint] | None:
        """Adds the line's datapoints, if it is EMF; raises InvalidEmf (counted, nothing added)
        for an EMF line that breaks the specification."""
        try:
            points = extract(line)
        except InvalidEmf:
            self.rejected_lines += 1
            raise
        for point in points or ():
            key = (point.namespace, point.name, point.dimensions, point.unit)
            series = self._series.setdefault(key, Series())
            for value in point.values:
                series.add(value, self._rng)
        return points

    def summary(self) -> dict[str, Any]:
        """What `GET /_emulator/metrics` answers: every series, sorted by namespace, metric,
        dimensions and unit."""
        return {
            "metrics": [_described(key, self._series[key]) for key in sorted(self._series)],
            "rejectedLines": self.rejected_lines,
        }


def _described(key: SeriesKey, series: Series) -> dict[str, Any]:
    namespace, name, dimensions, unit = key
    return {
        "namespace": namespace,
        "metric": name,
        "dimensions": dict(dimensions),
        "unit": unit,
        "count": series.count,
        "sum": series.total,
        "min": series.minimum,
        "max": series.maximum,
        **{f"p{p}": series.percentile(p) for p in PERCENTILES},
        "keptValues": len(series.kept),
    }
