"""The principal's account scope, read from the claim named by ACCOUNTS_CLAIM.

The claim is a JSON list of 12-digit account ids, or one string of them separated by
commas and/or spaces (what Cognito custom attributes and most IdP mappers can emit). `*`
among them means every account. Anything else — a missing claim, an empty list, one
entry that is not an account id — forbids the connection: a scope that cannot be read is
never widened to all accounts.
"""

from __future__ import annotations

import re
from typing import Any

from incident_ws.account_scope import ACCOUNT_ID, ALL_ACCOUNTS
from incident_ws.auth.errors import Forbidden

_SEPARATORS = re.compile(r"[,\s]+")


def account_scope(claims: dict[str, Any], claim_name: str | None) -> str:
    """`*`, or the comma-separated accounts the principal may see (account_scope.py reads it
    back in `$connect`)."""
    if claim_name is None:
        return ALL_ACCOUNTS
    if claim_name not in claims:
        raise Forbidden("accounts_claim_missing")
    value = claims[claim_name]
    if isinstance(value, str):
        entries = [e for e in _SEPARATORS.split(value) if e]
    elif isinstance(value, list):
        entries = value
    else:
        raise Forbidden("accounts_claim_malformed")
    if not entries or not all(isinstance(e, str) for e in entries):
        raise Forbidden("accounts_claim_malformed")
    if not all(e == ALL_ACCOUNTS or ACCOUNT_ID.fullmatch(e) for e in entries):
        raise Forbidden("accounts_claim_malformed")
    if ALL_ACCOUNTS in entries:
        return ALL_ACCOUNTS
    return ",".join(dict.fromkeys(entries))
