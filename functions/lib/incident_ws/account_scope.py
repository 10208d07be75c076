"""AWS account ids, and the account scope the authorizer hands to `$connect`: `*` (every
account) or the comma-separated 12-digit accounts a principal may see."""

from __future__ import annotations

import re
from typing import Any

ALL_ACCOUNTS = "*"
ACCOUNT_ID = re.compile(r"[0-9]{12}")


class UnreadableScope(ValueError):
    """A scope that is neither `*` nor a list of account ids: never read as every account."""


def read_scope(value: Any) -> frozenset[str] | None:
    """None for `*` (every account), else the accounts."""
    if value == ALL_ACCOUNTS:
        return None
    if not isinstance(value, str):
        raise UnreadableScope(f"account scope is a {type(value).__name__}, not text")
    accounts = value.split(",")
    if not all(ACCOUNT_ID.fullmatch(account) for account in accounts):
        raise UnreadableScope("account scope is neither * nor comma-separated 12-digit accounts")
    return frozenset(accounts)
