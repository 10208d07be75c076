"""Event patterns: what EventBridge rules and Lambda event filtering match events against.

A pattern names fields with the nesting of the event; a field's rules are a list, and the field
matches when any rule matches any of its values. Supported rules: values (equality), `prefix`,
`suffix`, `equals-ignore-case`, `exists`, `anything-but` (values or another rule), `numeric`
comparisons. A pattern matches when every field it names does.

Arrays: a field whose value is an array matches when any element does; an array of objects
matches a nested pattern when one of its objects matches all of it (fields matched together
come from the same element, as EventBridge's array-consistent matching does). `exists` looks at
leaves only: a field whose value is an object does not exist for it.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

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
    """True when there are no patterns, or at least one matches (Lambda ORs its filters)."""
    patterns = list(patterns)
    return not patterns or any(matches(p, record) for p in patterns)


def matches(pattern: Mapping[str, Any], event: Any) -> bool:
    """Whether `event` (an object, or an array of objects) matches `pattern`. Anything else,
    or nothing, is matched as an empty object: only `exists: false` rules match it."""
    objects = [value for value in _flattened(event) if isinstance(value, Mapping)]
    return any(_matches_object(pattern, value) for value in objects or [{}])


def _matches_object(pattern: Mapping[str, Any], event: Mapping[str, Any]) -> bool:
    for key, expected in pattern.items():
        actual = event.get(key)
        if isinstance(expected, Mapping):
            if not matches(expected, actual):
                return False
        elif isinstance(expected, list):
            if not _matches_rules(expected, _leaves(key, event)):
                return False
        else:
            raise UnsupportedFilter(f"filter value for {key!r} must be an object or a list")
    return True


def _flattened(value: Any) -> Iterator[Any]:
    """The value itself, or the elements of an array (of arrays...), in order."""
    if isinstance(value, list):
        for element in value:
            yield from _flattened(element)
    else:
        yield value


def _leaves(key: str, event: Mapping[str, Any]) -> list[Any]:
    """The leaf values of a field: none when absent or an object, each element of an array."""
    if key not in event:
        return []
    return [value for value in _flattened(event[key]) if not isinstance(value, Mapping)]


def _matches_rules(rules: list[Any], values: list[Any]) -> bool:
    return any(_matches_rule(rule, values) for rule in rules)


def _matches_rule(rule: Any, values: list[Any]) -> bool:
    if isinstance(rule, Mapping):
        if len(rule) != 1:
            raise UnsupportedFilter(f"one operator per filter rule, got {dict(rule)}")
        ((name, argument),) = rule.items()
        if name == "exists":
            return bool(values) == bool(argument)
    return any(_matches_value(rule, value) for value in values)


def _matches_value(rule: Any, value: Any) -> bool:
    if not isinstance(rule, Mapping):
        return _equal(rule, value)
    ((name, argument),) = rule.items()
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
        if len(argument) != 1 or "exists" in argument:
            raise UnsupportedFilter(f"anything-but takes values or one rule, got {argument}")
        return _matches_value(argument, value)
    excluded = argument if isinstance(argument, list) else [argument]
    return any(_equal(e, value) for e in excluded)


def _numeric(argument: list[Any], value: Any) -> bool:
    if not _is_number(value):
        return False
    pairs = zip(argument[::2], argument[1::2], strict=True)
    return all(_NUMERIC_OPS[op](value, bound) for op, bound in pairs)
