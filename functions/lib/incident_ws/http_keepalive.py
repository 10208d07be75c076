"""Kept-alive HTTP connections to the `@connections` endpoints: one per worker thread and host.

The fan-out's hot path. botocore's URLLib3Session spends about 0.57 ms of CPU on a post
(request copies, pool-manager URL parsing, proxy lookups); a kept-alive `http.client`
connection about 0.31 ms (dev/bench/profile.md). Each worker thread owns its HTTP connections,
so there is no pool to lock: the executor's worker count bounds how many exist.

Nothing is sent twice here: a failed exchange raises `ExchangeFailed`, saying whether the
request had been written whole (the endpoint may then have received it), and the caller
decides whether to send it again.
"""

from __future__ import annotations

import http.client
import select
import threading
from collections.abc import Mapping
from urllib.parse import urlsplit

HttpConnection = http.client.HTTPConnection | http.client.HTTPSConnection


class ExchangeFailed(Exception):
    """A POST got no HTTP status: `cause` is the transport error. `request_sent` is True when
    the whole request had been written before it failed (a reset or a closed connection before
    the status line, a read timeout): the endpoint may have received it."""

    def __init__(self, cause: BaseException, request_sent: bool) -> None:
        super().__init__(f"{type(cause).__name__}: {cause}")
        self.cause = cause
        self.request_sent = request_sent


class KeepAliveHttp:
    def __init__(self, connect_timeout: float, read_timeout: float) -> None:
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self._local = threading.local()

    def post(self, url: str, headers: Mapping[str, str], body: bytes) -> int:
        """POST `body` once and return the HTTP status; raises ExchangeFailed."""
        parts = urlsplit(url)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        key = (parts.scheme, parts.netloc)
        request_sent = False
        try:
            http_connection = self._reusable(key) or self._connect(*key)
            http_connection.request("POST", target, body=body, headers=dict(headers))
            request_sent = True
            response = http_connection.getresponse()
            response.read()
        except BaseException as error:
            self._drop(key)
            if isinstance(error, OSError | http.client.HTTPException):
                raise ExchangeFailed(error, request_sent) from error
            raise
        if response.will_close:
            self._drop(key)
        return response.status

    @property
    def _http_connections(self) -> dict[tuple[str, str], HttpConnection]:
        if not hasattr(self._local, "http_connections"):
            self._local.http_connections = {}
        return self._local.http_connections

    def _reusable(self, key: tuple[str, str]) -> HttpConnection | None:
        """This thread's open connection to the host, unless the server has closed it since:
        an idle kept-alive connection has nothing to read until it is closed."""
        http_connection = self._http_connections.get(key)
        if http_connection is None or http_connection.sock is None:
            return None
        poller = select.poll()
        poller.register(http_connection.sock, select.POLLIN)
        if poller.poll(0):
            self._drop(key)
            return None
        return http_connection

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
