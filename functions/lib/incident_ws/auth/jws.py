"""JWS compact serialisation (RFC 7515) of RS256/RS384/RS512 tokens, read strictly.

Everything before the signature check works on attacker-controlled bytes, so it is
bounded and total: any input ends in a verified payload or `Unauthorized`.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from typing import Any

from incident_ws.auth.errors import Unauthorized
from incident_ws.auth.jwks import Jwk
from incident_ws.auth.rsa import verify_pkcs1_v1_5

MAX_TOKEN_BYTES = 8192
ALGORITHMS = {"RS256": "sha256", "RS384": "sha384", "RS512": "sha512"}
MAX_KID_LENGTH = 256

_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")


@dataclass(frozen=True)
class CompactJws:
    header: dict[str, Any]
    algorithm: str
    kid: str
    signing_input: bytes
    payload_segment: str
    signature: bytes


def parse(token: Any) -> CompactJws:
    """The token's protected header and parts, after the checks of RFC 8725 §3.1."""
    if not isinstance(token, str) or not token:
        raise Unauthorized("malformed_token")
    if len(token) > MAX_TOKEN_BYTES:
        raise Unauthorized("token_too_large")
    parts = token.split(".")
    if len(parts) != 3 or not token.isascii():
        raise Unauthorized("malformed_token")
    header_segment, payload_segment, signature_segment = parts
    header = json_object(base64url_decode(header_segment))
    algorithm = header.get("alg")
    if not isinstance(algorithm, str) or algorithm not in ALGORITHMS:  # none, HS*, ES*, PS*...
        raise Unauthorized("alg_not_allowed")
    if "crit" in header:  # no extension is understood, so none may be critical
        raise Unauthorized("crit_not_supported")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid or len(kid) > MAX_KID_LENGTH:
        raise Unauthorized("missing_kid")
    return CompactJws(
        header=header,
        algorithm=algorithm,
        kid=kid,
        signing_input=f"{header_segment}.{payload_segment}".encode("ascii"),
        payload_segment=payload_segment,
        signature=base64url_decode(signature_segment),
    )


def verified_payload(jws: CompactJws, key: Jwk) -> dict[str, Any]:
    """The claims, once `key` is one the token may use and the signature is `key`'s."""
    if key.kty != "RSA":
        raise Unauthorized("key_alg_mismatch")
    if key.alg is not None and key.alg != jws.algorithm:
        raise Unauthorized("key_alg_mismatch")
    if key.use is not None and key.use != "sig":
        raise Unauthorized("key_not_usable")
    if key.rsa is None:
        raise Unauthorized("key_not_usable")
    hash_name = ALGORITHMS[jws.algorithm]
    if not verify_pkcs1_v1_5(key.rsa, hash_name, jws.signing_input, jws.signature):
        raise Unauthorized("bad_signature")
    return json_object(base64url_decode(jws.payload_segment))


def base64url_decode(segment: str) -> bytes:
    """Unpadded base64url (RFC 7515 §2) in its one canonical spelling, else Unauthorized."""
    if not _BASE64URL.fullmatch(segment) or len(segment) % 4 == 1:
        raise Unauthorized("malformed_token")
    try:
        decoded = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (binascii.Error, ValueError):
        raise Unauthorized("malformed_token") from None
    # Unused low bits in the last character must be zero: one token, one spelling.
    if base64.urlsafe_b64encode(decoded).rstrip(b"=") != segment.encode("ascii"):
        raise Unauthorized("malformed_token")
    return decoded


def json_object(raw: bytes) -> dict[str, Any]:
    """A UTF-8 JSON object without duplicate member names or NaN/Infinity."""
    try:
        value = json.loads(
            raw.decode("utf-8"),
            object_pairs_hook=_without_duplicates,
            parse_constant=_refuse_constant,
        )
    except (ValueError, RecursionError):
        raise Unauthorized("malformed_token") from None
    if not isinstance(value, dict):
        raise Unauthorized("malformed_token")
    return value


def _without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    value = dict(pairs)
    if len(value) != len(pairs):
        raise ValueError("duplicate member name")
    return value


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")
