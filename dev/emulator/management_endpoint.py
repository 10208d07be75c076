"""The `@connections` management API at `/mgmt/<api-id>/<stage>/@connections/<id>`.

Semantics of `apigatewaymanagementapi`: POST delivers the body to the socket as one frame,
GET describes the connection, DELETE closes it; an unknown or closed id is `410 GoneException`
and a body over 128 KB is `413 PayloadTooLargeException`. Errors are rest-json errors (the
`x-amzn-ErrorType` header), so boto3 raises `client.exceptions.GoneException` etc. Request
signatures are not verified.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from aiohttp import web

from dev.emulator import MANAGEMENT_PATH, MAX_MESSAGE_BYTES
from dev.emulator.sockets import DELETED_BY_API, ClientSocket, SocketRegistry

PATH = MANAGEMENT_PATH + "/@connections/{connection_id}"


def aws_error(status: int, error_type: str, message: str) -> web.Response:
    return web.json_response(
        {"message": message}, status=status, headers={"x-amzn-ErrorType": error_type}
    )


def _as_text_if_utf8(data: bytes) -> str | bytes:
    try:
        return data.decode()
    except UnicodeDecodeError:
        return data


def _iso(epoch_ms: int) -> str:
    return datetime.fromtimestamp(epoch_ms / 1000, UTC).isoformat(timespec="milliseconds")


class ManagementEndpoint:
    def __init__(self, registry: SocketRegistry) -> None:
        self._registry = registry

    def _connection(self, request: web.Request) -> ClientSocket | None:
        info = request.match_info
        return self._registry.find(info["api_id"], info["stage"], info["connection_id"])

    @staticmethod
    def _gone(request: web.Request) -> web.Response:
        return aws_error(410, "GoneException", f"{request.match_info['connection_id']} is gone")

    async def post(self, request: web.Request) -> web.Response:
        data = await request.read()
        if len(data) > MAX_MESSAGE_BYTES:
            return aws_error(
                413,
                "PayloadTooLargeException",
                f"Message of {len(data)} bytes exceeds the {MAX_MESSAGE_BYTES} byte limit",
            )
        connection = self._connection(request)
        if connection is None:
            return self._gone(request)
        try:
            await connection.send(_as_text_if_utf8(data))
        except ConnectionError:
            return self._gone(request)
        return web.Response(status=200)

    async def get(self, request: web.Request) -> web.Response:
        connection = self._connection(request)
        if connection is None:
            return self._gone(request)
        info = connection.info
        body = {
            "connectedAt": _iso(info.connected_at_ms),
            "identity": {"sourceIp": info.source_ip, "userAgent": info.user_agent},
            "lastActiveAt": _iso(connection.last_active_ms),
        }
        return web.Response(text=json.dumps(body), content_type="application/json")

    async def delete(self, request: web.Request) -> web.Response:
        connection = self._connection(request)
        if connection is None:
            return self._gone(request)
        connection.close_soon(DELETED_BY_API)
        return web.Response(status=204)


def management_routes(api: ManagementEndpoint) -> list[web.RouteDef]:
    return [web.post(PATH, api.post), web.get(PATH, api.get), web.delete(PATH, api.delete)]
