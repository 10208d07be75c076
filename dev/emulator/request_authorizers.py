"""Lambda REQUEST authorizers on `$connect`, decided as API Gateway decides them.

- A listed identity source that the request lacks (or has empty) is a 401 before the function
  runs; with no identity sources the function runs on every `$connect`.
- The function fails with the error message `Unauthorized` → 401; fails otherwise, times out
  or answers something that is not an authorizer response → 500.
- Its policy denies `execute-api:Invoke` on the `methodArn` explicitly, or does not allow it →
  403. An allow (and no deny) → the connection goes on, and `requestContext.authorizer` of its
  events holds the returned `context` plus `principalId`.

Not emulated: caching of results (`AuthorizerResultTtlInSeconds`) and `usageIdentifierKey`.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dev.emulator.lambda_runner import Invocation

UNAUTHORIZED = "Unauthorized"
_ACTIONS = ("execute-api:invoke", "execute-api:*", "*")
_SOURCE = re.compile(r"^route\.request\.(header|querystring)\.(.+)$|^stageVariables\.(.+)$")


@dataclass(frozen=True)
class Allowed:
    principal_id: str
    context: dict[str, Any]

    @property
    def request_context(self) -> dict[str, Any]:
        """What `$connect` (and every later event of the connection) gets as `authorizer`."""
        return {**self.context, "principalId": self.principal_id}


@dataclass(frozen=True)
class Refused:
    status: int
    error: str  # `$context.error.message`
    authorizer_error: str | None = None  # `$context.authorizer.error`


Decision = Allowed | Refused


def missing_identity_sources(
    sources: Sequence[str],
    headers: Mapping[str, str],
    query: Mapping[str, str],
    stage_variables: Mapping[str, str],
) -> list[str]:
    """The identity sources the request does not carry (header names compare case-blind)."""
    lowered = {name.lower(): value for name, value in headers.items()}
    missing = []
    for source in sources:
        match = _SOURCE.match(source.strip())
        if match is None:
            continue  # a `$context.*` source is always there
        kind, name, stage_variable = match.groups()
        if kind == "header":
            value = lowered.get(name.lower())
        elif kind == "querystring":
            value = query.get(name)
        else:
            value = stage_variables.get(stage_variable)
        if not value:
            missing.append(source)
    return missing


def decide(invocation: Invocation, method_arn: str) -> Decision:
    """The outcome of one authorizer invocation for `method_arn`."""
    if not invocation.ok:
        assert invocation.error is not None
        message = str(invocation.error.get("errorMessage", ""))
        if message == UNAUTHORIZED:
            return Refused(401, UNAUTHORIZED, UNAUTHORIZED)
        return Refused(500, "Internal server error", message or invocation.error.get("errorType"))
    try:
        principal_id, statements, context = _response_parts(invocation.result)
    except ValueError as error:
        return Refused(500, "Internal server error", f"invalid authorizer response: {error}")
    effects = {
        statement["Effect"]
        for statement in statements
        if any(action.lower() in _ACTIONS for action in _strings(statement.get("Action")))
        and any(
            _resource_matches(pattern, method_arn)
            for pattern in _strings(statement.get("Resource"))
        )
    }
    if "Deny" in effects or "Allow" not in effects:
        return Refused(403, "Forbidden")
    return Allowed(principal_id, context)


def _response_parts(result: Any) -> tuple[str, list[dict[str, Any]], dict[str, Any]]:
    if not isinstance(result, Mapping):
        raise ValueError("not a JSON object")
    principal_id = result.get("principalId")
    if not isinstance(principal_id, str) or not principal_id:
        raise ValueError("principalId is missing")
    document = result.get("policyDocument")
    if not isinstance(document, Mapping):
        raise ValueError("policyDocument is missing")
    statements = document.get("Statement")
    if isinstance(statements, Mapping):
        statements = [statements]
    if not isinstance(statements, list) or not all(
        isinstance(s, Mapping) and s.get("Effect") in ("Allow", "Deny") for s in statements
    ):
        raise ValueError("policyDocument.Statement must hold statements with an Effect")
    context = result.get("context") or {}
    if not isinstance(context, Mapping) or not all(
        isinstance(value, str | int | float | bool) for value in context.values()
    ):
        raise ValueError("context values must be strings, numbers or booleans")
    return principal_id, list(statements), dict(context)


def _strings(value: Any) -> list[str]:
    """A policy element: one string or a list of them."""
    values = [value] if isinstance(value, str) else value
    return [v for v in values if isinstance(v, str)] if isinstance(values, list) else []


def _resource_matches(pattern: str, arn: str) -> bool:
    """IAM resource matching: `*` any run of characters, `?` any one (no character classes)."""
    return fnmatch.fnmatchcase(arn, pattern.replace("[", "[[]"))
