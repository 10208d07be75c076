"""The authorizer's signing keys: discovery, JWKS cache, refetch limits, and every way
fetching them can fail — each of which refuses the token, logs an error, and allows
nothing."""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable
from types import ModuleType

import pytest

from dev.harness.oidc_issuer import (
    DISCOVERY_PATH,
    JWKS_PATH,
    OidcIssuer,
    SigningKey,
    b64url,
    b64url_json,
    b64url_uint,
)
from tests.support.authorizer_events import allow_policy, authorizer_event
from tests.support.lambda_zip import load_module
from tests.unit.helpers import parse_log_event

AUDIENCE = "incident-websocket-dashboard"
SHA256_DIGEST_INFO = bytes.fromhex("3031300d060960864801650304020105000420")


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def signing_key() -> SigningKey:
    return SigningKey.generate(2048, kid="signing-key")


@pytest.fixture
def issuer(signing_key) -> OidcIssuer:
    with OidcIssuer(audience=AUDIENCE, keys=[signing_key]) as issuer:
        yield issuer


@pytest.fixture
def load_authorizer(load, issuer, monkeypatch) -> Callable[..., ModuleType]:
    def load_with(**env: str) -> ModuleType:
        for name in ("ACCOUNTS_CLAIM", "ALLOWED_ORIGINS"):
            monkeypatch.delenv(name, raising=False)
        return load("authorizer", **{"OIDC_ISSUER": issuer.url, "OIDC_AUDIENCES": AUDIENCE, **env})

    return load_with


@pytest.fixture
def authorizer(load_authorizer) -> ModuleType:
    return load_authorizer()


@pytest.fixture
def clock(authorizer, issuer) -> Clock:
    """The authorizer's key set, on a clock the test controls."""
    clock = Clock()
    authorizer.AUTHORIZER.keys = authorizer.KeySet(issuer.url, clock=clock)
    return clock


@pytest.fixture
def fetch() -> ModuleType:
    return load_module("authorizer", "incident_ws.auth.fetch")


@pytest.fixture
def decide(caplog) -> Callable[[ModuleType, str], dict | str]:
    """`decide(authorizer, token)`: the policy, or the reason of the 401."""

    def decide_with(authorizer: ModuleType, token: str) -> dict | str:
        try:
            return authorizer.handler(authorizer_event(token), None)
        except Exception as refused:
            assert refused.args == ("Unauthorized",)
        return parse_log_event(caplog, "unauthorized")[-1]["reason"]

    return decide_with


def jwks_errors(caplog) -> list[dict]:
    return [
        json.loads(r.getMessage().split(" ", 1)[1])
        for r in caplog.records
        if r.getMessage().startswith("jwks_unavailable ") and r.levelno == logging.ERROR
    ]


def unpublished_key_token(issuer: OidcIssuer, kid: str) -> str:
    return issuer.mint(key=SigningKey.generate(2048, kid=kid))


# -- caching and refetching ---------------------------------------------------------------


def test_keys_are_fetched_once_and_reused(decide, authorizer, issuer):
    for _ in range(3):
        assert decide(authorizer, issuer.mint()) == allow_policy("analyst")

    assert issuer.requests == {DISCOVERY_PATH: 1, JWKS_PATH: 1}


def test_unknown_kid_refetches_the_jwks_once_then_not_again_within_a_minute(
    decide, authorizer, issuer
):
    decide(authorizer, issuer.mint())

    assert decide(authorizer, unpublished_key_token(issuer, "unknown-1")) == "unknown_kid"
    assert issuer.requests[JWKS_PATH] == 2
    assert decide(authorizer, unpublished_key_token(issuer, "unknown-2")) == "unknown_kid"
    assert issuer.requests[JWKS_PATH] == 2


def test_unknown_kid_refetches_again_once_a_minute_has_passed(decide, authorizer, issuer, clock):
    decide(authorizer, issuer.mint())
    decide(authorizer, unpublished_key_token(issuer, "unknown-1"))

    clock.now += 59
    decide(authorizer, unpublished_key_token(issuer, "unknown-2"))
    assert issuer.requests[JWKS_PATH] == 2
    clock.now += 1
    decide(authorizer, unpublished_key_token(issuer, "unknown-3"))
    assert issuer.requests[JWKS_PATH] == 3


def test_refetch_reuses_the_discovered_jwks_uri(decide, authorizer, issuer):
    decide(authorizer, issuer.mint())
    decide(authorizer, unpublished_key_token(issuer, "unknown"))

    assert issuer.requests[DISCOVERY_PATH] == 1


def test_rotated_key_is_trusted_after_one_refetch(decide, authorizer, issuer):
    decide(authorizer, issuer.mint())
    issuer.rotate()

    assert decide(authorizer, issuer.mint(sub="after-rotation")) == allow_policy("after-rotation")
    assert issuer.requests[JWKS_PATH] == 2


def test_withdrawn_key_is_trusted_until_the_keys_are_an_hour_old(decide, authorizer, issuer, clock):
    old_token = issuer.mint()
    decide(authorizer, old_token)
    issuer.rotate()

    clock.now += 3599
    assert decide(authorizer, old_token) == allow_policy("analyst")
    clock.now += 1
    assert decide(authorizer, old_token) == "unknown_kid"


def test_issuer_with_a_trailing_slash_is_discovered_without_a_double_slash(
    decide, load_authorizer, issuer
):
    issuer.discovery_overrides["issuer"] = issuer.url + "/"
    authorizer = load_authorizer(OIDC_ISSUER=issuer.url + "/")

    assert decide(authorizer, issuer.mint(iss=issuer.url + "/")) == allow_policy("analyst")
    assert issuer.requests[DISCOVERY_PATH] == 1


# -- fetch failures: 401, an error line, nothing allowed ----------------------------------


def test_unreachable_issuer_is_unauthorized_and_logs_an_error(decide, authorizer, issuer, caplog):
    issuer.down = True

    assert decide(authorizer, issuer.mint()) == "jwks_unavailable"
    [error] = jwks_errors(caplog)
    assert error["issuer"] == issuer.url
    assert DISCOVERY_PATH in error["error"]


def test_stopped_issuer_is_unauthorized(decide, authorizer, issuer, caplog):
    token = issuer.mint()
    issuer.stop()

    assert decide(authorizer, token) == "jwks_unavailable"
    assert len(jwks_errors(caplog)) == 1


def test_jwks_unreachable_after_discovery_is_unauthorized(decide, authorizer, issuer, caplog):
    issuer.raw_responses[JWKS_PATH] = b"<html>maintenance</html>"

    assert decide(authorizer, issuer.mint()) == "jwks_unavailable"
    [error] = jwks_errors(caplog)
    assert JWKS_PATH in error["error"]


def test_failed_fetch_is_retried_after_five_seconds_not_before(decide, authorizer, issuer, clock):
    issuer.down = True
    decide(authorizer, issuer.mint())

    clock.now += 4.9
    assert decide(authorizer, issuer.mint()) == "jwks_unavailable"
    assert issuer.requests[DISCOVERY_PATH] == 1
    issuer.down = False
    clock.now += 0.1
    assert decide(authorizer, issuer.mint()) == allow_policy("analyst")


def test_failed_refetch_keeps_known_keys_working(decide, authorizer, issuer):
    decide(authorizer, issuer.mint())
    issuer.down = True

    assert decide(authorizer, unpublished_key_token(issuer, "unknown")) == "jwks_unavailable"
    assert decide(authorizer, issuer.mint()) == allow_policy("analyst")


@pytest.mark.parametrize(
    "jwks_uri",
    [
        "http://idp.example.com/jwks.json",
        "ftp://idp.example.com/jwks.json",
        "/jwks.json",
        "https://user:secret@idp.example.com/jwks.json",
        None,
        ["https://idp.example.com/jwks.json"],
    ],
)
def test_discovery_pointing_at_an_untrusted_jwks_uri_is_unauthorized(
    decide, authorizer, issuer, caplog, jwks_uri
):
    issuer.discovery_overrides["jwks_uri"] = jwks_uri

    assert decide(authorizer, issuer.mint()) == "jwks_unavailable"
    [error] = jwks_errors(caplog)
    assert "jwks_uri" in error["error"]
    assert issuer.requests[JWKS_PATH] == 0


def test_discovery_document_of_another_issuer_is_unauthorized(decide, authorizer, issuer, caplog):
    issuer.discovery_overrides["issuer"] = "https://evil.example.com"

    assert decide(authorizer, issuer.mint()) == "jwks_unavailable"
    assert issuer.requests[JWKS_PATH] == 0


def test_redirect_is_refused_even_to_the_same_issuer(decide, authorizer, issuer):
    issuer.redirects[JWKS_PATH] = issuer.url + "/moved.json"
    issuer.raw_responses["/moved.json"] = json.dumps(issuer.jwks_document()).encode()

    assert decide(authorizer, issuer.mint()) == "jwks_unavailable"
    assert issuer.requests["/moved.json"] == 0


@pytest.mark.parametrize(
    "document",
    [b"[]", b'{"keys": {}}', b"{}", json.dumps({"keys": [{}] * 101}).encode()],
    ids=["list", "keys not a list", "no keys", "over a hundred keys"],
)
def test_malformed_jwks_is_unauthorized(decide, authorizer, issuer, document):
    issuer.raw_responses[JWKS_PATH] = document

    assert decide(authorizer, issuer.mint()) == "jwks_unavailable"


# -- keys the verifier refuses to use -----------------------------------------------------


def test_rsa_key_under_2048_bits_is_refused(decide, authorizer, issuer):
    weak = SigningKey.generate(1024, kid="weak")
    issuer.keys.append(weak)

    assert decide(authorizer, issuer.mint(key=weak)) == "key_not_usable"


def test_key_published_for_encryption_is_refused(decide, authorizer, issuer):
    encryption_key = SigningKey.generate(2048, kid="enc", use="enc")
    issuer.keys.append(encryption_key)

    assert decide(authorizer, issuer.mint(key=encryption_key)) == "key_not_usable"


def test_non_rsa_key_with_the_tokens_kid_is_refused(decide, authorizer, issuer):
    ec_key = {"kty": "EC", "kid": "signing-key", "crv": "P-256", "x": "AA", "y": "AA"}
    issuer.raw_responses[JWKS_PATH] = json.dumps({"keys": [ec_key]}).encode()

    assert decide(authorizer, issuer.mint()) == "key_alg_mismatch"


def test_kid_published_twice_is_trusted_for_neither(decide, authorizer, issuer, signing_key):
    twin = SigningKey.generate(2048, kid=signing_key.kid)
    issuer.keys.append(twin)

    assert decide(authorizer, issuer.mint(key=signing_key)) == "unknown_kid"


def test_public_exponent_of_one_is_refused(decide, authorizer, issuer):
    # With e = 1 the expected encoding itself would pass as its own signature.
    n = issuer.current_key.private_key.public_key().public_numbers().n
    jwk = {"kty": "RSA", "kid": "e-one", "n": b64url_uint(n), "e": b64url_uint(1)}
    issuer.raw_responses[JWKS_PATH] = json.dumps({"keys": [jwk]}).encode()
    signing_input = (
        f"{b64url_json({'alg': 'RS256', 'kid': 'e-one'})}.{b64url_json(issuer.claims())}"
    )
    digest_info = SHA256_DIGEST_INFO + hashlib.sha256(signing_input.encode()).digest()
    k = (n.bit_length() + 7) // 8
    encoded = b"\x00\x01" + b"\xff" * (k - len(digest_info) - 3) + b"\x00" + digest_info

    assert decide(authorizer, f"{signing_input}.{b64url(encoded)}") == "key_not_usable"


# -- the fetch itself ---------------------------------------------------------------------


def test_fetch_after_the_deadline_makes_no_request(fetch, issuer):
    with pytest.raises(fetch.FetchError, match="no time left"):
        fetch.fetch_json(issuer.jwks_uri, deadline=0.0, clock=lambda: 1.0)

    assert sum(issuer.requests.values()) == 0


def test_fetch_gives_up_when_the_body_arrives_after_the_deadline(fetch, issuer):
    readings = iter([0.0, 10.5])

    with pytest.raises(fetch.FetchError, match="too slow"):
        fetch.fetch_json(issuer.jwks_uri, deadline=10.0, clock=lambda: next(readings))


def test_fetch_refuses_a_document_over_512_kib(fetch, issuer):
    issuer.raw_responses[JWKS_PATH] = b" " * (512 * 1024 + 1)

    with pytest.raises(fetch.FetchError, match="larger than"):
        fetch.fetch_json(issuer.jwks_uri, deadline=time.monotonic() + 5)


def test_fetch_refuses_an_http_error_status(fetch, issuer):
    with pytest.raises(fetch.FetchError, match="404"):
        fetch.fetch_json(issuer.url + "/missing", deadline=time.monotonic() + 5)


@pytest.mark.parametrize("url", ["http://example.com/jwks.json", "file:///etc/passwd", "https://"])
def test_fetch_refuses_an_untrusted_url_without_connecting(fetch, url):
    with pytest.raises(fetch.FetchError, match="not https"):
        fetch.fetch_json(url, deadline=time.monotonic() + 5)
