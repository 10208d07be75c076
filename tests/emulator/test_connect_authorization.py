"""`$connect` authorization as API Gateway applies it: Lambda REQUEST authorizers, AWS_IAM,
subprotocols, and what a refused client receives. Real clients, a stub in place of functions."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from typing import Any

import pytest
import websockets
from websockets.asyncio.client import connect

from dev.emulator.control_plane import RequestAuthorizer, RouteAuthorization

from .conftest import REGION
from .served_stage import STAGE, run, serving

AUTHORIZER = RequestAuthorizer("auth01", "jwt", "authorizer")
CUSTOM = replace(
    STAGE,
    connect_authorization=RouteAuthorization("CUSTOM", AUTHORIZER),
    stage_variables={"tier": "gold"},
    account_id="210987654321",
)
IAM = replace(STAGE, connect_authorization=RouteAuthorization("AWS_IAM"))
METHOD_ARN = f"arn:aws:execute-api:{REGION}:210987654321:abc123/prod/$connect"
KNOWN_KEY = "AKIAKNOWNAGENT000001"
AGENT = {
    "accountId": "123456789012",
    "caller": "AIDAAGENT",
    "user": "AIDAAGENT",
    "userArn": "arn:aws:iam::123456789012:user/agent",
    "accessKey": KNOWN_KEY,
}


def policy(effect: str, resource: Any = METHOD_ARN, **response: Any) -> dict[str, Any]:
    statement = {"Action": "execute-api:Invoke", "Effect": effect, "Resource": resource}
    document = {"Version": "2012-10-17", "Statement": [statement]}
    return {"principalId": "user-7", "policyDocument": document, **response}


def authorizer_answers(answer: Any, connect_response: Any = None):
    """A stub for the authorizer (`answer`: a response, or an exception to raise) and for every
    other function (`connect_response`, 200 by default)."""

    def respond(name: str, event: Any) -> Any:
        if name != "authorizer":
            return connect_response or {"statusCode": 200}
        if isinstance(answer, Exception):
            raise answer
        return answer

    return respond


async def refused_status(url: str, **options: Any) -> websockets.InvalidStatus:
    with pytest.raises(websockets.InvalidStatus) as refused:
        async with connect(url, **options):
            pass
    return refused.value


def sigv4(access_key: str = KNOWN_KEY, region: str = REGION, service: str = "execute-api"):
    credential = f"{access_key}/20261201/{region}/{service}/aws4_request"
    return {
        "Authorization": f"AWS4-HMAC-SHA256 Credential={credential}, "
        "SignedHeaders=host;x-amz-date, Signature=" + "ab" * 32,
        "X-Amz-Date": "20261201T120000Z",
    }


async def known_callers(access_key: str) -> dict[str, str] | None:
    return AGENT if access_key == KNOWN_KEY else None


# -- Lambda REQUEST authorizers ------------------------------------------------------------------


def test_the_authorizer_gets_api_gateways_request_event_for_the_connect_request():
    async def scenario() -> None:
        async with (
            serving(authorizer_answers(policy("Allow")), stage=CUSTOM) as api,
            connect(api.ws_url + "?token=abc", additional_headers={"X-Trace": "t1"}),
        ):
            (event,) = api.invoke.events_of("authorizer")
            (connect_event,) = api.invoke.events_of("connect")
            assert event["type"] == "REQUEST"
            assert event["methodArn"] == METHOD_ARN
            assert event["queryStringParameters"] == {"token": "abc"}
            assert event["multiValueQueryStringParameters"] == {"token": ["abc"]}
            assert event["headers"]["X-Trace"] == "t1"
            assert event["multiValueHeaders"]["X-Trace"] == ["t1"]
            assert event["stageVariables"] == {"tier": "gold"}
            context = event["requestContext"]
            assert (context["routeKey"], context["eventType"]) == ("$connect", "CONNECT")
            assert context["connectionId"] == connect_event["requestContext"]["connectionId"]
            assert "authorizer" not in context

    run(scenario)


def test_an_unauthorized_error_refuses_the_handshake_with_401_before_connect_runs():
    async def scenario() -> None:
        async with serving(authorizer_answers(Exception("Unauthorized")), stage=CUSTOM) as api:
            refused = await refused_status(api.ws_url)
            assert refused.response.status_code == 401
            assert api.invoke.events_of("connect") == []
            assert len(api.registry) == 0

    run(scenario)


def test_a_deny_policy_refuses_the_handshake_with_403():
    async def scenario() -> None:
        async with serving(authorizer_answers(policy("Deny")), stage=CUSTOM) as api:
            assert (await refused_status(api.ws_url)).response.status_code == 403
            assert api.invoke.events_of("connect") == []

    run(scenario)


def test_an_allow_for_another_resource_only_is_a_403():
    other = METHOD_ARN.replace("/prod/", "/test/")

    async def scenario() -> None:
        async with serving(authorizer_answers(policy("Allow", other)), stage=CUSTOM) as api:
            assert (await refused_status(api.ws_url)).response.status_code == 403

    run(scenario)


def test_an_explicit_deny_wins_over_an_allow():
    response = policy("Allow", "arn:aws:execute-api:*")
    response["policyDocument"]["Statement"].append(
        {"Action": "execute-api:Invoke", "Effect": "Deny", "Resource": METHOD_ARN}
    )

    async def scenario() -> None:
        async with serving(authorizer_answers(response), stage=CUSTOM) as api:
            assert (await refused_status(api.ws_url)).response.status_code == 403

    run(scenario)


def test_a_wildcard_resource_allows_the_connect_method():
    wildcard = f"arn:aws:execute-api:{REGION}:210987654321:abc123/*"

    async def scenario() -> None:
        async with (
            serving(authorizer_answers(policy("Allow", [wildcard])), stage=CUSTOM) as api,
            connect(api.ws_url),
        ):
            assert len(api.invoke.events_of("connect")) == 1

    run(scenario)


@pytest.mark.parametrize(
    "answer",
    [
        RuntimeError("JWKS unreachable"),
        {"policyDocument": policy("Allow")["policyDocument"]},  # no principalId
        policy("Allow", context={"scope": {"nested": "object"}}),
        "Allow",
    ],
    ids=["function error", "no principalId", "nested context", "not an object"],
)
def test_a_failing_or_malformed_authorizer_refuses_the_handshake_with_500(answer):
    async def scenario() -> None:
        async with serving(authorizer_answers(answer), stage=CUSTOM) as api:
            assert (await refused_status(api.ws_url)).response.status_code == 500
            assert api.invoke.events_of("connect") == []

    run(scenario)


def test_an_allowed_connection_carries_the_context_and_principal_in_every_event():
    allowed = policy("Allow", context={"accounts": "111122223333", "admin": False})
    expected = {"accounts": "111122223333", "admin": False, "principalId": "user-7"}

    async def scenario() -> None:
        async with serving(authorizer_answers(allowed), stage=CUSTOM) as api:
            async with connect(api.ws_url) as client:
                await client.send(json.dumps({"action": "echo"}))
                async with asyncio.timeout(5):
                    while not api.invoke.events_of("echo"):
                        await asyncio.sleep(0.01)
            (disconnect,) = await api.disconnects()
            (connect_event,) = api.invoke.events_of("connect")
            (message,) = api.invoke.events_of("echo")
            for event in (connect_event, message, disconnect):
                assert event["requestContext"]["authorizer"] == expected

    run(scenario)


def test_a_missing_identity_source_is_a_401_without_running_the_authorizer():
    sources = ("route.request.header.Auth", "route.request.querystring.token")
    stage = replace(
        CUSTOM,
        connect_authorization=RouteAuthorization(
            "CUSTOM", replace(AUTHORIZER, identity_sources=sources)
        ),
    )

    async def scenario() -> None:
        async with serving(authorizer_answers(policy("Allow")), stage=stage) as api:
            refused = await refused_status(api.ws_url + "?token=t", additional_headers={})
            assert refused.response.status_code == 401
            assert api.invoke.calls == []
            async with connect(api.ws_url + "?token=t", additional_headers={"auth": "a"}):
                assert len(api.invoke.events_of("authorizer")) == 1

    run(scenario)


def test_without_identity_sources_the_authorizer_runs_on_every_connect():
    async def scenario() -> None:
        async with serving(authorizer_answers(Exception("Unauthorized")), stage=CUSTOM) as api:
            await refused_status(api.ws_url)
            await refused_status(api.ws_url)
            assert len(api.invoke.events_of("authorizer")) == 2

    run(scenario)


def test_a_connect_route_whose_authorizer_names_no_function_refuses_with_500():
    broken = replace(
        STAGE,
        connect_authorization=RouteAuthorization("CUSTOM", replace(AUTHORIZER, function_name=None)),
    )

    async def scenario() -> None:
        async with serving(stage=broken) as api:
            assert (await refused_status(api.ws_url)).response.status_code == 500
            assert api.invoke.calls == []

    run(scenario)


# -- What a refused client receives ---------------------------------------------------------------


def test_a_refused_client_gets_the_status_without_the_functions_body():
    refusal = {"statusCode": 403, "body": "invalid query parameter 'account': not in scope"}

    async def scenario() -> None:
        async with serving(lambda name, event: refusal) as api:
            refused = await refused_status(api.ws_url + "?account=444455556666")
            assert refused.response.status_code == 403
            assert refused.response.body == b""

    run(scenario)


# -- Subprotocols ---------------------------------------------------------------------------------


def test_the_subprotocol_named_by_the_connect_response_is_the_handshakes():
    chosen = {"statusCode": 200, "headers": {"Sec-WebSocket-Protocol": "incident-v1"}}

    async def scenario() -> None:
        async with (
            serving(lambda name, event: chosen) as api,
            connect(api.ws_url, subprotocols=["incident-v1", "a.b.c"]) as client,
        ):
            (event,) = api.invoke.events_of("connect")
            assert event["headers"]["Sec-WebSocket-Protocol"] == "incident-v1, a.b.c"
            assert client.subprotocol == "incident-v1"

    run(scenario)


def test_offered_subprotocols_get_no_answer_unless_the_connect_response_names_one():
    """A browser then fails the connection, as it does against API Gateway."""

    async def scenario() -> None:
        async with serving() as api, connect(api.ws_url, subprotocols=["incident-v1"]) as client:
            assert client.subprotocol is None
            assert "Sec-WebSocket-Protocol" not in client.response.headers

    run(scenario)


# -- AWS_IAM --------------------------------------------------------------------------------------


def test_an_unsigned_handshake_on_an_iam_route_is_a_403():
    async def scenario() -> None:
        async with serving(stage=IAM, caller_identity=known_callers) as api:
            assert (await refused_status(api.ws_url)).response.status_code == 403
            assert api.invoke.calls == []

    run(scenario)


@pytest.mark.parametrize(
    "headers",
    [sigv4(region="eu-west-1"), sigv4(service="lambda"), sigv4(access_key="AKIAUNKNOWN0000000")],
    ids=["another region", "another service", "an unknown access key"],
)
def test_a_signature_that_does_not_fit_the_api_is_a_403(headers):
    async def scenario() -> None:
        async with serving(stage=IAM, caller_identity=known_callers) as api:
            refused = await refused_status(api.ws_url, additional_headers=headers)
            assert refused.response.status_code == 403

    run(scenario)


def test_a_signed_handshake_carries_the_iam_caller_in_the_identity():
    async def scenario() -> None:
        async with (
            serving(stage=IAM, caller_identity=known_callers) as api,
            connect(api.ws_url, additional_headers=sigv4()),
        ):
            (event,) = api.invoke.events_of("connect")
            identity = event["requestContext"]["identity"]
            assert identity["userArn"] == "arn:aws:iam::123456789012:user/agent"
            assert identity["accessKey"] == KNOWN_KEY
            assert identity["sourceIp"] == "127.0.0.1"

    run(scenario)


def test_a_presigned_url_is_accepted_like_a_signed_header():
    query = (
        "?X-Amz-Algorithm=AWS4-HMAC-SHA256"
        f"&X-Amz-Credential={KNOWN_KEY}%2F20261201%2F{REGION}%2Fexecute-api%2Faws4_request"
        "&X-Amz-Date=20261201T120000Z&X-Amz-SignedHeaders=host&X-Amz-Signature=" + "cd" * 32
    )

    async def scenario() -> None:
        async with (
            serving(stage=IAM, caller_identity=known_callers) as api,
            connect(api.ws_url + query),
        ):
            (event,) = api.invoke.events_of("connect")
            assert event["requestContext"]["identity"]["userArn"] == AGENT["userArn"]

    run(scenario)
