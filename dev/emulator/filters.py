"""Event source mapping filter criteria: the EventBridge-style patterns Lambda applies to records.

Supported: nested objects, value lists (equality, any of), `prefix`, `suffix`,
`equals-ignore-case`, `exists`, `anything-but` (values or a prefix), `numeric` comparisons.
A record is kept when any pattern of the mapping matches it (Lambda ORs its filters).
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Mapping
from typing import Any

_MISSING = object()
_NUMERIC_OPS = {
    "=": operator.eq,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


class UnsupportedFilter(ValueError):
    pass


def matches_any(patterns: Iterable[Mapping[str, Any]], record: Mapping[str, Any]) -> bool:
    """True when there are no patterns, or at least one matches."""
    patterns = list(patterns)
    return not patterns or any(matches(p, record) for p in patterns)


def matches(pattern: Mapping[str, Any], event: Any) -> bool:
    if not isinstance(event, Mapping):
        return False
    for key, expected in pattern.items():
        actual = event.get(key, _MISSING)
        if isinstance(expected, Mapping):
            if not matches(expected, actual):
                return False
        elif isinstance(expected, list):
            if not _matches_rules(expected, actual):
                return False
        else:
            raise UnsupportedFilter(f"filter value for {key!r} must be an object or a list")
    return True


def _matches_rules(rules: list[Any], actual: Any) -> bool:
    values = actual if isinstance(actual, list) else [actual]
    return any(_matches_rule(rule, value, actual) for rule in rules for value in values)


def _matches_rule(rule: Any, value: Any, whole: Any) -> bool:
    if not isinstance(rule, Mapping):
        return value is not _MISSING and _equal(rule, value)
    if len(rule) != 1:
        raise UnsupportedFilter(f"one operator per filter rule, got {dict(rule)}")
    ((name, argument),) = rule.items()
    if name == "exists":
        return (whole is not _MISSING) == bool(argument)
    if value is _MISSING:
        return False
    if name == "prefix":
        return isinstance(value, str) and value.startswith(argument)
    if name == "suffix":
        return isinstance(value, str) and value.endswith(argument)
    if name == "equals-ignore-case":
        return isinstance(value, str) and value.casefold() == str(argument).casefold()
    if name == "anything-but":
        return not _anything_but_excludes(argument, value)
    if name == "numeric":
        return _numeric(argument, value)
    raise UnsupportedFilter(f"filter operator {name!r} is not supported by the emulator")


def _equal(expected: Any, value: Any) -> bool:
    if _is_number(expected) and _is_number(value):
        return float(expected) == float(value)
    return expected == value


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _anything_but_excludes(argument: Any, value: Any) -> bool:
    if isinstance(argument, Mapping):
        return _matches_rule(argument, value, value)
    excluded = argument if isinstance(argument, list) else [argument]
    return any(_equal(e, value) for e in excluded)


def _numeric(argument: list[Any], value: Any) -> bool:
    if not _is_number(value):
        return False
    pairs = zip(argument[::2], argument[1::2], strict=True)
    return all(_NUMERIC_OPS[op](value, bound) for op, bound in pairs)
