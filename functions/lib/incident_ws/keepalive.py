"""Keep-alive HTTP connections to the `@connections` endpoints: one per worker thread and host.

The broadcast's hot path. botocore's URLLib3Session spends about 0.57 ms of CPU on a post
(request copies, pool-manager URL parsing, proxy lookups); a kept-alive `http.client`
connection about 0.31 ms (dev/bench/profile.md). Each worker thread owns its connections, so
there is no pool to lock: the executor's worker count bounds how many exist.
"""

from __future__ import annotations

import http.client
import threading
from collections.abc import Mapping
from urllib.parse import urlsplit

Connection = http.client.HTTPConnection | http.client.HTTPSConnection

# What a kept-alive connection that the server has closed meanwhile raises on reuse, before
# the request was read: sending it again on a fresh connection cannot duplicate it.
_STALE = (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError)


class KeepAliveConnections:
    def __init__(self, connect_timeout: float, read_timeout: float) -> None:
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self._local = threading.local()

    def post(self, url: str, headers: Mapping[str, str], body: bytes) -> int:
        """POST `body` and return the HTTP status; transport errors (OSError, HTTPException)
        propagate after the connection is dropped."""
        parts = urlsplit(url)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        key = (parts.scheme, parts.netloc)
        reused = key in self._connections
        try:
            return self._exchange(key, target, headers, body)
        except _STALE:
            if not reused:
                raise
            return self._exchange(key, target, headers, body)

    @property
    def _connections(self) -> dict[tuple[str, str], Connection]:
        if not hasattr(self._local, "connections"):
            self._local.connections = {}
        return self._local.connections

    def _exchange(
        self, key: tuple[str, str], target: str, headers: Mapping[str, str], body: bytes
    ) -> int:
        connection = self._connections.get(key) or self._connect(*key)
        try:
            connection.request("POST", target, body=body, headers=dict(headers))
            response = connection.getresponse()
            response.read()
        except BaseException:
            self._drop(key)
            raise
        if response.will_close:
            self._drop(key)
        return response.status

    def _connect(self, scheme: str, netloc: str) -> Connection:
        kind = http.client.HTTPSConnection if scheme == "https" else http.client.HTTPConnection
        connection = kind(netloc, timeout=self.connect_timeout)
        connection.connect()
        connection.sock.settimeout(self.read_timeout)
        self._connections[(scheme, netloc)] = connection
        return connection

    def _drop(self, key: tuple[str, str]) -> None:
        connection = self._connections.pop(key, None)
        if connection is not None:
            connection.close()
