"""Kept-alive HTTP connections to the `@connections` endpoints: one per worker thread and host.

The fan-out's hot path. botocore's URLLib3Session spends about 0.57 ms of CPU on a post
(request copies, pool-manager URL parsing, proxy lookups); a kept-alive `http.client`
connection about 0.31 ms (dev/bench/profile.md). Each worker thread owns its HTTP connections,
so there is no pool to lock: the executor's worker count bounds how many exist.
"""

from __future__ import annotations

import http.client
import threading
from collections.abc import Mapping
from urllib.parse import urlsplit

HttpConnection = http.client.HTTPConnection | http.client.HTTPSConnection

# What a kept-alive HTTP connection that the server has closed meanwhile raises on reuse,
# before the request was read: sending it again on a fresh one cannot duplicate it.
_STALE = (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError)


class KeepAliveHttp:
    def __init__(self, connect_timeout: float, read_timeout: float) -> None:
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self._local = threading.local()

    def post(self, url: str, headers: Mapping[str, str], body: bytes) -> int:
        """POST `body` and return the HTTP status; transport errors (OSError, HTTPException)
        propagate after the HTTP connection is dropped."""
        parts = urlsplit(url)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        key = (parts.scheme, parts.netloc)
        reused = key in self._http_connections
        try:
            return self._exchange(key, target, headers, body)
        except _STALE:
            if not reused:
                raise
            return self._exchange(key, target, headers, body)

    @property
    def _http_connections(self) -> dict[tuple[str, str], HttpConnection]:
        if not hasattr(self._local, "http_connections"):
            self._local.http_connections = {}
        return self._local.http_connections

    def _exchange(
        self, key: tuple[str, str], target: str, headers: Mapping[str, str], body: bytes
    ) -> int:
        http_connection = self._http_connections.get(key) or self._connect(*key)
        try:
            http_connection.request("POST", target, body=body, headers=dict(headers))
            response = http_connection.getresponse()
            response.read()
        except BaseException:
            self._drop(key)
            raise
        if response.will_close:
            self._drop(key)
        return response.status

    def _connect(self, scheme: str, netloc: str) -> HttpConnection:
        kind = http.client.HTTPSConnection if scheme == "https" else http.client.HTTPConnection
        http_connection = kind(netloc, timeout=self.connect_timeout)
        http_connection.connect()
        http_connection.sock.settimeout(self.read_timeout)
        self._http_connections[(scheme, netloc)] = http_connection
        return http_connection

    def _drop(self, key: tuple[str, str]) -> None:
        http_connection = self._http_connections.pop(key, None)
        if http_connection is not None:
            http_connection.close()
