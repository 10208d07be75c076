"""The assembled gateway: deployed handler code reaches @connections through the mapped endpoint."""

from __future__ import annotations

import asyncio
import json
import urllib.request
from typing import Any

from websockets.asyncio.client import connect

from dev.emulator.control_plane import DeployedFunction, Deployment, WebSocketStage
from dev.emulator.server import Gateway, Options

from .conftest import REGION, zip_of

DEPLOYED_ENDPOINT = f"https://abc123.execute-api.{REGION}.amazonaws.com/prod"

# Handler code as it runs on AWS: it knows only the deployed https endpoint from CHANNELS.
ECHO = """
import json, os, urllib.request

def handler(event, context):
    endpoint = json.loads(os.environ["CHANNELS"])["events"]["endpoint"].rstrip("/")
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


DEPLOYMENT = Deployment(
    region=REGION,
    stages=[
        WebSocketStage(
            api_id="abc123",
            api_name="incident-ws-events",
            stage="prod",
            channel="events",
            route_selection_expression="$request.body.action",
            routes={"echo": "echo"},
        )
    ],
    functions={
        "echo": deployed(
            "echo", ECHO, {"CHANNELS": json.dumps({"events": {"endpoint": DEPLOYED_ENDPOINT}})}
        )
    },
    stream_mappings=[],
    schedules=[],
)


def read(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.read()


def with_gateway(scenario: Any) -> Any:
    async def run() -> Any:
        gateway = Gateway(DEPLOYMENT, Options(aws_endpoint="http://127.0.0.1:9", region=REGION))
        await gateway.start()
        try:
            return await scenario(gateway)
        finally:
            await gateway.close()

    return asyncio.run(asyncio.wait_for(run(), 30))


def test_a_handler_posting_to_its_deployed_endpoint_reaches_the_local_client():
    async def scenario(gateway: Gateway) -> str:
        async with connect(gateway.channel_urls()["events"]) as client:
            await client.send(json.dumps({"action": "echo", "text": "hello"}))
            return await asyncio.wait_for(client.recv(), 10)

    assert with_gateway(scenario) == "hello"


def test_config_json_lists_every_channel_with_its_websocket_url():
    async def scenario(gateway: Gateway) -> tuple[dict[str, Any], str]:
        body = await asyncio.to_thread(read, f"{gateway.url}/config.json")
        return json.loads(body), gateway.url

    config, url = with_gateway(scenario)

    assert config == {
        "channels": [
            {
                "name": "events",
                "apiId": "abc123",
                "stage": "prod",
                "url": url.replace("http://", "ws://") + "/ws/abc123/prod",
            }
        ]
    }


def test_the_ready_message_names_the_dashboard_channels_and_functions():
    ready = with_gateway(lambda gateway: asyncio.sleep(0, gateway.ready_message()))

    assert ready["event"] == "ready"
    assert ready["dashboard"] == ready["url"] + "/"
    assert ready["channels"] == {
        "events": ready["url"].replace("http://", "ws://") + "/ws/abc123/prod"
    }
    assert ready["functions"] == ["echo"]
