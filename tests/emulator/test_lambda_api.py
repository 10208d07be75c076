"""Lambda's `Invoke` on the emulator through a boto3 `lambda` client, with a stub in place of the
functions; other Lambda calls reach moto."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from botocore.config import Config

from dev.emulator import EMULATOR_CREDENTIALS
from dev.emulator.async_invocations import AsyncInvoker
from dev.emulator.aws_proxy import AwsProxy
from dev.emulator.control_plane import AsyncInvokeConfig
from dev.emulator.lambda_api import LambdaApi, function_name_of, lambda_routes
from dev.emulator.lambda_runner import RESERVED_LIMIT, THROTTLED, Invocation
from dev.emulator.quotas import SYNC_INVOKE_PAYLOAD_BYTES

from .conftest import REGION, StubInvoker, deployed_function, zip_of

FUNCTION = "enrich"
ARN = f"arn:aws:lambda:{REGION}:123456789012:function:{FUNCTION}"


@dataclass
class ServedApi:
    url: str
    invoke: StubInvoker
    invoker: AsyncInvoker

    def client(self) -> Any:
        return boto3.client(
            "lambda",
            endpoint_url=self.url,
            region_name=REGION,
            aws_access_key_id=EMULATOR_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=EMULATOR_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            config=Config(retries={"total_max_attempts": 1}),  # one answer per call
        )

    async def call(self, **request: Any) -> dict[str, Any]:
        """`Invoke` through boto3; the payload read and decoded."""
        request.setdefault("FunctionName", FUNCTION)
        answer = await asyncio.to_thread(self.client().invoke, **request)
        body = answer["Payload"].read()
        answer["Payload"] = json.loads(body) if body else None
        return answer


class ThrottledInvoker(StubInvoker):
    """Answers every invocation as the runner does at the function's reserved concurrency."""

    async def __call__(
        self, function_name: str, event: Any, request_id: str | None = None
    ) -> Invocation:
        self.calls.append((function_name, event))
        error = {"errorType": THROTTLED, "errorMessage": "Rate Exceeded.", "Reason": RESERVED_LIMIT}
        return Invocation(function_name, request_id or "request-id", 0.0, error=error)


@asynccontextmanager
async def serving(
    aws_endpoint: str,
    respond: Callable[[str, Any], Any] | None = None,
    invoke: StubInvoker | None = None,
) -> AsyncIterator[ServedApi]:
    invoke = invoke or StubInvoker(respond or (lambda _name, event: {"echo": event}))
    functions = {FUNCTION: deployed_function(FUNCTION)}
    invoker = AsyncInvoker(invoke, functions, lambda _name: AsyncInvokeConfig(), None, 10_000)
    proxy = AwsProxy(aws_endpoint)
    app = web.Application(client_max_size=2 * SYNC_INVOKE_PAYLOAD_BYTES)
    app.add_routes(lambda_routes(LambdaApi(invoke, invoker, functions), proxy))
    server = TestServer(app, host="127.0.0.1", port=0)
    await server.start_server()
    try:
        yield ServedApi(str(server.make_url("")).rstrip("/"), invoke, invoker)
    finally:
        await invoker.close()
        await proxy.close()
        await server.close()


def run(scenario: Callable[[], Any]) -> Any:
    return asyncio.run(asyncio.wait_for(scenario(), 30))


def invoke_once(aws_endpoint: str, respond: Callable[[str, Any], Any] | None = None, **request):
    async def scenario() -> tuple[dict[str, Any], list[Any]]:
        async with serving(aws_endpoint, respond) as served:
            answer = await served.call(**request)
            await served.invoker.idle()
            return answer, served.invoke.events_of(FUNCTION)

    return run(scenario)


def test_a_synchronous_invocation_answers_the_functions_result(aws_endpoint):
    answer, calls = invoke_once(aws_endpoint, Payload=json.dumps({"n": 1}))

    assert answer["StatusCode"] == 200
    assert answer["Payload"] == {"echo": {"n": 1}}
    assert answer["ExecutedVersion"] == "$LATEST"
    assert "FunctionError" not in answer
    assert calls == [{"n": 1}]


def test_a_function_error_is_answered_with_200_and_the_error(aws_endpoint):
    def failing(_name: str, _event: Any) -> Any:
        raise ValueError("no such order")

    answer, _ = invoke_once(aws_endpoint, failing, Payload=b"{}")

    assert answer["StatusCode"] == 200
    assert answer["FunctionError"] == "Unhandled"
    assert answer["Payload"]["errorMessage"] == "no such order"


def test_a_throttled_invocation_is_answered_429_with_lambdas_reason(aws_endpoint):
    async def scenario() -> dict[str, Any]:
        async with serving(aws_endpoint, invoke=ThrottledInvoker()) as served:
            client = served.client()
            with pytest.raises(client.exceptions.TooManyRequestsException) as refused:
                await served.call(Payload=b"{}")
            return refused.value.response

    response = run(scenario)

    assert response["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert response["Reason"] == RESERVED_LIMIT
    assert response["message"] == "Rate Exceeded."


def test_an_event_invocation_is_accepted_with_202_and_runs_afterwards(aws_endpoint):
    answer, calls = invoke_once(aws_endpoint, InvocationType="Event", Payload=b'{"n": 2}')

    assert answer["StatusCode"] == 202
    assert answer["Payload"] is None
    assert calls == [{"n": 2}]


def test_a_dry_run_invokes_nothing(aws_endpoint):
    answer, calls = invoke_once(aws_endpoint, InvocationType="DryRun")

    assert answer["StatusCode"] == 204
    assert calls == []


def test_an_empty_payload_is_an_empty_object(aws_endpoint):
    _, calls = invoke_once(aws_endpoint)

    assert calls == [{}]


@pytest.mark.parametrize("reference", [ARN, f"123456789012:function:{FUNCTION}", f"{ARN}:$LATEST"])
def test_the_function_may_be_named_by_arn_or_partial_arn(aws_endpoint, reference):
    answer, calls = invoke_once(aws_endpoint, FunctionName=reference, Payload=b"{}")

    assert answer["StatusCode"] == 200
    assert len(calls) == 1


@pytest.mark.parametrize(
    ("request_", "error_code"),
    [
        ({"FunctionName": "missing"}, "ResourceNotFoundException"),
        ({"FunctionName": FUNCTION, "Qualifier": "7"}, "ResourceNotFoundException"),
        ({"Payload": b"{not json"}, "InvalidRequestContentException"),
        (
            {"InvocationType": "Event", "Payload": json.dumps({"x": "y" * 1_048_576})},
            "RequestTooLargeException",
        ),
    ],
    ids=["unknown function", "unknown version", "not json", "event over 1 MB"],
)
def test_a_bad_invoke_is_refused_and_invokes_nothing(aws_endpoint, request_, error_code):
    async def scenario() -> tuple[str, list[Any]]:
        async with serving(aws_endpoint) as served:
            client = served.client()
            with pytest.raises(client.exceptions.ClientError) as refused:
                await served.call(**request_)
            return refused.value.response["Error"]["Code"], served.invoke.calls

    code, calls = run(scenario)

    assert code == error_code
    assert calls == []


def test_other_lambda_calls_are_answered_by_the_aws_api_emulator(aws_endpoint, aws_client):
    role = aws_client("iam").create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]
    aws_client("lambda").create_function(
        FunctionName="stored",
        Runtime="python3.12",
        Role=role["Arn"],
        Handler="handler.handler",
        Code={"ZipFile": zip_of({"handler.py": "x = 1\n"})},
    )

    async def scenario() -> str:
        async with serving(aws_endpoint) as served:
            answer = await asyncio.to_thread(served.client().get_function, FunctionName="stored")
            return answer["Configuration"]["FunctionName"]

    assert run(scenario) == "stored"


def test_function_references_resolve_to_name_and_qualifier():
    assert function_name_of("fn", None) == ("fn", None)
    assert function_name_of("fn:$LATEST", None) == ("fn", "$LATEST")
    assert function_name_of(ARN, "$LATEST") == (FUNCTION, "$LATEST")
    assert function_name_of(f"{ARN}:live", None) == (FUNCTION, "live")
    assert function_name_of(f"123456789012:function:{FUNCTION}", None) == (FUNCTION, None)
