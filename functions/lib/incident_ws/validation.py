"""Validation of the `$connect` query parameters (docs/handlers.md)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .account_scope import ACCOUNT_ID

DEFAULT_CLIENT_ID = "unknown"
_CLIENT_ID = re.compile(r"[A-Za-z0-9._:@/-]{1,128}")
# us-east-1, us-gov-west-1, ap-southeast-4, cn-north-1, us-isob-east-1, eusc-de-east-1
_REGION = re.compile(
    r"(us|eu|ap|sa|ca|me|af|il|mx|cn|us-gov|us-iso[bfe]?|eu-isoe|eusc-de)"
    r"-(central|(north|south)?(east|west)|north|south)-[0-9]{1,2}"
)


class InvalidParameter(ValueError):
    """A query parameter is not acceptable; `parameter` names it. Answered 400."""

    status_code = 400

    def __init__(self, parameter: str, rule: str) -> None:
        super().__init__(f"invalid query parameter {parameter!r}: {rule}")
        self.parameter = parameter


class ParameterOutsideScope(InvalidParameter):
    """A well-formed query parameter asking for more than the caller may see. Answered 403."""

    status_code = 403


@dataclass(frozen=True)
class ClientParameters:
    client_id: str
    account: str | None
    region: str | None


def client_parameters(query: Any) -> ClientParameters:
    """clientId (default "unknown"), account and region; absent ones stay None."""
    if query is None:
        query = {}
    if not isinstance(query, Mapping):
        raise InvalidParameter("queryStringParameters", "must be an object")
    client_id = _checked(query, "clientId", _CLIENT_ID, "1-128 of A-Z a-z 0-9 . _ : @ / -")
    return ClientParameters(
        client_id=DEFAULT_CLIENT_ID if client_id is None else client_id,
        account=_checked(query, "account", ACCOUNT_ID, "exactly 12 digits"),
        region=_checked(query, "region", _REGION, "an AWS region name such as us-east-1"),
    )


def _checked(query: Mapping[str, Any], name: str, pattern: re.Pattern, rule: str) -> str | None:
    if name not in query or query[name] is None:
        return None
    value = query[name]
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise InvalidParameter(name, rule)
    return value
