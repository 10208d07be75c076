"""Fixtures for the emulator's tests: a stub Lambda invoker, zips, moto."""

from __future__ import annotations

import io
import urllib.request
import zipfile
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest

from dev.emulator import EMULATOR_CREDENTIALS
from dev.emulator.control_plane import DeployedFunction
from dev.emulator.lambda_runner import Invocation
from dev.harness.moto import start_moto

REGION = "us-east-1"


class StubInvoker:
    """Records every invocation and answers with `respond(function_name, event)`."""

    def __init__(self, respond: Callable[[str, Any], Any] | None = None) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.request_ids: list[str | None] = []
        self._respond = respond or (lambda name, event: {"statusCode": 200})

    async def __call__(
        self, function_name: str, event: Any, request_id: str | None = None
    ) -> Invocation:
        self.calls.append((function_name, event))
        self.request_ids.append(request_id)
        request_id = request_id or "request-id"
        try:
            result = self._respond(function_name, event)
        except Exception as exc:
            error = {"errorType": type(exc).__name__, "errorMessage": str(exc)}
            return Invocation(function_name, request_id, 1.0, error=error)
        return Invocation(function_name, request_id, 1.0, result=result)

    def events_of(self, function_name: str) -> list[Any]:
        return [event for name, event in self.calls if name == function_name]


def deployed_function(name: str) -> DeployedFunction:
    """A deployed function for code that only needs its name and ARN (a stub runs it)."""
    return DeployedFunction(
        name=name,
        arn=f"arn:aws:lambda:{REGION}:123456789012:function:{name}",
        handler="handler.handler",
        runtime="python3.12",
        timeout_seconds=3,
        memory_mb=128,
        environment={},
        code_sha256="",
        zip_bytes=b"",
    )


def zip_of(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The harness's moto server (with the emulator's patches), as the emulator meets it.

    In-process `mock_aws` is not enough: moto 5.2.5 answers DynamoDB Streams calls only in
    server mode.
    """
    with start_moto(tmp_path_factory.mktemp("moto") / "server.log") as server:
        yield server.url


@pytest.fixture
def aws_endpoint(moto_server: str) -> str:
    """The moto server, emptied for this test."""
    urllib.request.urlopen(urllib.request.Request(f"{moto_server}/moto-api/reset", method="POST"))
    return moto_server


@pytest.fixture
def aws_client(aws_endpoint: str) -> Callable[[str], Any]:
    session = boto3.session.Session(
        aws_access_key_id=EMULATOR_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=EMULATOR_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        region_name=REGION,
    )
    return lambda service: session.client(service, endpoint_url=aws_endpoint)
