"""WebSocket endpoints and the @connections API, served by aiohttp, used by real clients."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
import websockets
from aiohttp import web
from aiohttp.test_utils import TestServer
from websockets.asyncio.client import connect

from dev.emulator import EMULATOR_CREDENTIALS, MAX_MESSAGE_BYTES
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
    """STAGE served on a local port, with a stub in place of its functions."""

    url: str
    invoke: StubInvoker
    registry: SocketRegistry

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://") + "/ws/abc123/prod"

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
    respond: Callable[[str, Any], Any] | None = None, timeouts: ConnectionTimeouts | None = None
) -> AsyncIterator[ServedStage]:
    invoke = StubInvoker(respond)
    registry = SocketRegistry()
    endpoints = WebSocketEndpoints(
        {(STAGE.api_id, STAGE.stage): STAGE},
        registry,
        invoke,
        REGION,
        timeouts or ConnectionTimeouts(),
    )
    app = web.Application()
    app.add_routes(websocket_routes(endpoints))
    app.add_routes(management_routes(ManagementEndpoint(registry)))
    server = TestServer(app, host="127.0.0.1", port=0)
    await server.start_server()
    try:
        yield ServedStage(str(server.make_url("")).rstrip("/"), invoke, registry)
    finally:
        await registry.close_all()
        await server.close()


def run(test: Callable[[], Any]) -> Any:
    return asyncio.run(asyncio.wait_for(test(), timeout=20))


def test_connect_invokes_the_connect_route_with_query_headers_and_source_ip():
    async def scenario() -> None:
        async with serving() as api, connect(api.ws_url + "?clientId=c1", user_agent_header="ua/1"):
            (event,) = api.invoke.events_of("connect")
            assert event["queryStringParameters"] == {"clientId": "c1"}
            assert event["headers"]["User-Agent"] == "ua/1"
            assert event["multiValueHeaders"]["User-Agent"] == ["ua/1"]
            assert event["requestContext"]["identity"]["sourceIp"] == "127.0.0.1"
            assert event["requestContext"]["apiId"] == "abc123"

    run(scenario)


def test_the_client_address_is_appended_to_a_forwarded_for_header():
    async def scenario() -> None:
        headers = {"X-Forwarded-For": "198.51.100.1"}
        async with serving() as api, connect(api.ws_url, additional_headers=headers):
            (event,) = api.invoke.events_of("connect")
            assert event["headers"]["X-Forwarded-For"] == "198.51.100.1, 127.0.0.1"

    run(scenario)


def test_a_non_2xx_connect_response_rejects_the_handshake_with_that_status():
    async def scenario() -> None:
        async with serving(lambda name, event: {"statusCode": 400, "body": "bad account"}) as api:
            with pytest.raises(websockets.InvalidStatus) as rejected:
                async with connect(api.ws_url + "?account=x"):
                    pass
            assert rejected.value.response.status_code == 400
            assert len(api.registry) == 0

    run(scenario)


def test_a_failing_connect_function_rejects_the_handshake_with_502():
    def respond(name: str, event: Any) -> Any:
        raise RuntimeError("table unavailable")

    async def scenario() -> None:
        async with serving(respond) as api:
            with pytest.raises(websockets.InvalidStatus) as rejected:
                async with connect(api.ws_url):
                    pass
            assert rejected.value.response.status_code == 502

    run(scenario)


def test_a_client_close_fires_disconnect_with_the_client_code_and_reason():
    async def scenario() -> None:
        async with serving() as api:
            async with connect(api.ws_url) as client:
                await client.close(code=4000, reason="bye")
            (event,) = await api.disconnects()
            context = event["requestContext"]
            assert context["disconnectStatusCode"] == 4000
            assert (
                context["disconnectReason"]
                == "Client-side close frame status code '4000' and reason 'bye'"
            )
            assert context["connectionId"] == api.connection_ids()[0]

    run(scenario)


def test_a_message_without_a_route_gets_the_forbidden_error_frame():
    async def scenario() -> None:
        async with serving() as api, connect(api.ws_url) as client:
            await client.send(json.dumps({"action": "unknown"}))
            frame = json.loads(await client.recv())
            assert frame["message"] == "Forbidden"
            assert frame["connectionId"] == api.connection_ids()[0]
            assert frame["requestId"]

    run(scenario)


def test_a_message_is_routed_by_its_action():
    async def scenario() -> None:
        async with serving() as api, connect(api.ws_url) as client:
            await client.send(json.dumps({"action": "echo", "text": "hi"}))
            async with asyncio.timeout(5):
                while not api.invoke.events_of("echo"):
                    await asyncio.sleep(0.01)
            (event,) = api.invoke.events_of("echo")
            assert event["requestContext"]["routeKey"] == "echo"
            assert json.loads(event["body"])["text"] == "hi"

    run(scenario)


def test_an_idle_connection_is_closed_and_disconnected_as_going_away():
    async def scenario() -> None:
        async with (
            serving(timeouts=ConnectionTimeouts(idle_timeout=0.2)) as api,
            connect(api.ws_url) as client,
        ):
            with pytest.raises(websockets.ConnectionClosed):
                await asyncio.wait_for(client.recv(), 5)
            assert client.close_code == 1001
            (event,) = await api.disconnects()
            assert event["requestContext"]["disconnectStatusCode"] == 1001

    run(scenario)


def test_a_connection_is_closed_at_its_maximum_duration_even_when_active():
    async def scenario() -> None:
        timeouts = ConnectionTimeouts(idle_timeout=10, max_duration=0.3)
        async with serving(timeouts=timeouts) as api, connect(api.ws_url) as client:
            with pytest.raises(websockets.ConnectionClosed):
                for _ in range(50):
                    await client.send(json.dumps({"action": "echo"}))
                    await asyncio.sleep(0.05)
            await api.disconnects()

    run(scenario)


def test_post_to_connections_delivers_a_text_frame():
    async def scenario() -> None:
        async with serving() as api, connect(api.ws_url) as client:
            (connection_id,) = api.connection_ids()
            await api.post(connection_id, b'{"type":"ping"}')
            assert await asyncio.wait_for(client.recv(), 5) == '{"type":"ping"}'

    run(scenario)


def test_post_to_an_unknown_connection_is_gone():
    async def scenario() -> None:
        async with serving() as api:
            with pytest.raises(ERRORS.GoneException):
                await api.post("nope=", b"x")

    run(scenario)


def test_post_to_a_closed_connection_is_gone():
    async def scenario() -> None:
        async with serving() as api:
            async with connect(api.ws_url):
                (connection_id,) = api.connection_ids()
            await api.disconnects()
            with pytest.raises(ERRORS.GoneException):
                await api.post(connection_id, b"x")

    run(scenario)


def test_post_over_128_kb_is_payload_too_large_and_not_delivered():
    async def scenario() -> None:
        async with serving() as api, connect(api.ws_url) as client:
            (connection_id,) = api.connection_ids()
            with pytest.raises(ERRORS.PayloadTooLargeException):
                await api.post(connection_id, b"x" * (MAX_MESSAGE_BYTES + 1))
            await api.post(connection_id, b"small")
            assert await asyncio.wait_for(client.recv(), 5) == "small"

    run(scenario)


def test_get_connection_describes_identity_and_activity():
    async def scenario() -> None:
        async with serving() as api, connect(api.ws_url, user_agent_header="ua/2"):
            (connection_id,) = api.connection_ids()
            described = await asyncio.to_thread(
                api.management().get_connection, ConnectionId=connection_id
            )
            assert described["Identity"] == {"SourceIp": "127.0.0.1", "UserAgent": "ua/2"}
            assert described["LastActiveAt"] >= described["ConnectedAt"]

    run(scenario)


def test_delete_connection_closes_the_socket_and_fires_disconnect():
    async def scenario() -> None:
        async with serving() as api, connect(api.ws_url) as client:
            (connection_id,) = api.connection_ids()
            management = api.management()
            await asyncio.to_thread(management.delete_connection, ConnectionId=connection_id)
            with pytest.raises(websockets.ConnectionClosed):
                await asyncio.wait_for(client.recv(), 5)
            (event,) = await api.disconnects()
            assert event["requestContext"]["connectionId"] == connection_id
            with pytest.raises(ERRORS.GoneException):
                await api.post(connection_id, b"x")

    run(scenario)


def test_a_connection_id_is_gone_on_another_api():
    async def scenario() -> None:
        async with serving() as api, connect(api.ws_url):
            (connection_id,) = api.connection_ids()
            with pytest.raises(ERRORS.GoneException):
                await api.post(connection_id, b"x", api_id="zzz999")

    run(scenario)


def test_closing_all_connections_fires_disconnect_for_each():
    async def scenario() -> None:
        async with serving() as api, connect(api.ws_url), connect(api.ws_url):
            await api.registry.close_all()
            events = await api.disconnects(2)
            assert {e["requestContext"]["disconnectStatusCode"] for e in events} == {1001}

    run(scenario)
