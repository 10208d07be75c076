"""WebSocket endpoints `ws://host:port/ws/<api-id>/<stage>` that behave like API Gateway's."""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass

from aiohttp import WSMessage, WSMsgType, web

from dev.emulator import MAX_MESSAGE_BYTES
from dev.emulator.control_plane import WebSocketStage
from dev.emulator.events import (
    ConnectionInfo,
    connect_event,
    disconnect_event,
    message_event,
    new_connection_id,
    new_request_id,
    select_route,
)
from dev.emulator.lambda_runner import Invocation, Invoke
from dev.emulator.quotas import ConnectionTimeouts
from dev.emulator.sockets import GOING_AWAY, ClientSocket, SocketRegistry, now_ms

log = logging.getLogger("emulator.websocket")

_CLOSING_TYPES = (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR)


def integration_status(invocation: Invocation) -> int:
    """The HTTP status API Gateway derives from a Lambda proxy response (502 when it has none)."""
    if not invocation.ok:
        return 502
    result = invocation.result
    if not isinstance(result, Mapping) or "statusCode" not in result:
        return 200
    try:
        status = int(result["statusCode"])
    except (TypeError, ValueError):
        return 502
    return status if 100 <= status <= 599 else 502


def domain_name(api_id: str, region: str) -> str:
    return f"{api_id}.execute-api.{region}.amazonaws.com"


def error_frame(message: str, connection_id: str, request_id: str) -> str:
    return json.dumps({"message": message, "connectionId": connection_id, "requestId": request_id})


@dataclass(frozen=True)
class WebSocketEndpoints:
    """`$connect`, route selection and `$disconnect` of every deployed stage, by (api id, stage)."""

    stages: Mapping[tuple[str, str], WebSocketStage]
    registry: SocketRegistry
    invoke: Invoke
    region: str
    timeouts: ConnectionTimeouts

    async def handle(self, request: web.Request) -> web.StreamResponse:
        key = (request.match_info["api_id"], request.match_info["stage"])
        stage = self.stages.get(key)
        if stage is None:
            raise web.HTTPNotFound(text=f"no WebSocket API stage {key[0]}/{key[1]}")
        socket = web.WebSocketResponse(max_msg_size=MAX_MESSAGE_BYTES, autoping=True)
        if not socket.can_prepare(request).ok:
            raise web.HTTPUpgradeRequired(text="WebSocket upgrade required")

        info = ConnectionInfo(
            connection_id=new_connection_id(),
            api_id=stage.api_id,
            stage=stage.stage,
            domain_name=domain_name(stage.api_id, self.region),
            source_ip=request.remote or "127.0.0.1",
            user_agent=request.headers.get("User-Agent"),
            connected_at_ms=now_ms(),
        )
        if "$connect" in stage.routes:
            event = connect_event(
                info, self._forwarded_headers(request, info), request.query.items()
            )
            status = integration_status(await self.invoke(stage.routes["$connect"], event))
            if not 200 <= status < 300:
                return web.Response(status=status)

        await socket.prepare(request)
        connection = ClientSocket(info=info, socket=socket)
        self.registry.add(connection)
        log.info("%s connected to %s/%s", info.connection_id, stage.api_name, stage.stage)
        try:
            close = await self._read_loop(stage, connection)
        finally:
            self.registry.remove(connection)
        if "$disconnect" in stage.routes:
            await self.invoke(stage.routes["$disconnect"], disconnect_event(info, *close))
        log.info("%s disconnected (%s %s)", info.connection_id, *close)
        return socket

    @staticmethod
    def _forwarded_headers(request: web.Request, info: ConnectionInfo) -> list[tuple[str, str]]:
        """Client headers as API Gateway passes them on, with its own Host and X-Forwarded-*."""
        forwarded = request.headers.getall("X-Forwarded-For", [])
        added = {
            "Host": info.domain_name,
            "X-Forwarded-For": ", ".join([*forwarded, info.source_ip]),
            "X-Forwarded-Port": "443",
            "X-Forwarded-Proto": "https",
        }
        headers = [(k, v) for k, v in request.headers.items() if k.title() not in added]
        return headers + list(added.items())

    async def _read_loop(self, stage: WebSocketStage, connection: ClientSocket) -> tuple[int, str]:
        """Serve one connection until it closes; returns the disconnect status code and reason."""
        socket = connection.socket
        started = time.monotonic()
        while True:
            idle_left = connection.last_active_ms / 1000 + self.timeouts.idle_timeout - time.time()
            duration_left = started + self.timeouts.max_duration - time.monotonic()
            if min(idle_left, duration_left) <= 0:
                await connection.close_by_server(GOING_AWAY)
                return GOING_AWAY
            try:
                message = await socket.receive(timeout=min(idle_left, duration_left))
            except TimeoutError:
                continue
            if message.type in _CLOSING_TYPES:
                return self._close_reason(connection, message)
            if message.type in (WSMsgType.TEXT, WSMsgType.BINARY):
                connection.touch()
                await self._route_message(stage, connection, message.data)

    @staticmethod
    def _close_reason(connection: ClientSocket, message: WSMessage) -> tuple[int, str]:
        if connection.server_close is not None:
            return connection.server_close
        if message.type != WSMsgType.CLOSE:
            return 1006, "Connection was closed abnormally"
        code = message.data or 1005
        reason = message.extra or ""
        return code, f"Client-side close frame status code '{code}' and reason '{reason}'"

    async def _route_message(
        self, stage: WebSocketStage, connection: ClientSocket, body: str | bytes
    ) -> None:
        info = connection.info
        route_key = select_route(stage.route_selection_expression, body, stage.routes)
        if route_key is None:
            await self._send_quietly(
                connection, error_frame("Forbidden", info.connection_id, new_request_id())
            )
            return
        event = message_event(info, route_key, body)
        invocation = await self.invoke(stage.routes[route_key], event)
        if not invocation.ok:
            request_id = event["requestContext"]["requestId"]
            await self._send_quietly(
                connection, error_frame("Internal server error", info.connection_id, request_id)
            )

    @staticmethod
    async def _send_quietly(connection: ClientSocket, text: str) -> None:
        """An error frame; a client that has gone meanwhile simply misses it."""
        if not connection.socket.closed:
            with contextlib.suppress(ConnectionError):
                await connection.send(text)


_PATH = "/ws/{api_id}/{stage}"


def websocket_path(api_id: str, stage: str) -> str:
    return _PATH.format(api_id=api_id, stage=stage)


def websocket_routes(endpoints: WebSocketEndpoints) -> list[web.RouteDef]:
    return [web.get(_PATH, endpoints.handle)]
