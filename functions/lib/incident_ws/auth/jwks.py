"""The issuer's signing keys: OIDC discovery, then its JWKS, cached per container.

The first use loads them. A token whose `kid` is unknown triggers at most one refetch a
minute (a key rotation shows up; a flood of made-up kids costs one fetch a minute). Keys
older than an hour are fetched again, so a key the issuer withdrew stops being trusted.
A fetch that fails logs an error and refuses the token: nothing is ever allowed without
keys fetched from the issuer.
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from incident_ws.auth.config import is_trusted_url
from incident_ws.auth.errors import Unauthorized
from incident_ws.auth.fetch import FetchError, fetch_json
from incident_ws.auth.rsa import RsaPublicKey, UnusableKey
from incident_ws.logs import log_event

logger = logging.getLogger(__name__)

DISCOVERY_PATH = "/.well-known/openid-configuration"
FETCH_BUDGET_SECONDS = 2.5  # discovery and JWKS together
UNKNOWN_KID_REFETCH_SECONDS = 60
RETRY_AFTER_FAILURE_SECONDS = 5
MAX_KEY_AGE_SECONDS = 3600
MAX_KEYS = 100

_BASE64URL_PADDED = re.compile(r"[A-Za-z0-9_-]+={0,2}")

Fetch = Callable[[str, float], Any]  # (url, deadline on time.monotonic) → JSON


@dataclass(frozen=True)
class Jwk:
    """One entry of the JWKS; `rsa` is None when it is no RSA key this verifier accepts."""

    kid: str
    kty: Any
    alg: Any
    use: Any
    rsa: RsaPublicKey | None


class KeySet:
    """`clock` (monotonic seconds) times the cache; fetches are bounded in real time."""

    def __init__(
        self,
        issuer: str,
        fetch: Fetch = fetch_json,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.issuer = issuer
        self.discovery_url = issuer.rstrip("/") + DISCOVERY_PATH
        self._fetch = fetch
        self._clock = clock
        self._keys: dict[str, Jwk] | None = None
        self._loaded_at = 0.0
        self._jwks_uri: str | None = None
        self._failed_at: float | None = None
        self._refetched_at: float | None = None

    def key(self, kid: str) -> Jwk:
        """The issuer's key `kid`, else Unauthorized (`unknown_kid`, `jwks_unavailable`)."""
        now = self._clock()
        if self._keys is None or now - self._loaded_at >= MAX_KEY_AGE_SECONDS:
            if not self._load(now):
                raise Unauthorized("jwks_unavailable")
        elif kid not in self._keys and self._may_refetch(now):
            self._refetched_at = now
            if not self._load(now):
                raise Unauthorized("jwks_unavailable")
        key = self._keys.get(kid)
        if key is None:
            raise Unauthorized("unknown_kid")
        return key

    def _may_refetch(self, now: float) -> bool:
        return self._refetched_at is None or now - self._refetched_at >= (
            UNKNOWN_KID_REFETCH_SECONDS
        )

    def _load(self, now: float) -> bool:
        if self._failed_at is not None and now - self._failed_at < RETRY_AFTER_FAILURE_SECONDS:
            return False
        deadline = time.monotonic() + FETCH_BUDGET_SECONDS  # real time, whatever `clock` is
        try:
            jwks_uri = self._jwks_uri or self._discover(deadline)
            keys = parse_jwks(self._fetch(jwks_uri, deadline))
        except FetchError as error:
            self._jwks_uri = None
            self._failed_at = now
            log_event(
                logger, logging.ERROR, "jwks_unavailable", issuer=self.issuer, error=str(error)
            )
            return False
        self._jwks_uri, self._keys, self._loaded_at, self._failed_at = jwks_uri, keys, now, None
        log_event(logger, logging.INFO, "jwks_loaded", issuer=self.issuer, kids=sorted(keys))
        return True

    def _discover(self, deadline: float) -> str:
        document = self._fetch(self.discovery_url, deadline)
        if not isinstance(document, dict):
            raise FetchError(f"{self.discovery_url}: not a JSON object")
        # OpenID Connect Discovery §4.3: the document must be the configured issuer's.
        if document.get("issuer") != self.issuer:
            raise FetchError(f"{self.discovery_url}: its issuer is not {self.issuer!r}")
        jwks_uri = document.get("jwks_uri")
        if not isinstance(jwks_uri, str) or not is_trusted_url(jwks_uri):
            raise FetchError(
                f"{self.discovery_url}: jwks_uri {jwks_uri!r} is not https "
                "(nor http to a loopback host)"
            )
        return jwks_uri


def parse_jwks(document: Any) -> dict[str, Jwk]:
    """kid → key. Entries without a kid are unusable for us; a kid used twice is dropped."""
    keys = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(keys, list) or len(keys) > MAX_KEYS:
        raise FetchError(f"the JWKS must be an object with a list of at most {MAX_KEYS} keys")
    parsed: dict[str, Jwk] = {}
    seen: set[str] = set()
    for entry in keys:
        if not isinstance(entry, dict) or not isinstance(entry.get("kid"), str):
            continue
        kid = entry["kid"]
        if kid in seen:
            parsed.pop(kid, None)
            continue
        seen.add(kid)
        parsed[kid] = Jwk(kid, entry.get("kty"), entry.get("alg"), entry.get("use"), _rsa(entry))
    return parsed


def _rsa(entry: dict[str, Any]) -> RsaPublicKey | None:
    if entry.get("kty") != "RSA":
        return None
    try:
        return RsaPublicKey(n=_unsigned(entry.get("n")), e=_unsigned(entry.get("e")))
    except (UnusableKey, ValueError):
        return None


def _unsigned(value: Any) -> int:
    """A Base64urlUInt (RFC 7518 §2), tolerating the padding some issuers add."""
    if not isinstance(value, str) or not _BASE64URL_PADDED.fullmatch(value):
        raise ValueError("not base64url")
    unpadded = value.rstrip("=")
    try:
        raw = base64.urlsafe_b64decode(unpadded + "=" * (-len(unpadded) % 4))
    except (binascii.Error, ValueError):
        raise ValueError("not base64url") from None
    return int.from_bytes(raw, "big")
