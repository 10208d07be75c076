"""Properties of the authorizer over random tokens and random events: it never crashes
and never allows. Every outcome is the 401 API Gateway expects, reached by a decision
rather than by the handler's last-resort catch."""

from __future__ import annotations

import json
import string
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dev.harness.oidc_issuer import OidcIssuer, SigningKey, b64url, b64url_json
from tests.support.authorizer_events import METHOD_ARN, authorizer_event

AUDIENCE = "incident-websocket-dashboard"
BASE64URL = string.ascii_letters + string.digits + "-_"
PROPERTY_SETTINGS = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture(scope="module")
def signing_key() -> SigningKey:
    return SigningKey.generate(2048, kid="signing-key")


@pytest.fixture
def issuer(signing_key) -> OidcIssuer:
    with OidcIssuer(audience=AUDIENCE, keys=[signing_key]) as issuer:
        yield issuer


@pytest.fixture
def authorizer(load, issuer, monkeypatch) -> ModuleType:
    monkeypatch.delenv("ALLOWED_ORIGINS", raising=False)
    return load(
        "authorizer", OIDC_ISSUER=issuer.url, OIDC_AUDIENCES=AUDIENCE, ACCOUNTS_CLAIM="accounts"
    )


def assert_refused_by_a_decision(authorizer: ModuleType, event: Any, caplog) -> None:
    caplog.clear()
    with pytest.raises(Exception) as raised:
        authorizer.handler(event, None)
    assert type(raised.value) is Exception
    assert raised.value.args == ("Unauthorized",)
    messages = [record.getMessage() for record in caplog.records]
    assert not [m for m in messages if m.startswith("authorizer_failed")], messages


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)
headers = st.fixed_dictionaries(
    {},
    optional={
        "alg": st.sampled_from(["RS256", "RS384", "RS512", "none", "HS256", "ES256"]) | json_values,
        "kid": st.sampled_from(["signing-key", "other", ""]) | json_values,
        "typ": st.just("JWT"),
        "crit": json_values,
    },
)
claims = st.dictionaries(
    st.sampled_from(
        ["iss", "sub", "aud", "exp", "nbf", "iat", "token_use", "client_id", "accounts"]
    )
    | st.text(max_size=8),
    json_values,
    max_size=8,
)
segments = st.text(alphabet=BASE64URL, max_size=400)


@st.composite
def jwt_shaped(draw: st.DrawFn) -> str:
    """Three segments: random JSON or random base64url in each, a random signature."""
    header = draw(st.one_of(headers.map(b64url_json), segments))
    payload = draw(st.one_of(claims.map(b64url_json), segments))
    signature = draw(st.one_of(st.binary(min_size=0, max_size=520).map(b64url), segments))
    return f"{header}.{payload}.{signature}"


tokens = st.one_of(
    st.text(max_size=200),
    st.text(alphabet=BASE64URL + ".=+/ ", max_size=300),
    jwt_shaped(),
    st.builds(lambda n: "a" * n + ".b.c", st.integers(8000, 20000)),
)


@PROPERTY_SETTINGS
@given(token=tokens)
def test_random_token_is_never_allowed_and_never_crashes(authorizer, caplog, token):
    assert_refused_by_a_decision(authorizer, authorizer_event(token), caplog)


@PROPERTY_SETTINGS
@given(data=st.data())
def test_genuine_token_with_one_character_changed_is_never_allowed(
    authorizer, issuer, caplog, data
):
    token = issuer.mint(accounts=["111122223333"])
    position = data.draw(st.integers(0, len(token) - 1), label="position")
    replacement = data.draw(st.sampled_from(BASE64URL + ".").filter(lambda c: c != token[position]))

    changed = token[:position] + replacement + token[position + 1 :]

    assert_refused_by_a_decision(authorizer, authorizer_event(changed), caplog)


event_fields = {
    "type": st.just("REQUEST") | json_values,
    "methodArn": st.just(METHOD_ARN) | json_values,
    "headers": json_values | st.dictionaries(st.text(max_size=30), st.text() | json_values),
    "multiValueHeaders": json_values
    | st.dictionaries(st.text(max_size=30), st.lists(st.text() | json_values, max_size=3)),
    "queryStringParameters": json_values
    | st.dictionaries(st.sampled_from(["token", "account"]) | st.text(), st.text() | json_values),
    "multiValueQueryStringParameters": json_values,
    "requestContext": json_values,
    "stageVariables": json_values,
}
events = st.one_of(
    json_values,
    st.fixed_dictionaries({}, optional=event_fields),
)


@PROPERTY_SETTINGS
@given(event=events)
def test_random_event_is_never_allowed_and_never_crashes(authorizer, caplog, event):
    assert_refused_by_a_decision(authorizer, event, caplog)


@PROPERTY_SETTINGS
@given(
    token=tokens,
    where=st.sampled_from(["query", "authorization", "subprotocol"]),
    origin=st.none() | st.text(max_size=40),
)
def test_random_token_from_any_source_is_never_allowed(authorizer, caplog, token, where, origin):
    headers = {"Origin": origin}
    if where == "authorization":
        headers["Authorization"] = f"Bearer {token}"
    elif where == "subprotocol":
        headers["Sec-WebSocket-Protocol"] = f"incident-websocket, {token}"
    event = authorizer_event(token if where == "query" else None, headers=headers)

    assert_refused_by_a_decision(authorizer, json.loads(json.dumps(event)), caplog)
