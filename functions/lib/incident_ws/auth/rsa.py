"""RSASSA-PKCS1-v1_5 signature verification (RFC 8017 §8.2.2) with the standard library.

The signature is raised to the public exponent and the result compared, in constant time,
with the one encoding the signer must have produced (EMSA-PKCS1-v1_5, RFC 8017 §9.2). The
decrypted block is never parsed: parsing it is how the classic forgeries against
PKCS#1 v1.5 verifiers got in.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

MIN_MODULUS_BITS = 2048
MAX_MODULUS_BITS = 8192

# DER of DigestInfo ::= SEQUENCE { AlgorithmIdentifier { OID, NULL }, OCTET STRING (H) },
# up to H itself (RFC 8017 §9.2, note 1).
_DIGEST_INFO_PREFIX = {
    "sha256": bytes.fromhex("3031300d060960864801650304020105000420"),
    "sha384": bytes.fromhex("3041300d060960864801650304020205000430"),
    "sha512": bytes.fromhex("3051300d060960864801650304020305000440"),
}


class UnusableKey(ValueError):
    """An RSA public key this verifier refuses to use."""


@dataclass(frozen=True)
class RsaPublicKey:
    n: int
    e: int

    def __post_init__(self) -> None:
        bits = self.n.bit_length()
        if bits < MIN_MODULUS_BITS:
            raise UnusableKey(f"modulus of {bits} bits is under {MIN_MODULUS_BITS}")
        if bits > MAX_MODULUS_BITS:
            raise UnusableKey(f"modulus of {bits} bits is over {MAX_MODULUS_BITS}")
        if self.n % 2 == 0:
            raise UnusableKey("modulus is even")
        # e = 1 would make every message its own signature.
        if self.e < 3 or self.e % 2 == 0 or self.e >= self.n:
            raise UnusableKey("public exponent must be odd, at least 3 and less than the modulus")

    @property
    def size(self) -> int:
        """k: the length of the modulus in octets."""
        return (self.n.bit_length() + 7) // 8


def verify_pkcs1_v1_5(key: RsaPublicKey, hash_name: str, message: bytes, signature: bytes) -> bool:
    """True only if `signature` is `key`'s signature of `message` with `hash_name`."""
    k = key.size
    if len(signature) != k:
        return False
    s = int.from_bytes(signature, "big")
    if s >= key.n:
        return False
    encoded = pow(s, key.e, key.n).to_bytes(k, "big")
    return hmac.compare_digest(encoded, _expected_encoding(hash_name, message, k))


def _expected_encoding(hash_name: str, message: bytes, k: int) -> bytes:
    digest_info = _DIGEST_INFO_PREFIX[hash_name] + hashlib.new(hash_name, message).digest()
    padding = k - len(digest_info) - 3
    # A 2048-bit modulus leaves far more than the 8 octets of padding RFC 8017 requires.
    return b"\x00\x01" + b"\xff" * padding + b"\x00" + digest_info
