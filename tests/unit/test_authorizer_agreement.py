"""Our standard-library verifier against PyJWT (with `cryptography`), and the RSA
verification primitive against the forgeries that parsing verifiers fell for."""

from __future__ import annotations

import hashlib
import random
import time
from types import ModuleType
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa as crypto_rsa

from dev.harness.oidc_issuer import DISCOVERY_PATH, SigningKey, sign_compact
from tests.support.lambda_zip import load_module

ISSUER = "https://idp.example.com"
AUDIENCES = ("dashboard", "agents")
ALGORITHMS = ("RS256", "RS384", "RS512")
TOKENS = 1200
BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
SHA256_DIGEST_INFO = bytes.fromhex("3031300d060960864801650304020105000420")


@pytest.fixture(scope="module")
def keys() -> list[SigningKey]:
    return [
        SigningKey.generate(bits, kid=f"key-{n}-{bits}", alg=None)
        for n, bits in enumerate((2048, 2048, 3072, 3072))
    ]


@pytest.fixture(scope="module")
def auth() -> ModuleType:
    return load_module("authorizer", "incident_ws.auth")


@pytest.fixture(scope="module")
def ours(auth, keys) -> Any:
    """Our verifier, its keys served by a fetch that never leaves the process."""
    documents = {
        ISSUER + DISCOVERY_PATH: {"issuer": ISSUER, "jwks_uri": ISSUER + "/jwks"},
        ISSUER + "/jwks": {"keys": [key.jwk() for key in keys]},
    }
    key_set = auth.KeySet(ISSUER, fetch=lambda url, deadline: documents[url])
    config = auth.AuthorizerConfig(ISSUER, frozenset(AUDIENCES), None, None)
    return auth.Authorizer(config, key_set)


def our_verdict(ours: Any, auth: ModuleType, token: str) -> dict | None:
    try:
        return ours.verify(token)[1]
    except auth.Unauthorized:
        return None


def pyjwt_verdict(token: str, key: SigningKey) -> dict | None:
    try:
        return jwt.decode(
            token,
            key.private_key.public_key(),
            algorithms=list(ALGORITHMS),
            audience=list(AUDIENCES),
            issuer=ISSUER,
            leeway=60,
            options={"require": ["exp", "iss", "sub"]},
        )
    except jwt.PyJWTError:
        return None


def random_claims(rng: random.Random, now: int) -> dict[str, Any]:
    """Mostly valid claims; about a third break one rule with a margin around each edge."""
    claims: dict[str, Any] = {
        "iss": rng.choice([ISSUER] * 9 + [ISSUER + "/", "https://evil.example.com"]),
        "sub": "".join(rng.choices(BASE64URL + " @.:", k=rng.randint(1, 40))),
        "aud": rng.choice(
            [AUDIENCES[0], AUDIENCES[1], ["other", AUDIENCES[1]], [AUDIENCES[0]], "other"]
        ),
        "exp": now + rng.choice([3600, 300, 120, -30, -90, -3600]),
    }
    if rng.random() < 0.5:
        claims["nbf"] = now + rng.choice([-600, -5, 30, 90, 3600])
    if rng.random() < 0.7:
        claims["iat"] = now + rng.choice([-600, 0, 30, 90])
    if rng.random() < 0.5:
        claims["accounts"] = [str(rng.randrange(10**11, 10**12)) for _ in range(rng.randint(0, 3))]
    if rng.random() < 0.3:
        claims["extra"] = {"nested": [rng.random(), "é", None, True]}
    return claims


def tamper(rng: random.Random, token: str) -> str:
    """One character of the header, payload or signature changed to another base64url
    character (in the signature's last one, possibly only its unused bits)."""
    parts = token.split(".")
    index = rng.randrange(3)
    segment = parts[index]
    position = rng.randrange(len(segment))
    character = rng.choice(BASE64URL.replace(segment[position], ""))
    parts[index] = segment[:position] + character + segment[position + 1 :]
    return ".".join(parts)


def test_our_verifier_agrees_with_pyjwt_on_valid_and_tampered_tokens(ours, auth, keys):
    rng = random.Random(20240917)
    outcomes = {"accepted": 0, "refused": 0, "tampered": 0}
    disagreements = []
    for _ in range(TOKENS):
        key, alg = rng.choice(keys), rng.choice(ALGORITHMS)
        header = {"alg": alg, "typ": "JWT", "kid": key.kid}
        token = sign_compact(header, random_claims(rng, int(time.time())), key, alg)
        if rng.random() < 0.45:
            token = tamper(rng, token)
            outcomes["tampered"] += 1

        verdicts = (our_verdict(ours, auth, token), pyjwt_verdict(token, key))

        if verdicts[0] != verdicts[1]:
            disagreements.append((token, verdicts))
        outcomes["accepted" if verdicts[0] is not None else "refused"] += 1

    assert disagreements == []
    assert outcomes["accepted"] >= 150
    assert outcomes["refused"] >= 500
    assert outcomes["tampered"] >= 450


def test_signature_spelled_with_unused_bits_set_is_refused_as_pyjwt_does(ours, auth, keys):
    # A 2048-bit signature leaves 4 unused bits in its last base64url character: setting
    # one spells the same signature differently. One token has one spelling.
    key = keys[0]
    token = sign_compact({"alg": "RS256", "kid": key.kid}, valid_claims(), key, "RS256")
    respelled = token[:-1] + BASE64URL[BASE64URL.index(token[-1]) ^ 1]

    assert our_verdict(ours, auth, token) is not None
    assert our_verdict(ours, auth, respelled) is None
    assert pyjwt_verdict(respelled, key) is None


def test_padded_signature_is_refused_where_pyjwt_accepts_it(ours, auth, keys):
    # RFC 7515 §2 omits padding; PyJWT tolerates it for AWS ALB's ES256 tokens, which an
    # RS256-only verifier never sees.
    key = keys[0]
    token = sign_compact({"alg": "RS256", "kid": key.kid}, valid_claims(), key, "RS256")
    padded = token + "=" * (-len(token.rsplit(".", 1)[1]) % 4)

    assert padded != token
    assert pyjwt_verdict(padded, key) is not None
    assert our_verdict(ours, auth, padded) is None


def valid_claims() -> dict[str, Any]:
    now = int(time.time())
    return {"iss": ISSUER, "sub": "analyst", "aud": AUDIENCES[0], "iat": now, "exp": now + 300}


# -- the RSASSA-PKCS1-v1_5 primitive ------------------------------------------------------


@pytest.fixture(scope="module")
def rsa() -> ModuleType:
    return load_module("authorizer", "incident_ws.auth.rsa")


@pytest.fixture(scope="module")
def exponent_three_key() -> crypto_rsa.RSAPrivateKey:
    """Exponent 3 makes the classic forgeries computable; 2052 bits leave headroom above n."""
    return crypto_rsa.generate_private_key(public_exponent=3, key_size=2052)


def public(rsa: ModuleType, private_key: crypto_rsa.RSAPrivateKey) -> Any:
    numbers = private_key.public_key().public_numbers()
    return rsa.RsaPublicKey(n=numbers.n, e=numbers.e)


def integer_cube_root(value: int) -> int:
    root = 1 << ((value.bit_length() + 2) // 3)
    while True:
        better = (2 * root + value // (root * root)) // 3
        if better >= root:
            return root
        root = better


def test_genuine_signature_with_exponent_three_verifies(rsa, exponent_three_key):
    signature = SigningKey("k", exponent_three_key).sign(b"message", "RS256")

    assert rsa.verify_pkcs1_v1_5(public(rsa, exponent_three_key), "sha256", b"message", signature)


def test_bleichenbacher_forgery_with_garbage_after_the_digest_is_refused(rsa, exponent_three_key):
    # The 2006 forgery: a cube whose top octets read as a well-formed encoding with short
    # padding and whose tail is garbage; a verifier that parses the block accepts it.
    key = public(rsa, exponent_three_key)
    prefix = b"\x00\x01\xff\x00" + SHA256_DIGEST_INFO + hashlib.sha256(b"message").digest()
    tail = key.size - len(prefix)
    highest = int.from_bytes(prefix + b"\xff" * tail, "big")
    forged = integer_cube_root(highest)
    assert pow(forged, 3).to_bytes(key.size, "big").startswith(prefix)

    assert not rsa.verify_pkcs1_v1_5(key, "sha256", b"message", forged.to_bytes(key.size, "big"))


def test_signature_one_octet_short_is_refused(rsa, exponent_three_key):
    signature = SigningKey("k", exponent_three_key).sign(b"message", "RS256")

    assert not rsa.verify_pkcs1_v1_5(
        public(rsa, exponent_three_key), "sha256", b"message", signature.lstrip(b"\x00")[1:]
    )


def test_signature_congruent_to_a_genuine_one_but_not_below_the_modulus_is_refused(
    rsa, exponent_three_key
):
    # A 2052-bit modulus leaves room in its 257 octets for s + n, which raised to e gives
    # the genuine encoding: only the s < n check refuses it.
    key = public(rsa, exponent_three_key)
    genuine = SigningKey("k", exponent_three_key).sign(b"message", "RS256")
    shifted = (int.from_bytes(genuine, "big") + key.n).to_bytes(key.size, "big")

    assert rsa.verify_pkcs1_v1_5(key, "sha256", b"message", genuine)
    assert not rsa.verify_pkcs1_v1_5(key, "sha256", b"message", shifted)


@pytest.mark.parametrize(
    ("n_bits", "e", "problem"),
    [(1024, 65537, "under 2048"), (2048, 1, "exponent"), (2048, 4, "exponent")],
)
def test_unusable_rsa_keys_are_refused(rsa, n_bits, e, problem):
    n = (1 << (n_bits - 1)) | 1

    with pytest.raises(rsa.UnusableKey, match=problem):
        rsa.RsaPublicKey(n=n, e=e)


def test_signature_from_another_hash_is_refused(rsa, exponent_three_key):
    signature = SigningKey("k", exponent_three_key).sign(b"message", "RS384")

    assert not rsa.verify_pkcs1_v1_5(
        public(rsa, exponent_three_key), "sha256", b"message", signature
    )
