"""Whether a Lambda function's resource-based policy lets an AWS service invoke it.

What `lambda:AddPermission` writes: statements with a `Service` principal, the
`lambda:InvokeFunction` action and `ArnLike`/`StringEquals` conditions on `AWS:SourceArn` and
`AWS:SourceAccount`. An explicit Deny wins; a condition the emulator cannot evaluate (another
operator or key) does not hold, so such a statement never allows anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from fnmatch import fnmatchcase
from typing import Any

INVOKE_ACTION = "lambda:InvokeFunction"


def service_may_invoke(
    policy: Mapping[str, Any], service: str, source_arn: str, source_account: str
) -> bool:
    context = {"aws:sourcearn": source_arn, "aws:sourceaccount": source_account}
    allowed = False
    for statement in _as_list(policy.get("Statement")):
        if not isinstance(statement, Mapping) or not _applies(statement, service, context):
            continue
        if statement.get("Effect") == "Deny":
            return False
        allowed = allowed or statement.get("Effect") == "Allow"
    return allowed


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _applies(statement: Mapping[str, Any], service: str, context: Mapping[str, str]) -> bool:
    return (
        _names_principal(statement.get("Principal"), service)
        and any(_names_action(action) for action in _as_list(statement.get("Action")))
        and _conditions_hold(statement.get("Condition") or {}, context)
    )


def _names_principal(principal: Any, service: str) -> bool:
    if principal == "*":
        return True
    if not isinstance(principal, Mapping):
        return False
    return service in _as_list(principal.get("Service")) or "*" in _as_list(principal.get("AWS"))


def _names_action(action: Any) -> bool:
    return isinstance(action, str) and fnmatchcase(INVOKE_ACTION.lower(), action.lower())


def _conditions_hold(conditions: Mapping[str, Any], context: Mapping[str, str]) -> bool:
    for operator, tests in conditions.items():
        if not isinstance(tests, Mapping):
            return False
        for key, expected in tests.items():
            actual = context.get(key.lower())
            if actual is None or not any(
                _compare(operator, str(value), actual) for value in _as_list(expected)
            ):
                return False
    return True


def _compare(operator: str, expected: str, actual: str) -> bool:
    if operator in ("ArnLike", "ArnEquals"):
        return _arn_like(expected, actual)
    if operator == "StringEquals":
        return expected == actual
    if operator == "StringLike":
        return fnmatchcase(actual, expected)
    return False


def _arn_like(pattern: str, arn: str) -> bool:
    """IAM's ARN matching: each of the six `:`-separated parts on its own, `*` and `?` within."""
    pattern_parts, arn_parts = pattern.split(":", 5), arn.split(":", 5)
    return len(pattern_parts) == len(arn_parts) == 6 and all(
        fnmatchcase(part, wanted) for wanted, part in zip(pattern_parts, arn_parts, strict=True)
    )
