"""The `$connect` authorizer's decisions: which tokens open a connection, from where, with
which account scope. Tokens come from a local OIDC issuer over loopback HTTP."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import time
from collections.abc import Callable
from types import ModuleType

import pytest
from cryptography.hazmat.primitives import serialization

from dev.harness.oidc_issuer import (
    OMIT,
    OidcIssuer,
    SigningKey,
    b64url,
    b64url_json,
)
from tests.support.authorizer_events import allow_policy, authorizer_event, deny_policy
from tests.unit.helpers import parse_log_event

AUDIENCE = "incident-websocket-dashboard"
OPTIONAL_VARIABLES = ("ACCOUNTS_CLAIM", "ALLOWED_ORIGINS")
TENANT = "111122223333"
OTHER_TENANT = "444455556666"


@pytest.fixture(scope="module")
def signing_key() -> SigningKey:
    """Published without `alg`, so it may sign RS256, RS384 and RS512 tokens."""
    return SigningKey.generate(2048, kid="signing-key", alg=None)


@pytest.fixture
def issuer(signing_key) -> OidcIssuer:
    with OidcIssuer(audience=AUDIENCE, keys=[signing_key]) as issuer:
        yield issuer


@pytest.fixture
def load_authorizer(load, issuer, monkeypatch) -> Callable[..., ModuleType]:
    def load_with(**env: str) -> ModuleType:
        for name in OPTIONAL_VARIABLES:
            monkeypatch.delenv(name, raising=False)
        return load("authorizer", **{"OIDC_ISSUER": issuer.url, "OIDC_AUDIENCES": AUDIENCE, **env})

    return load_with


@pytest.fixture
def authorizer(load_authorizer) -> ModuleType:
    return load_authorizer()


def assert_unauthorized(authorizer: ModuleType, event: object, caplog, reason: str) -> None:
    with pytest.raises(Exception) as raised:
        authorizer.handler(event, None)
    assert type(raised.value) is Exception
    assert raised.value.args == ("Unauthorized",)
    assert [line["reason"] for line in parse_log_event(caplog, "unauthorized")] == [reason]


def forbidden_reasons(caplog) -> list[str]:
    return [line["reason"] for line in parse_log_event(caplog, "forbidden")]


def tampered(segment: str, position: int) -> str:
    replacement = "A" if segment[position] != "A" else "B"
    return segment[:position] + replacement + segment[position + 1 :]


# -- valid tokens -------------------------------------------------------------------------


@pytest.mark.parametrize("alg", ["RS256", "RS384", "RS512"])
def test_valid_token_is_allowed_with_its_subject_and_all_accounts(authorizer, issuer, alg):
    token = issuer.mint(alg=alg, sub="analyst-1")

    assert authorizer.handler(authorizer_event(token), None) == allow_policy("analyst-1", "*")


def test_context_values_are_strings_as_api_gateway_requires(authorizer, issuer):
    response = authorizer.handler(authorizer_event(issuer.mint()), None)

    assert all(isinstance(v, str) for v in response["context"].values())


def test_audience_list_containing_ours_is_accepted(authorizer, issuer):
    token = issuer.mint(aud=["another-app", AUDIENCE])

    assert authorizer.handler(authorizer_event(token), None) == allow_policy("analyst")


def test_any_of_several_configured_audiences_is_accepted(load_authorizer, issuer):
    authorizer = load_authorizer(OIDC_AUDIENCES=f"first-app, {AUDIENCE}")

    response = authorizer.handler(authorizer_event(issuer.mint()), None)

    assert response == allow_policy("analyst")


def test_cognito_id_token_is_accepted(authorizer, issuer):
    token = issuer.mint(token_use="id", aud=AUDIENCE)

    assert authorizer.handler(authorizer_event(token), None) == allow_policy("analyst")


def test_cognito_access_token_is_accepted_by_its_client_id(authorizer, issuer):
    token = issuer.mint(token_use="access", aud=OMIT, client_id=AUDIENCE, sub="agent")

    assert authorizer.handler(authorizer_event(token), None) == allow_policy("agent")


def test_token_expired_within_the_leeway_is_accepted(authorizer, issuer):
    now = int(time.time())
    token = issuer.mint(iat=now - 600, exp=now - 30)

    assert authorizer.handler(authorizer_event(token), None) == allow_policy("analyst")


def test_token_valid_from_within_the_leeway_is_accepted(authorizer, issuer):
    now = int(time.time())
    token = issuer.mint(iat=now + 30, nbf=now + 30)

    assert authorizer.handler(authorizer_event(token), None) == allow_policy("analyst")


# -- the token matrix: each refused with 401 and a reason ---------------------------------


def _expired(issuer: OidcIssuer) -> str:
    now = int(time.time())
    return issuer.mint(iat=now - 3600, exp=now - 61)


def _not_yet_valid(issuer: OidcIssuer) -> str:
    return issuer.mint(nbf=int(time.time()) + 120)


def _issued_in_the_future(issuer: OidcIssuer) -> str:
    return issuer.mint(iat=int(time.time()) + 120)


def _alg_none(issuer: OidcIssuer, alg: str = "none") -> str:
    header = {"alg": alg, "typ": "JWT", "kid": issuer.current_key.kid}
    return f"{b64url_json(header)}.{b64url_json(issuer.claims())}."


def _hs256_with_public_key_as_secret(issuer: OidcIssuer) -> str:
    public_pem = issuer.current_key.private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = {"alg": "HS256", "typ": "JWT", "kid": issuer.current_key.kid}
    signing_input = f"{b64url_json(header)}.{b64url_json(issuer.claims())}"
    mac = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(mac)}"


def _tampered_payload(issuer: OidcIssuer) -> str:
    header, _, signature = issuer.mint(sub="tenant").split(".")
    return f"{header}.{b64url_json(issuer.claims(sub='analyst'))}.{signature}"


def _tampered_signature(issuer: OidcIssuer) -> str:
    header, payload, signature = issuer.mint().split(".")
    return f"{header}.{payload}.{tampered(signature, len(signature) // 2)}"


def _signed_by_another_key_with_the_same_kid(issuer: OidcIssuer) -> str:
    impostor = SigningKey.generate(2048, kid=issuer.current_key.kid)
    return issuer.mint(key=impostor)


MATRIX = {
    "expired": (_expired, "expired"),
    "not yet valid": (_not_yet_valid, "not_yet_valid"),
    "issued in the future": (_issued_in_the_future, "issued_in_the_future"),
    "no exp": (lambda i: i.mint(exp=OMIT), "missing_exp"),
    "exp not a number": (lambda i: i.mint(exp=str(int(time.time()) + 300)), "malformed_time_claim"),
    "wrong issuer": (lambda i: i.mint(iss="https://evil.example.com"), "wrong_issuer"),
    "issuer with a trailing slash": (lambda i: i.mint(iss=i.url + "/"), "wrong_issuer"),
    "no issuer": (lambda i: i.mint(iss=OMIT), "wrong_issuer"),
    "wrong audience": (lambda i: i.mint(aud="another-app"), "wrong_audience"),
    "audience list without ours": (lambda i: i.mint(aud=["a", "b"]), "wrong_audience"),
    "empty audience list": (lambda i: i.mint(aud=[]), "wrong_audience"),
    "no audience": (lambda i: i.mint(aud=OMIT), "wrong_audience"),
    "client_id of an id token": (
        lambda i: i.mint(token_use="id", aud=OMIT, client_id=AUDIENCE),
        "wrong_audience",
    ),
    "client_id without token_use": (
        lambda i: i.mint(aud=OMIT, client_id=AUDIENCE),
        "wrong_audience",
    ),
    "access token of another client": (
        lambda i: i.mint(token_use="access", aud=OMIT, client_id="another-app"),
        "wrong_audience",
    ),
    "cognito refresh token_use": (lambda i: i.mint(token_use="refresh"), "wrong_token_use"),
    "no sub": (lambda i: i.mint(sub=OMIT), "missing_sub"),
    "empty sub": (lambda i: i.mint(sub=""), "missing_sub"),
    "alg none": (_alg_none, "alg_not_allowed"),
    "alg None": (lambda i: _alg_none(i, "None"), "alg_not_allowed"),
    "HS256 signed with the public key as secret": (
        _hs256_with_public_key_as_secret,
        "alg_not_allowed",
    ),
    "ES256 header": (lambda i: i.mint(header={"alg": "ES256"}), "alg_not_allowed"),
    "PS256 header": (lambda i: i.mint(header={"alg": "PS256"}), "alg_not_allowed"),
    "alg not a string": (lambda i: i.mint(header={"alg": ["RS256"]}), "alg_not_allowed"),
    "tampered payload": (_tampered_payload, "bad_signature"),
    "tampered signature": (_tampered_signature, "bad_signature"),
    "signed by another key with the same kid": (
        _signed_by_another_key_with_the_same_kid,
        "bad_signature",
    ),
    "missing kid": (lambda i: i.mint(kid=OMIT), "missing_kid"),
    "empty kid": (lambda i: i.mint(kid=""), "missing_kid"),
    "kid not a string": (lambda i: i.mint(kid=7), "missing_kid"),
    "critical header": (lambda i: i.mint(header={"crit": ["exp"], "exp": 1}), "crit_not_supported"),
    "empty crit": (lambda i: i.mint(header={"crit": []}), "crit_not_supported"),
}


@pytest.mark.parametrize(("make_token", "reason"), MATRIX.values(), ids=MATRIX.keys())
def test_untrustworthy_token_is_unauthorized(authorizer, issuer, caplog, make_token, reason):
    assert_unauthorized(authorizer, authorizer_event(make_token(issuer)), caplog, reason)


def test_key_published_for_rs256_does_not_verify_an_rs384_token(load_authorizer, issuer, caplog):
    rs256_only = SigningKey.generate(2048, alg="RS256")
    issuer.keys[:] = [rs256_only]
    authorizer = load_authorizer()

    event = authorizer_event(issuer.mint(alg="RS384", key=rs256_only))

    assert_unauthorized(authorizer, event, caplog, "key_alg_mismatch")


NAN_HEADER = b64url(b'{"alg": NaN}')
DUPLICATE_ALG_HEADER = b64url(b'{"alg":"none","alg":"RS256","kid":"signing-key"}')

GARBAGE = {
    "empty": ("", "no_token"),
    "one part": ("abcdef", "malformed_token"),
    "two parts": ("abc.def", "malformed_token"),
    "four parts": ("a.b.c.d", "malformed_token"),
    "five parts (a JWE)": ("a.b.c.d.e", "malformed_token"),
    "not base64url": ("ab$c.de!f.gh*i", "malformed_token"),
    "standard base64 alphabet": ("ab+c.de/f.ghi", "malformed_token"),
    "padded base64url": ("eyJhbGciOiJSUzI1NiJ9==.e30.", "malformed_token"),
    "impossible base64 length": ("abcde.e30.AAAA", "malformed_token"),
    "header not JSON": (f"{b64url(b'not json')}.e30.AAAA", "malformed_token"),
    "header a JSON list": (f"{b64url(b'[1]')}.e30.AAAA", "malformed_token"),
    "header not UTF-8": (f"{b64url(bytes([0xFF, 0xFE]))}.e30.AAAA", "malformed_token"),
    "header with NaN": (f"{NAN_HEADER}.e30.AAAA", "malformed_token"),
    "header nested too deep": (f"{b64url(b'[' * 3000)}.e30.AAAA", "malformed_token"),
    "duplicate alg": (f"{DUPLICATE_ALG_HEADER}.e30.AAAA", "malformed_token"),
    "non-ASCII": ("é.é.é", "malformed_token"),
    "huge": ("a" * 9000 + ".b.c", "token_too_large"),
}


@pytest.mark.parametrize(("token", "reason"), GARBAGE.values(), ids=GARBAGE.keys())
def test_garbage_token_is_unauthorized(authorizer, caplog, token, reason):
    assert_unauthorized(authorizer, authorizer_event(token), caplog, reason)


def test_garbage_tokens_fetch_no_keys(authorizer, issuer):
    for token, _ in GARBAGE.values():
        with pytest.raises(Exception, match="Unauthorized"):
            authorizer.handler(authorizer_event(token), None)

    assert sum(issuer.requests.values()) == 0


# -- where the token comes from -----------------------------------------------------------


def test_token_query_parameter_is_read(authorizer, issuer, caplog):
    authorizer.handler(authorizer_event(issuer.mint()), None)

    [line] = parse_log_event(caplog, "authorized")
    assert line["tokenSource"] == "query"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("Authorization", "Bearer {token}"),
        ("authorization", "bearer {token}"),
        ("AUTHORIZATION", "BEARER  {token} "),
    ],
)
def test_bearer_authorization_header_is_read(authorizer, issuer, caplog, name, value):
    event = authorizer_event(headers={name: value.format(token=issuer.mint())})

    assert authorizer.handler(event, None) == allow_policy("analyst")
    [line] = parse_log_event(caplog, "authorized")
    assert line["tokenSource"] == "authorization"


def test_authorization_header_is_also_read_from_multi_value_headers(authorizer, issuer):
    event = authorizer_event()
    event["multiValueHeaders"]["Authorization"] = [f"Bearer {issuer.mint()}"]

    assert authorizer.handler(event, None) == allow_policy("analyst")


def test_jwt_shaped_subprotocol_is_read(authorizer, issuer, caplog):
    protocols = f"incident-websocket, {issuer.mint()}"
    event = authorizer_event(headers={"Sec-WebSocket-Protocol": protocols})

    assert authorizer.handler(event, None) == allow_policy("analyst")
    [line] = parse_log_event(caplog, "authorized")
    assert line["tokenSource"] == "subprotocol"


def test_subprotocols_without_a_jwt_are_no_token(authorizer, caplog):
    event = authorizer_event(headers={"Sec-WebSocket-Protocol": "incident-websocket, chat"})

    assert_unauthorized(authorizer, event, caplog, "no_token")


def test_no_token_anywhere_is_unauthorized(authorizer, caplog):
    assert_unauthorized(authorizer, authorizer_event(), caplog, "no_token")


def test_query_token_wins_over_a_valid_authorization_header(authorizer, issuer, caplog):
    event = authorizer_event(
        issuer.mint(aud="another-app"), headers={"Authorization": f"Bearer {issuer.mint()}"}
    )

    assert_unauthorized(authorizer, event, caplog, "wrong_audience")


def test_authorization_header_wins_over_a_valid_subprotocol(authorizer, issuer, caplog):
    event = authorizer_event(
        headers={
            "Authorization": f"Bearer {issuer.mint(aud='another-app')}",
            "Sec-WebSocket-Protocol": f"incident-websocket, {issuer.mint()}",
        }
    )

    assert_unauthorized(authorizer, event, caplog, "wrong_audience")


def test_valid_query_token_is_used_whatever_the_headers_hold(authorizer, issuer):
    event = authorizer_event(
        issuer.mint(sub="from-query"),
        headers={"Authorization": "Bearer x.y.z", "Sec-WebSocket-Protocol": "a.b.c"},
    )

    assert authorizer.handler(event, None) == allow_policy("from-query")


def test_non_bearer_authorization_is_skipped_for_the_subprotocol(authorizer, issuer):
    event = authorizer_event(
        headers={
            "Authorization": "Basic dXNlcjpwYXNz",
            "Sec-WebSocket-Protocol": f"incident-websocket, {issuer.mint()}",
        }
    )

    assert authorizer.handler(event, None) == allow_policy("analyst")


def test_empty_token_query_parameter_falls_back_to_the_header(authorizer, issuer):
    event = authorizer_event("", headers={"Authorization": f"Bearer {issuer.mint()}"})

    assert authorizer.handler(event, None) == allow_policy("analyst")


# -- Origin -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "origin", ["https://soc.example.com", "HTTPS://SOC.example.com", "https://soc.example.com/"]
)
def test_allowed_origin_is_allowed(load_authorizer, issuer, origin):
    authorizer = load_authorizer(ALLOWED_ORIGINS="https://soc.example.com, http://localhost:8080")

    event = authorizer_event(issuer.mint(), headers={"Origin": origin})

    assert authorizer.handler(event, None) == allow_policy("analyst")


def test_origin_not_allowed_is_denied_with_the_principal(load_authorizer, issuer, caplog):
    authorizer = load_authorizer(ALLOWED_ORIGINS="https://soc.example.com")

    event = authorizer_event(issuer.mint(), headers={"Origin": "https://evil.example.net"})

    assert authorizer.handler(event, None) == deny_policy("analyst")
    assert forbidden_reasons(caplog) == ["origin_not_allowed"]
    [line] = parse_log_event(caplog, "forbidden")
    assert line["origin"] == "https://evil.example.net"
    assert line["principalId"] == "analyst"


def test_null_origin_is_denied_when_origins_are_restricted(load_authorizer, issuer):
    authorizer = load_authorizer(ALLOWED_ORIGINS="https://soc.example.com")

    event = authorizer_event(issuer.mint(), headers={"Origin": "null"})

    assert authorizer.handler(event, None) == deny_policy("analyst")


def test_client_without_origin_is_not_refused_by_allowed_origins(load_authorizer, issuer):
    authorizer = load_authorizer(ALLOWED_ORIGINS="https://soc.example.com")

    assert authorizer.handler(authorizer_event(issuer.mint()), None) == allow_policy("analyst")


def test_any_origin_is_allowed_when_allowed_origins_is_not_set(authorizer, issuer):
    event = authorizer_event(issuer.mint(), headers={"Origin": "https://anywhere.example"})

    assert authorizer.handler(event, None) == allow_policy("analyst")


def test_bad_token_from_a_bad_origin_is_unauthorized_not_forbidden(load_authorizer, issuer, caplog):
    authorizer = load_authorizer(ALLOWED_ORIGINS="https://soc.example.com")

    event = authorizer_event(_expired(issuer), headers={"Origin": "https://evil.example.net"})

    assert_unauthorized(authorizer, event, caplog, "expired")


# -- account scope ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("claim", "accounts"),
    [
        ([TENANT], TENANT),
        ([TENANT, OTHER_TENANT], f"{TENANT},{OTHER_TENANT}"),
        ([TENANT, OTHER_TENANT, TENANT], f"{TENANT},{OTHER_TENANT}"),
        (TENANT, TENANT),
        (f"{TENANT},{OTHER_TENANT}", f"{TENANT},{OTHER_TENANT}"),
        (f" {TENANT} {OTHER_TENANT} ", f"{TENANT},{OTHER_TENANT}"),
        (f"{TENANT}, {OTHER_TENANT}", f"{TENANT},{OTHER_TENANT}"),
        (["*"], "*"),
        ([TENANT, "*"], "*"),
        ("*", "*"),
    ],
)
def test_accounts_claim_becomes_the_account_scope(load_authorizer, issuer, claim, accounts):
    authorizer = load_authorizer(ACCOUNTS_CLAIM="accounts")

    response = authorizer.handler(authorizer_event(issuer.mint(accounts=claim)), None)

    assert response == allow_policy("analyst", accounts)


def test_cognito_custom_attribute_can_be_the_accounts_claim(load_authorizer, issuer):
    authorizer = load_authorizer(ACCOUNTS_CLAIM="custom:accounts")

    token = issuer.mint(**{"custom:accounts": TENANT})

    assert authorizer.handler(authorizer_event(token), None) == allow_policy("analyst", TENANT)


def test_accounts_are_all_when_no_accounts_claim_is_configured(authorizer, issuer):
    token = issuer.mint(accounts=[TENANT])

    assert authorizer.handler(authorizer_event(token), None) == allow_policy("analyst", "*")


@pytest.mark.parametrize(
    ("claim", "reason"),
    [
        (OMIT, "accounts_claim_missing"),
        ([], "accounts_claim_malformed"),
        ("", "accounts_claim_malformed"),
        (" , ", "accounts_claim_malformed"),
        (None, "accounts_claim_malformed"),
        ({"account": TENANT}, "accounts_claim_malformed"),
        (111122223333, "accounts_claim_malformed"),
        ([111122223333], "accounts_claim_malformed"),
        (["11112222333"], "accounts_claim_malformed"),
        ([TENANT, "not-an-account"], "accounts_claim_malformed"),
        (f"{TENANT};{OTHER_TENANT}", "accounts_claim_malformed"),
        (["**"], "accounts_claim_malformed"),
        ([f" {TENANT}"], "accounts_claim_malformed"),
    ],
)
def test_missing_or_malformed_accounts_claim_is_denied(
    load_authorizer, issuer, caplog, claim, reason
):
    authorizer = load_authorizer(ACCOUNTS_CLAIM="accounts")

    response = authorizer.handler(authorizer_event(issuer.mint(accounts=claim)), None)

    assert response == deny_policy("analyst")
    assert forbidden_reasons(caplog) == [reason]


# -- the event ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "event",
    [None, [], "event", 42, {}, {"type": "REQUEST"}],
    ids=["None", "list", "string", "number", "empty", "no methodArn"],
)
def test_event_without_a_method_arn_is_unauthorized(authorizer, caplog, event):
    assert_unauthorized(authorizer, event, caplog, "malformed_event")


@pytest.mark.parametrize(
    "method_arn", [None, 7, "", "arn:aws:s3:::bucket", "arn:aws:execute-api:us-east-1:1:a/b/c"]
)
def test_malformed_method_arn_is_unauthorized(authorizer, issuer, caplog, method_arn):
    event = authorizer_event(issuer.mint())
    event["methodArn"] = method_arn

    assert_unauthorized(authorizer, event, caplog, "malformed_event")


@pytest.mark.parametrize(
    "field", ["headers", "multiValueHeaders", "queryStringParameters", "requestContext"]
)
@pytest.mark.parametrize("value", [None, [], "text", {"token": ["x"], 3: "y"}])
def test_odd_event_fields_end_in_a_decision(authorizer, issuer, field, value):
    event = authorizer_event(headers={"Authorization": f"Bearer {issuer.mint()}"})
    event[field] = value

    try:
        response = authorizer.handler(event, None)
    except Exception as refused:
        assert refused.args == ("Unauthorized",)
    else:
        assert response == allow_policy("analyst")


def test_multi_value_query_token_is_read_when_the_single_value_map_is_missing(authorizer, issuer):
    event = authorizer_event()
    event["multiValueQueryStringParameters"] = {"token": [issuer.mint()]}

    assert authorizer.handler(event, None) == allow_policy("analyst")


def test_unexpected_failure_is_unauthorized_and_logged(authorizer, issuer, caplog):
    def broken(event):
        raise RuntimeError("bug")

    authorizer.AUTHORIZER.authorize = broken

    with pytest.raises(Exception) as raised:
        authorizer.handler(authorizer_event(issuer.mint()), None)

    assert raised.value.args == ("Unauthorized",)
    [line] = parse_log_event(caplog, "authorizer_failed")
    assert "bug" in line["error"]


# -- the audit line -----------------------------------------------------------------------


def test_authorized_line_names_principal_scope_connection_and_source_ip(
    load_authorizer, issuer, caplog
):
    authorizer = load_authorizer(ACCOUNTS_CLAIM="accounts")

    authorizer.handler(authorizer_event(issuer.mint(sub="tenant-a", accounts=[TENANT])), None)

    [line] = parse_log_event(caplog, "authorized")
    assert line == {
        "principalId": "tenant-a",
        "accounts": TENANT,
        "tokenSource": "query",
        "connectionId": "Qp4LZeMqoAMCJ-Q=",
        "sourceIp": "203.0.113.10",
    }


def _decisions(authorizer: ModuleType, issuer: OidcIssuer) -> list[str]:
    tokens = [issuer.mint(), _expired(issuer), _tampered_signature(issuer), issuer.mint()]
    events = [
        authorizer_event(tokens[0]),
        authorizer_event(tokens[1]),
        authorizer_event(tokens[2]),
        authorizer_event(tokens[3], headers={"Origin": "https://evil.example.net"}),
    ]
    for event in events:
        with contextlib.suppress(Exception):
            authorizer.handler(event, None)
    return tokens


def test_every_decision_logs_exactly_one_line(load_authorizer, issuer, caplog):
    authorizer = load_authorizer(ALLOWED_ORIGINS="https://soc.example.com")

    _decisions(authorizer, issuer)

    decisions = [
        r.getMessage().split(" ", 1)[0]
        for r in caplog.records
        if r.getMessage().split(" ", 1)[0] in ("authorized", "unauthorized", "forbidden")
    ]
    assert decisions == ["authorized", "unauthorized", "unauthorized", "forbidden"]


def test_no_log_line_holds_token_material(load_authorizer, issuer, caplog):
    authorizer = load_authorizer(ALLOWED_ORIGINS="https://soc.example.com")

    tokens = _decisions(authorizer, issuer)

    text = "\n".join(r.getMessage() for r in caplog.records)
    for token in tokens:
        for segment in token.split("."):
            assert segment[:16] not in text
