"""The authorizer's environment, parsed once at cold start.

A missing or malformed variable raises `ConfigError` naming it: a misconfigured
authorizer fails every `$connect` loudly instead of guessing who may connect.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from incident_ws.config import ConfigError

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})

_CLAIM_NAME = re.compile(r"[!-~]{1,256}")  # printable ASCII, no spaces: `custom:accounts`, URLs


@dataclass(frozen=True)
class AuthorizerConfig:
    issuer: str
    audiences: frozenset[str]
    accounts_claim: str | None
    allowed_origins: frozenset[str] | None  # None: any Origin (and none) is accepted
    channel: str | None = None  # the channel key, for metrics; None: metrics are off


def load_authorizer_config(env: Mapping[str, str] = os.environ) -> AuthorizerConfig:
    issuer = env.get("OIDC_ISSUER", "").strip()
    if not issuer:
        raise ConfigError("OIDC_ISSUER is required: the issuer URL of your OIDC provider")
    if not is_trusted_url(issuer):
        raise ConfigError(
            f"OIDC_ISSUER must be an https:// URL (http:// only for 127.0.0.1, localhost, ::1) "
            f"without query or fragment, got {issuer!r}"
        )
    return AuthorizerConfig(
        issuer=issuer,
        audiences=_audiences(env),
        accounts_claim=_accounts_claim(env),
        allowed_origins=_allowed_origins(env),
        channel=env.get("CHANNEL_NAME", "").strip() or None,
    )


def is_trusted_url(url: str) -> bool:
    """https, or http to a loopback host (local stacks and tests); no query or fragment."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 -- raises ValueError on a malformed port
    except ValueError:
        return False
    if not host or parts.query or parts.fragment or parts.username or parts.password:
        return False
    return parts.scheme == "https" or (parts.scheme == "http" and host in LOOPBACK_HOSTS)


def normalise_origin(origin: str) -> str:
    """Origins compare case-insensitively and never end in `/`."""
    return origin.strip().rstrip("/").lower()


def _audiences(env: Mapping[str, str]) -> frozenset[str]:
    raw = env.get("OIDC_AUDIENCES", "")
    audiences = [a.strip() for a in raw.split(",")]
    if not raw.strip() or not all(audiences):
        raise ConfigError(
            "OIDC_AUDIENCES is required: comma-separated accepted `aud` values "
            f"(or Cognito app client ids), none empty, got {raw!r}"
        )
    return frozenset(audiences)


def _accounts_claim(env: Mapping[str, str]) -> str | None:
    name = env.get("ACCOUNTS_CLAIM", "").strip()
    if not name:
        return None
    if not _CLAIM_NAME.fullmatch(name):
        raise ConfigError(f"ACCOUNTS_CLAIM must be a claim name without spaces, got {name!r}")
    return name


def _allowed_origins(env: Mapping[str, str]) -> frozenset[str] | None:
    raw = env.get("ALLOWED_ORIGINS", "")
    if not raw.strip():
        return None
    origins = [normalise_origin(o) for o in raw.split(",")]
    for origin in origins:
        if not _is_origin(origin):
            raise ConfigError(
                "ALLOWED_ORIGINS must be comma-separated origins such as "
                f"https://soc.example.com (scheme://host[:port], no path), got {raw!r}"
            )
    return frozenset(origins)


def _is_origin(value: str) -> bool:
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 -- raises ValueError on a malformed port
    except ValueError:
        return False
    return (
        parts.scheme in ("http", "https")
        and bool(parts.hostname)
        and not (parts.path or parts.query or parts.fragment or parts.username)
    )
