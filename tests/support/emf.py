"""Reading Embedded Metric Format (EMF) lines as CloudWatch Logs would, and checking them
against the format's specification: what a handler printed becomes the figures CloudWatch
would extract (`Datapoint`s).

The checks are the specification's: a line is one JSON object; `_aws.Timestamp` is an integer
of epoch milliseconds; `_aws.CloudWatchMetrics` is a list of directives, each with a valid
`Namespace`, `Dimensions` as a list of lists of at most 30 names, each a string value at the
root, and at most 100 `Metrics`, each named at the root by a number or a list of at most 100
numbers, with a valid `Unit`.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

MAX_LINE_BYTES = 256 * 1024  # a CloudWatch Logs event (newer accounts allow 1 MB)
MAX_DIMENSIONS_PER_SET = 30
MAX_METRICS_PER_DIRECTIVE = 100
MAX_VALUES_PER_METRIC = 100
MAX_DIMENSION_VALUE_CHARS = 1024
MAX_NAME_CHARS = 255
NAMESPACE = re.compile(r"[0-9A-Za-z.\-_/#: ]{1,255}")
UNITS = frozenset(
    {
        "Seconds",
        "Microseconds",
        "Milliseconds",
        "Bytes",
        "Kilobytes",
        "Megabytes",
        "Gigabytes",
        "Terabytes",
        "Bits",
        "Kilobits",
        "Megabits",
        "Gigabits",
        "Terabits",
        "Percent",
        "Count",
        "Bytes/Second",
        "Kilobytes/Second",
        "Megabytes/Second",
        "Gigabytes/Second",
        "Terabytes/Second",
        "Bits/Second",
        "Kilobits/Second",
        "Megabits/Second",
        "Gigabits/Second",
        "Terabits/Second",
        "Count/Second",
        "None",
    }
)


class NotEmf(AssertionError):
    """A line that breaks the EMF specification; the message says how."""


@dataclass(frozen=True)
class Datapoint:
    """The values of one metric that one line gives CloudWatch, under one dimension set."""

    namespace: str
    name: str
    unit: str
    dimensions: tuple[tuple[str, str], ...]  # (name, value) in the directive's order
    values: tuple[float, ...]

    @property
    def dimension_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.dimensions)

    def dimension(self, name: str) -> str | None:
        return dict(self.dimensions).get(name)


def read_emf(output: str) -> list[Datapoint]:
    """Every datapoint of every line in `output` (a handler's stdout); raises NotEmf for a line
    that is not valid EMF."""
    points = []
    for number, line in enumerate(output.splitlines(), 1):
        if line.strip():
            points.extend(_datapoints(line, number))
    return points


def figures(points: list[Datapoint]) -> dict[tuple[str, tuple[tuple[str, str], ...]], Any]:
    """`(metric, dimensions) → values`: the sum for a Count, every value otherwise — what
    CloudWatch's Sum, or its percentiles, would show for one invocation."""
    summed: dict[tuple[str, tuple[tuple[str, str], ...]], Any] = {}
    for point in points:
        key = (point.name, point.dimensions)
        if point.unit == "Count":
            summed[key] = summed.get(key, 0) + sum(point.values)
        else:
            summed[key] = [*summed.get(key, []), *point.values]
    return summed


def _datapoints(line: str, number: int) -> list[Datapoint]:
    where = f"line {number}"
    _check(len(line.encode("utf-8")) <= MAX_LINE_BYTES, f"{where}: over {MAX_LINE_BYTES} bytes")
    try:
        root = json.loads(line)
    except ValueError as error:
        raise NotEmf(f"{where}: not JSON ({error}): {line[:200]}") from None
    _check(isinstance(root, dict), f"{where}: not a JSON object")
    metadata = root.get("_aws")
    _check(isinstance(metadata, dict), f"{where}: no `_aws` object")
    timestamp = metadata.get("Timestamp")
    _check(
        isinstance(timestamp, int) and not isinstance(timestamp, bool) and timestamp >= 0,
        f"{where}: `_aws.Timestamp` is not an integer of epoch milliseconds: {timestamp!r}",
    )
    _check(10**12 <= timestamp < 10**13, f"{where}: `_aws.Timestamp` {timestamp} is not in ms")
    directives = metadata.get("CloudWatchMetrics")
    _check(
        isinstance(directives, list) and directives,
        f"{where}: `_aws.CloudWatchMetrics` is not a non-empty list",
    )
    points = []
    for directive in directives:
        points.extend(_directive(root, directive, where))
    return points


def _directive(root: dict, directive: Any, where: str) -> list[Datapoint]:
    _check(isinstance(directive, dict), f"{where}: a directive is not an object")
    namespace = directive.get("Namespace")
    _check(
        isinstance(namespace, str) and bool(NAMESPACE.fullmatch(namespace)) and namespace.strip(),
        f"{where}: invalid Namespace {namespace!r}",
    )
    dimension_sets = directive.get("Dimensions")
    _check(isinstance(dimension_sets, list), f"{where}: `Dimensions` is not a list")
    for names in dimension_sets:
        _check(isinstance(names, list), f"{where}: a dimension set is not a list: {names!r}")
        _check(
            len(names) <= MAX_DIMENSIONS_PER_SET,
            f"{where}: {len(names)} dimensions in a set (at most {MAX_DIMENSIONS_PER_SET})",
        )
        for name in names:
            _check(isinstance(name, str) and name, f"{where}: dimension name {name!r}")
            value = root.get(name)
            _check(
                isinstance(value, str)
                and value.strip()
                and value.isascii()
                and len(value) <= MAX_DIMENSION_VALUE_CHARS,
                f"{where}: dimension {name!r} has no valid string value at the root: {value!r}",
            )
    metrics = directive.get("Metrics")
    _check(
        isinstance(metrics, list) and len(metrics) <= MAX_METRICS_PER_DIRECTIVE,
        f"{where}: `Metrics` is not a list of at most {MAX_METRICS_PER_DIRECTIVE}",
    )
    names = [m.get("Name") if isinstance(m, dict) else None for m in metrics]
    _check(len(set(names)) == len(names), f"{where}: a metric is named twice: {names}")
    points = []
    for definition in metrics:
        name, unit = definition.get("Name"), definition.get("Unit")
        _check(
            isinstance(name, str) and 0 < len(name) <= MAX_NAME_CHARS,
            f"{where}: metric name {name!r}",
        )
        _check(unit in UNITS, f"{where}: {name}: invalid Unit {unit!r}")
        values = _values(root.get(name), f"{where}: {name}")
        for names_of_set in dimension_sets:
            dimensions = tuple((n, root[n]) for n in names_of_set)
            points.append(Datapoint(namespace, name, unit, dimensions, values))
    return points


def _values(value: Any, where: str) -> tuple[float, ...]:
    values = value if isinstance(value, list) else [value]
    _check(
        0 < len(values) <= MAX_VALUES_PER_METRIC,
        f"{where}: {len(values)} values (1 to {MAX_VALUES_PER_METRIC})",
    )
    for number in values:
        _check(
            isinstance(number, int | float)
            and not isinstance(number, bool)
            and math.isfinite(number),
            f"{where}: value {number!r} is not a finite number",
        )
    return tuple(values)


def _check(condition: Any, message: str) -> None:
    if not condition:
        raise NotEmf(message)
