"""WebSocket endpoints and the @connections API, served by aiohttp, used by real clients."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
import websockets
from websockets.asyncio.client import connect

from dev.emulator import MAX_MESSAGE_BYTES
from dev.emulator.quotas import ConnectionTimeouts

from .served_stage import ERRORS, run, serving


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
