"""WebSocket endpoints `ws://host:port/ws/<api-id>/<stage>` that behave like API Gateway's."""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from aiohttp import WSMessage, WSMsgType, web

from dev.emulator import MAX_MESSAGE_BYTES
from dev.emulator.access_logs import render, request_variables
from dev.emulator.control_plane import RequestAuthorizer, WebSocketStage
from dev.emulator.events import (
    ConnectionInfo,
    authorizer_request_event,
    connect_event,
    disconnect_event,
    message_event,
    new_connection_id,
    new_request_id,
    select_route,
)
from dev.emulator.lambda_runner import Invocation, Invoke
from dev.emulator.quotas import ConnectionTimeouts
from dev.emulator.request_authorizers import (
    UNAUTHORIZED,
    Decision,
    Refused,
    decide,
    missing_identity_sources,
)
from dev.emulator.signatures import scope_error, signed_credential
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


def selected_subprotocol(invocation: Invocation) -> str | None:
    """The `Sec-WebSocket-Protocol` a `$connect` response names: the handshake's subprotocol."""
    result = invocation.result if invocation.ok else None
    headers = result.get("headers") if isinstance(result, Mapping) else None
    if not isinstance(headers, Mapping):
        return None
    for name, value in headers.items():
        if isinstance(name, str) and name.lower() == "sec-websocket-protocol":
            return value if isinstance(value, str) and value else None
    return None


def domain_name(api_id: str, region: str) -> str:
    return f"{api_id}.execute-api.{region}.amazonaws.com"


def error_frame(message: str, connection_id: str, request_id: str) -> str:
    return json.dumps({"message": message, "connectionId": connection_id, "requestId": request_id})


AccessLog = Callable[[str, str], None]
"""Write one line to a log group (`AccessLogWriter.write`)."""

CallerIdentity = Callable[[str], Awaitable[Mapping[str, str] | None]]
"""The `requestContext.identity` fields of an access key's IAM caller (`IamCallers.identity`)."""


async def _no_callers(access_key: str) -> None:
    return None


@dataclass(frozen=True)
class Handshake:
    """How a `$connect` ended: the status sent to the client and what its access log says."""

    status: int
    event: dict[str, Any]
    info: ConnectionInfo
    error: str | None = None
    authorizer_error: str | None = None
    subprotocol: str | None = None


@dataclass(frozen=True)
class WebSocketEndpoints:
    """`$connect`, route selection and `$disconnect` of every deployed stage, by (api id, stage)."""

    stages: Mapping[tuple[str, str], WebSocketStage]
    registry: SocketRegistry
    invoke: Invoke
    region: str
    timeouts: ConnectionTimeouts
    access_log: AccessLog = lambda log_group, line: None
    caller_identity: CallerIdentity = _no_callers

    async def handle(self, request: web.Request) -> web.StreamResponse:
        key = (request.match_info["api_id"], request.match_info["stage"])
        stage = self.stages.get(key)
        if stage is None:
            raise web.HTTPNotFound(text=f"no WebSocket API stage {key[0]}/{key[1]}")
        if not web.WebSocketResponse().can_prepare(request).ok:
            raise web.HTTPUpgradeRequired(text="WebSocket upgrade required")

        handshake = await self._connect(stage, request)
        self._log_request(stage, handshake.event, handshake.status, handshake)
        if not 200 <= handshake.status < 300:
            # The route's body stays with API Gateway: only a route response would pass it on.
            return web.Response(status=handshake.status)
        info = handshake.info
        protocols = (handshake.subprotocol,) if handshake.subprotocol else ()
        socket = web.WebSocketResponse(
            max_msg_size=MAX_MESSAGE_BYTES, autoping=True, protocols=protocols
        )
        await socket.prepare(request)
        connection = ClientSocket(info=info, socket=socket)
        self.registry.add(connection)
        log.info("%s connected to %s/%s", info.connection_id, stage.api_name, stage.stage)
        try:
            close = await self._read_loop(stage, connection)
        finally:
            self.registry.remove(connection)
        event = disconnect_event(info, *close)
        if "$disconnect" in stage.routes:
            await self.invoke(stage.routes["$disconnect"], event)
        self._log_request(stage, event, 200)
        log.info("%s disconnected (%s %s)", info.connection_id, *close)
        return socket

    async def _connect(self, stage: WebSocketStage, request: web.Request) -> Handshake:
        """Authorize the upgrade request, then run the `$connect` route."""
        info = ConnectionInfo(
            connection_id=new_connection_id(),
            api_id=stage.api_id,
            stage=stage.stage,
            domain_name=domain_name(stage.api_id, self.region),
            source_ip=request.remote or "127.0.0.1",
            user_agent=request.headers.get("User-Agent"),
            connected_at_ms=now_ms(),
        )
        headers = self._forwarded_headers(request, info)
        authorization = stage.connect_authorization
        if authorization.type == "AWS_IAM":
            caller, error = await self._signed_caller(request, stage)
            if caller is None:
                event = connect_event(info, headers, request.query.items())
                return Handshake(403, event, info, error)
            info = replace(info, caller=caller)
        event = connect_event(info, headers, request.query.items())
        if authorization.type == "CUSTOM":
            decision = await self._authorize(stage, authorization.authorizer, event, request)
            if isinstance(decision, Refused):
                return Handshake(
                    decision.status, event, info, decision.error, decision.authorizer_error
                )
            info = replace(info, authorizer=decision.request_context)
            event["requestContext"]["authorizer"] = decision.request_context
        if "$connect" not in stage.routes:
            return Handshake(200, event, info)
        invocation = await self.invoke(stage.routes["$connect"], event)
        status = integration_status(invocation)
        error = None if invocation.ok else "Internal server error"
        return Handshake(status, event, info, error, subprotocol=selected_subprotocol(invocation))

    async def _signed_caller(
        self, request: web.Request, stage: WebSocketStage
    ) -> tuple[Mapping[str, str] | None, str | None]:
        """The IAM caller who signed the upgrade request, or None and why not."""
        credential = signed_credential(request.headers, request.query)
        if credential is None:
            return None, "Missing Authentication Token"
        wrong_scope = scope_error(credential, stage.region)
        if wrong_scope is not None:
            return None, wrong_scope
        caller = await self.caller_identity(credential.access_key)
        if caller is None:
            return None, "The security token included in the request is invalid."
        return caller, None

    async def _authorize(
        self,
        stage: WebSocketStage,
        authorizer: RequestAuthorizer | None,
        event: dict[str, Any],
        request: web.Request,
    ) -> Decision:
        if authorizer is None or authorizer.function_name is None:
            log.error("%s/%s: $connect has no readable authorizer", stage.api_name, stage.stage)
            return Refused(500, "Internal server error", "authorizer configuration")
        missing = missing_identity_sources(
            authorizer.identity_sources,
            event["headers"],
            event["queryStringParameters"] or {},
            stage.stage_variables,
        )
        if missing:
            log.info("%s: identity sources missing: %s", authorizer.name, ", ".join(missing))
            return Refused(401, UNAUTHORIZED)
        authorizer_event = authorizer_request_event(
            event, stage.connect_method_arn, stage.stage_variables
        )
        invocation = await self.invoke(authorizer.function_name, authorizer_event)
        return decide(invocation, stage.connect_method_arn)

    def _log_request(
        self,
        stage: WebSocketStage,
        event: Mapping[str, Any],
        status: int,
        handshake: Handshake | None = None,
    ) -> None:
        if stage.access_log is None:
            return
        variables = request_variables(
            event,
            status,
            handshake.error if handshake else None,
            handshake.authorizer_error if handshake else None,
        )
        self.access_log(stage.access_log.log_group, render(stage.access_log.format, variables))

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
        self._log_request(stage, event, integration_status(invocation))
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
