"""The assembled emulator: deployed code reaches @connections through the rewritten endpoint."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import connect

from dev.emulator import APIS_PATH, METRICS_PATH
from dev.emulator.control_plane import DeployedFunction, Deployment, WebSocketStage
from dev.emulator.server import Emulator, Options

from .conftest import REGION, zip_of

DEPLOYED_ENDPOINT = f"https://abc123.execute-api.{REGION}.amazonaws.com/prod"

# Code as it runs on AWS: it knows only the deployed https endpoint from its environment.
ECHO = """
import json, os, urllib.request

def handler(event, context):
    endpoint = os.environ["MANAGEMENT_ENDPOINT"].rstrip("/")
    connection_id = event["requestContext"]["connectionId"]
    text = json.loads(event["body"])["text"].encode()
    request = urllib.request.Request(f"{endpoint}/@connections/{connection_id}", data=text)
    urllib.request.urlopen(request, timeout=5)
    return {"statusCode": 200}
"""


def deployed(name: str, code: str, environment: dict[str, str] | None = None) -> DeployedFunction:
    return DeployedFunction(
        name=name,
        arn=f"arn:aws:lambda:{REGION}:123456789012:function:{name}",
        handler="handler.handler",
        runtime="python3.12",
        timeout_seconds=10,
        memory_mb=128,
        environment=environment or {},
        code_sha256="",
        zip_bytes=zip_of({"handler.py": code}),
    )


# One function invoking another with a plain boto3 client, as it would on AWS.
CALLER = """
import json, boto3

def handler(event, context):
    answer = boto3.client("lambda").invoke(FunctionName="callee", Payload=json.dumps(event))
    return {"callee": json.loads(answer["Payload"].read())}
"""
CALLEE = """
def handler(event, context):
    return {"doubled": event["n"] * 2}
"""

# A function of any product that writes one EMF line per invocation.
COUNTER = """
import json

def handler(event, context):
    print(json.dumps({
        "_aws": {"Timestamp": 1795444801234, "CloudWatchMetrics": [{
            "Namespace": "Test", "Dimensions": [["Function"]],
            "Metrics": [{"Name": "Delivered", "Unit": "Count"}]}]},
        "Function": "counter", "Delivered": event["n"]}))
    return {}
"""

DEPLOYMENT = Deployment(
    region=REGION,
    stages=[
        WebSocketStage(
            api_id="abc123",
            api_name="chat",
            stage="prod",
            route_selection_expression="$request.body.action",
            routes={"echo": "echo"},
            tags={"team": "secops"},
        )
    ],
    functions={"echo": deployed("echo", ECHO, {"MANAGEMENT_ENDPOINT": DEPLOYED_ENDPOINT})},
    stream_mappings=[],
    schedules=[],
)


def read(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.read()


def status_of(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def with_emulator(
    scenario: Any, static_dir: Path | None = None, deployment: Deployment = DEPLOYMENT
) -> Any:
    async def run() -> Any:
        options = Options(
            aws_endpoint="http://127.0.0.1:9", code_dirs=(), region=REGION, static_dir=static_dir
        )
        emulator = Emulator(deployment, options)
        await emulator.start()
        try:
            return await scenario(emulator)
        finally:
            await emulator.close()

    return asyncio.run(asyncio.wait_for(run(), 30))


def websocket_url(emulator: Emulator) -> str:
    return emulator.url.replace("http://", "ws://") + "/ws/abc123/prod"


def test_code_posting_to_its_deployed_endpoint_reaches_the_local_client():
    async def scenario(emulator: Emulator) -> str:
        async with connect(websocket_url(emulator)) as client:
            await client.send(json.dumps({"action": "echo", "text": "hello"}))
            return await asyncio.wait_for(client.recv(), 10)

    assert with_emulator(scenario) == "hello"


def test_the_apis_endpoint_lists_every_stage_with_its_name_tags_and_websocket_url():
    async def scenario(emulator: Emulator) -> tuple[dict[str, Any], str]:
        body = await asyncio.to_thread(read, emulator.url + APIS_PATH)
        return json.loads(body), websocket_url(emulator)

    listed, url = with_emulator(scenario)

    assert listed == {
        "apis": [
            {
                "apiId": "abc123",
                "apiName": "chat",
                "stage": "prod",
                "tags": {"team": "secops"},
                "url": url,
            }
        ]
    }


def test_the_ready_message_lists_the_url_the_apis_and_the_functions():
    ready, apis = with_emulator(
        lambda emulator: asyncio.sleep(0, (emulator.ready_message(), emulator.api_descriptions()))
    )

    assert ready["event"] == "ready"
    assert ready["url"].startswith("http://127.0.0.1:")
    assert ready["apis"] == apis
    assert [api["url"] for api in apis] == [
        ready["url"].replace("http://", "ws://") + "/ws/abc123/prod"
    ]
    assert ready["functions"] == ["echo"]


@pytest.fixture
def static_dir(tmp_path: Path) -> Path:
    (tmp_path / "index.html").write_text("<h1>index</h1>")
    (tmp_path / "app.js").write_text("main();")
    return tmp_path


def test_a_static_dir_is_served_at_the_root(static_dir):
    async def scenario(emulator: Emulator) -> tuple[bytes, bytes]:
        index = await asyncio.to_thread(read, emulator.url + "/")
        script = await asyncio.to_thread(read, emulator.url + "/app.js")
        return index, script

    assert with_emulator(scenario, static_dir) == (b"<h1>index</h1>", b"main();")


def test_without_a_static_dir_nothing_is_served_at_the_root():
    async def scenario(emulator: Emulator) -> int:
        return await asyncio.to_thread(status_of, emulator.url + "/")

    assert with_emulator(scenario) == 404


def test_a_function_invokes_another_through_the_lambda_api_of_the_emulator():
    async def scenario(emulator: Emulator) -> Any:
        return (await emulator.invoke("caller", {"n": 21})).result

    functions = {"caller": deployed("caller", CALLER), "callee": deployed("callee", CALLEE)}
    deployment = Deployment(REGION, [], functions, [], [])

    assert with_emulator(scenario, deployment=deployment) == {"callee": {"doubled": 42}}


def test_the_aws_json_protocol_is_answered_at_the_root_next_to_the_static_files(static_dir):
    async def scenario(emulator: Emulator) -> tuple[int, bytes]:
        request = urllib.request.Request(
            emulator.url + "/",
            data=b"{}",
            headers={"X-Amz-Target": "Unknown.Operation", "Content-Type": "application/json"},
        )
        try:
            await asyncio.to_thread(urllib.request.urlopen, request, timeout=5)
        except urllib.error.HTTPError as error:
            status = error.code
        index = await asyncio.to_thread(read, emulator.url + "/")
        return status, index

    assert with_emulator(scenario, static_dir) == (400, b"<h1>index</h1>")


def test_the_metrics_endpoint_lists_the_metrics_of_the_functions_emf_lines():
    async def scenario(emulator: Emulator) -> dict[str, Any]:
        for n in (2, 5):
            await emulator.invoke("counter", {"n": n})
        for _ in range(50):  # the worker's output is read as it comes
            listed = json.loads(await asyncio.to_thread(read, emulator.url + METRICS_PATH))
            if listed["metrics"] and listed["metrics"][0]["count"] == 2:
                break
            await asyncio.sleep(0.1)
        return listed

    deployment = Deployment(REGION, [], {"counter": deployed("counter", COUNTER)}, [], [])

    assert with_emulator(scenario, deployment=deployment) == {
        "metrics": [
            {
                "namespace": "Test",
                "metric": "Delivered",
                "dimensions": {"Function": "counter"},
                "unit": "Count",
                "count": 2,
                "sum": 7,
                "min": 2,
                "max": 5,
                "p50": 2,
                "p99": 5,
                "keptValues": 2,
            }
        ],
        "rejectedLines": 0,
    }


def test_the_metrics_endpoint_lists_none_before_any_function_ran():
    async def scenario(emulator: Emulator) -> Any:
        return json.loads(await asyncio.to_thread(read, emulator.url + METRICS_PATH))

    assert with_emulator(scenario) == {"metrics": [], "rejectedLines": 0}
