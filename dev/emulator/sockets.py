"""Open client WebSockets, shared by the WebSocket endpoints and the `@connections` endpoint."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from aiohttp import web

from dev.emulator.events import ConnectionInfo

# API Gateway's close codes/reasons when the service (not the client) ends a connection.
GOING_AWAY = (1001, "Going away")
DELETED_BY_API = (1000, "Connection was closed by the @connections API")


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class ClientSocket:
    """One client's open WebSocket on an API stage, as API Gateway tracks it."""

    info: ConnectionInfo
    socket: web.WebSocketResponse
    last_active_ms: int = field(default_factory=now_ms)
    server_close: tuple[int, str] | None = None
    closed: asyncio.Event = field(default_factory=asyncio.Event)
    _send_lock: asyncio.Lock = field(default_factory=asyncio.Lock, init=False, repr=False)
    _closing: asyncio.Task[None] | None = field(default=None, init=False, repr=False)

    def touch(self) -> None:
        self.last_active_ms = now_ms()

    async def send(self, data: str | bytes) -> None:
        """One frame to the client (text for str); concurrent senders never interleave."""
        async with self._send_lock:
            if isinstance(data, str):
                await self.socket.send_str(data)
            else:
                await self.socket.send_bytes(data)
        self.touch()

    async def close_by_server(self, close: tuple[int, str]) -> None:
        """Close from the service side; the endpoint's read loop then fires `$disconnect`."""
        if self.server_close is None:
            self.server_close = close
        await self.socket.close(code=close[0], message=close[1].encode())

    def close_soon(self, close: tuple[int, str]) -> None:
        """Start closing without waiting for the close handshake, like `DeleteConnection`."""
        if self.server_close is None:
            self.server_close = close
            self._closing = asyncio.create_task(self.close_by_server(close))


class SocketRegistry:
    def __init__(self) -> None:
        self._sockets: dict[str, ClientSocket] = {}

    def add(self, connection: ClientSocket) -> None:
        self._sockets[connection.info.connection_id] = connection

    def remove(self, connection: ClientSocket) -> None:
        self._sockets.pop(connection.info.connection_id, None)
        connection.closed.set()

    def find(self, api_id: str, stage: str, connection_id: str) -> ClientSocket | None:
        """The open connection with that id on that API stage; ids are not shared across APIs."""
        connection = self._sockets.get(connection_id)
        if connection is None or connection.socket.closed or connection.server_close:
            return None
        if (connection.info.api_id, connection.info.stage) != (api_id, stage):
            return None
        return connection

    def __len__(self) -> int:
        return len(self._sockets)

    async def close_all(self, timeout: float = 10.0) -> None:
        """Close every connection and wait until each one's `$disconnect` has run."""
        connections = list(self._sockets.values())
        await asyncio.gather(*(c.close_by_server(GOING_AWAY) for c in connections))
        if connections:
            await asyncio.wait(
                [asyncio.create_task(c.closed.wait()) for c in connections], timeout=timeout
            )
