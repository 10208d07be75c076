"""One WebSocket API stage served by the emulator's endpoints on a local port, for real clients."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import boto3
from aiohttp import web
from aiohttp.test_utils import TestServer

from dev.emulator import EMULATOR_CREDENTIALS
from dev.emulator.control_plane import WebSocketStage
from dev.emulator.management_endpoint import ManagementEndpoint, management_routes
from dev.emulator.quotas import ConnectionTimeouts
from dev.emulator.sockets import SocketRegistry
from dev.emulator.websocket_api import WebSocketEndpoints, websocket_routes

from .conftest import REGION, StubInvoker

STAGE = WebSocketStage(
    api_id="abc123",
    api_name="events",
    stage="prod",
    route_selection_expression="$request.body.action",
    routes={"$connect": "connect", "$disconnect": "disconnect", "echo": "echo"},
)


# boto3 shares the modelled error classes between clients of a service.
ERRORS = boto3.client(
    "apigatewaymanagementapi", endpoint_url="http://unused", region_name=REGION
).exceptions


@dataclass
class ServedStage:
    """A stage (STAGE unless given) served on a local port, with a stub in place of its
    functions."""

    url: str
    invoke: StubInvoker
    registry: SocketRegistry
    stage: WebSocketStage = STAGE

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://") + f"/ws/{self.stage.api_id}/{self.stage.stage}"

    def management(self, api_id: str = STAGE.api_id) -> Any:
        """A boto3 `apigatewaymanagementapi` client for a stage, as a handler would build it."""
        return boto3.client(
            "apigatewaymanagementapi",
            endpoint_url=f"{self.url}/mgmt/{api_id}/prod",
            region_name=REGION,
            aws_access_key_id=EMULATOR_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=EMULATOR_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        )

    async def post(self, connection_id: str, data: bytes, api_id: str = STAGE.api_id) -> None:
        """`PostToConnection` through boto3 (off the event loop)."""
        management = self.management(api_id)
        await asyncio.to_thread(
            management.post_to_connection, ConnectionId=connection_id, Data=data
        )

    def connection_ids(self) -> list[str]:
        return [e["requestContext"]["connectionId"] for e in self.invoke.events_of("connect")]

    async def disconnects(self, count: int = 1, timeout: float = 5.0) -> list[dict[str, Any]]:
        """The `$disconnect` events, once at least `count` have fired."""
        async with asyncio.timeout(timeout):
            while len(self.invoke.events_of("disconnect")) < count:
                await asyncio.sleep(0.01)
        return self.invoke.events_of("disconnect")


@asynccontextmanager
async def serving(
    respond: Callable[[str, Any], Any] | None = None,
    timeouts: ConnectionTimeouts | None = None,
    stage: WebSocketStage = STAGE,
    **options: Any,
) -> AsyncIterator[ServedStage]:
    """`stage` served with a stub invoker; `options` are more `WebSocketEndpoints` fields."""
    invoke = StubInvoker(respond)
    registry = SocketRegistry()
    endpoints = WebSocketEndpoints(
        {(stage.api_id, stage.stage): stage},
        registry,
        invoke,
        REGION,
        timeouts or ConnectionTimeouts(),
        **options,
    )
    app = web.Application()
    app.add_routes(websocket_routes(endpoints))
    app.add_routes(management_routes(ManagementEndpoint(registry)))
    server = TestServer(app, host="127.0.0.1", port=0)
    await server.start_server()
    try:
        yield ServedStage(str(server.make_url("")).rstrip("/"), invoke, registry, stage)
    finally:
        await registry.close_all()
        await server.close()


def run(test: Callable[[], Any]) -> Any:
    return asyncio.run(asyncio.wait_for(test(), timeout=20))
