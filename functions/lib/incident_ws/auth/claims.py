"""The registered claims every accepted token must satisfy (RFC 7519 §4.1, RFC 8725 §3.8-3.9).

Cognito tokens are recognised by `token_use`: an ID token (`id`) carries `aud`, an access
token (`access`) carries no `aud` but the app client in `client_id`.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from incident_ws.auth.errors import Unauthorized

LEEWAY_SECONDS = 60
TOKEN_USES = ("id", "access")


def check_claims(
    claims: dict[str, Any], issuer: str, audiences: Collection[str], now: float
) -> str:
    """The principal (`sub`) of a token that is the issuer's, for us, and valid `now`."""
    if claims.get("iss") != issuer:
        raise Unauthorized("wrong_issuer")
    token_use = claims.get("token_use")
    if token_use is not None and token_use not in TOKEN_USES:
        raise Unauthorized("wrong_token_use")
    if not _for_us(claims, audiences):
        raise Unauthorized("wrong_audience")
    _check_times(claims, now)
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise Unauthorized("missing_sub")
    return subject


def _for_us(claims: dict[str, Any], audiences: Collection[str]) -> bool:
    if "aud" in claims:
        aud = claims["aud"]
        if isinstance(aud, str):
            return aud in audiences
        return (
            isinstance(aud, list)
            and all(isinstance(a, str) for a in aud)
            and any(a in audiences for a in aud)
        )
    client_id = claims.get("client_id")
    return (
        claims.get("token_use") == "access"
        and isinstance(client_id, str)
        and (client_id in audiences)
    )


def _check_times(claims: dict[str, Any], now: float) -> None:
    if "exp" not in claims:
        raise Unauthorized("missing_exp")
    for name in ("exp", "nbf", "iat"):
        if name in claims and not _is_number(claims[name]):
            raise Unauthorized("malformed_time_claim")
    if claims["exp"] <= now - LEEWAY_SECONDS:
        raise Unauthorized("expired")
    if claims.get("nbf", now) > now + LEEWAY_SECONDS:
        raise Unauthorized("not_yet_valid")
    if claims.get("iat", now) > now + LEEWAY_SECONDS:
        raise Unauthorized("issued_in_the_future")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
