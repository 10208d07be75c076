"""Non-blocking HTTP/1.1 connections for the @connections sender (connections_sender.py).

One `HttpConnection` carries one request at a time over a kept-alive TCP (or TLS) connection,
driven by the sender's event loop: `begin()` hands it a request, `advance()` moves it on when
its socket is ready, and either returns `None` (still going) or the exchange's end: the HTTP
status, or the name of the transport error. The client side of HTTP it needs is small:
`Content-Length` bodies, `Connection: close`, interim 1xx answers; a response it cannot read
is a transport error (`InvalidResponse`), and a response whose body length it does not know is
classified by its status and its connection closed.
"""

from __future__ import annotations

import errno
import os
import re
import selectors
import socket
import ssl
import time
from dataclasses import dataclass
from typing import NamedTuple
from urllib.parse import urlsplit

from .limits import POST_CONNECT_TIMEOUT_SECONDS, POST_READ_TIMEOUT_SECONDS

READ = selectors.EVENT_READ
WRITE = selectors.EVENT_WRITE
RECV_BYTES = 65536
MAX_HEAD_BYTES = 65536
MAX_BODY_BYTES = 1024 * 1024  # error answers are small; a longer body is not read

# The transport errors that mean a kept-alive connection had been closed by the server.
CLOSED_ERRORS = frozenset({"RemoteDisconnected", "ConnectionResetError", "BrokenPipeError"})

_CONNECTING, _HANDSHAKING, _SENDING, _RECEIVING, _IDLE, _CLOSED = range(6)
_WOULD_BLOCK = (BlockingIOError, ssl.SSLWantReadError, ssl.SSLWantWriteError)
_TLS_EOF = (ssl.SSLZeroReturnError, ssl.SSLEOFError)


@dataclass(frozen=True)
class Timeouts:
    """How long one attempt may take: `connect_seconds` for TCP connect and TLS handshake,
    then `response_seconds` from the request's first byte to the response's last."""

    connect_seconds: float = POST_CONNECT_TIMEOUT_SECONDS
    response_seconds: float = POST_READ_TIMEOUT_SECONDS


class InvalidResponse(Exception):
    """What the server sent is not an HTTP/1.1 response this client can read."""


class Origin(NamedTuple):
    """Where an endpoint's requests go: `scheme://host:port`."""

    scheme: str
    host: str  # as the socket and the certificate check need it (an IPv6 address unbracketed)
    port: int

    @classmethod
    def of(cls, url: str) -> Origin:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL with a host: {url!r}")
        default_port = 443 if parts.scheme == "https" else 80
        return cls(parts.scheme, parts.hostname, parts.port or default_port)

    @property
    def tls(self) -> bool:
        return self.scheme == "https"


class HttpConnection:
    """One HTTP/1.1 connection; not thread-safe: one event loop drives it."""

    def __init__(
        self,
        origin: Origin,
        sock: socket.socket,
        context: ssl.SSLContext | None,
        timeouts: Timeouts,
    ) -> None:
        self.origin = origin
        self.fd = sock.fileno()
        self.events = WRITE  # what it waits for; its owner keeps the selector in step
        self.registered = 0  # what the selector watches for it (kept by its owner)
        self.due = time.monotonic() + timeouts.connect_seconds  # when it times out if busy
        self.exchanges = 0  # completed request/response exchanges
        self.request_written = False  # the current request went out to its last byte
        self.response_started = False  # some of the current response has arrived
        self.keep_alive = False  # the last response left the connection reusable
        self.idle_since = 0.0
        self.job = None  # what its owner is using it for
        self._sock = sock
        self._context = context
        self._timeouts = timeouts
        self._state = _CONNECTING
        self._out = memoryview(b"")
        self._in = bytearray()

    @classmethod
    def open(
        cls,
        origin: Origin,
        address: tuple[int, tuple],
        context: ssl.SSLContext | None,
        timeouts: Timeouts,
    ) -> HttpConnection:
        """Start connecting to `address` (family, sockaddr); OSError if that fails at once."""
        family, sockaddr = address
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setblocking(False)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            error = sock.connect_ex(sockaddr)
            if error not in (0, errno.EINPROGRESS, errno.EWOULDBLOCK):
                raise OSError(error, os.strerror(error))
        except BaseException:
            sock.close()
            raise
        return cls(origin, sock, context, timeouts)

    @property
    def closed(self) -> bool:
        return self._state == _CLOSED

    @property
    def connecting(self) -> bool:
        return self._state in (_CONNECTING, _HANDSHAKING)

    def begin(self, request: bytes) -> int | str | None:
        """Send `request` (head and body) as soon as the connection is ready."""
        self._out = memoryview(request)
        self.request_written = self.response_started = False
        if self._state != _IDLE:  # still connecting: sent once connected
            return None
        self._state = _SENDING
        self.due = time.monotonic() + self._timeouts.response_seconds
        return self._write()

    def advance(self) -> int | str | None:
        """Move on after the socket became ready: `None` while the exchange goes on, else its
        HTTP status or transport error name (the connection is then unusable)."""
        try:
            if self._state == _RECEIVING:
                return self._read()
            if self._state == _SENDING:
                return self._write()
            if self._state == _CONNECTING:
                error = self._sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if error:
                    raise OSError(error, os.strerror(error))
                if self._context is None:
                    return self._start_sending()
                self._sock = self._context.wrap_socket(
                    self._sock, server_hostname=self.origin.host, do_handshake_on_connect=False
                )
                self._state = _HANDSHAKING
            if self._state == _HANDSHAKING:
                return self._handshake()
        except OSError as error:
            return self._fail(type(error).__name__)
        return self._fail("InvalidState")

    def timeout_error(self) -> str:
        return "ConnectTimeout" if self.connecting else "ReadTimeout"

    def still_open(self) -> bool:
        """Whether an idle connection that became readable is still usable: the server may
        only close it (or send TLS housekeeping); anything else makes it unusable."""
        try:
            self._sock.recv(RECV_BYTES)
        except _WOULD_BLOCK:
            return True
        except OSError:
            return False
        return False  # the server closed it (b"") or sent what was never asked for

    def close(self) -> None:
        self._state = _CLOSED
        self._sock.close()

    # -- the exchange ------------------------------------------------------------------
    def _handshake(self) -> int | str | None:
        try:
            self._sock.do_handshake()
        except ssl.SSLWantReadError:
            self.events = READ
            return None
        except ssl.SSLWantWriteError:
            self.events = WRITE
            return None
        return self._start_sending()

    def _start_sending(self) -> int | str | None:
        self._state = _SENDING
        self.due = time.monotonic() + self._timeouts.response_seconds
        return self._write()

    def _write(self) -> int | str | None:
        try:
            while self._out:
                sent = self._sock.send(self._out)
                self._out = self._out[sent:]
        except (BlockingIOError, ssl.SSLWantWriteError):
            self.events = WRITE
            return None
        except ssl.SSLWantReadError:
            self.events = READ
            return None
        except _TLS_EOF:
            return self._fail("RemoteDisconnected")
        except OSError as error:
            return self._fail(type(error).__name__)
        self.request_written = True
        self._state = _RECEIVING
        self.events = READ
        return None

    def _read(self) -> int | str | None:
        while True:
            try:
                data = self._sock.recv(RECV_BYTES)
            except _WOULD_BLOCK:
                return None
            except _TLS_EOF:
                data = b""
            except OSError as error:
                return self._fail(type(error).__name__)
            if not data:
                return self._fail("RemoteDisconnected")
            self.response_started = True
            if self._in:
                self._in += data
                data = self._in
            try:
                answer = read_response(data)
            except InvalidResponse:
                return self._fail("InvalidResponse")
            if answer is None:
                if data is not self._in:
                    self._in += data
                continue
            status, used, keep_alive = answer
            self.keep_alive = keep_alive and used == len(data)
            self._in.clear()
            self.exchanges += 1
            self._state = _IDLE
            self.events = READ
            return status

    def _fail(self, error: str) -> str:
        self.keep_alive = False
        self._state = _CLOSED
        return error


def read_response(received: bytes | bytearray) -> tuple[int, int, bool] | None:
    """The first final response in `received` as (status, bytes it takes, whether the
    connection stays reusable), or None while it is incomplete. InvalidResponse if it cannot
    be read."""
    start = 0
    while True:
        end = received.find(b"\r\n\r\n", start)
        if end < 0:
            if len(received) - start > MAX_HEAD_BYTES:
                raise InvalidResponse("response head too long")
            return None
        head = bytes(received[start : end + 2])
        status_line = _STATUS_LINE(head)
        if status_line is None:
            raise InvalidResponse(f"bad status line {head[:80]!r}")
        status = int(status_line[2])
        body_start = end + 4
        if 100 <= status < 200:
            if status == 101:
                raise InvalidResponse("101 Switching Protocols")
            start = body_start
            continue
        length, keep_alive = _framing(head, status_line.end(), status_line[1] == b"1")
        if status in (204, 304):
            length = 0
        if length is None or length > MAX_BODY_BYTES:
            return status, len(received), False  # body not read: the connection is not reused
        if len(received) < body_start + length:
            return None
        return status, body_start + length, keep_alive


_STATUS_LINE = re.compile(rb"HTTP/1\.([01]) ([0-9]{3})(?: [^\r\n]*)?\r\n").match
_FRAMING_HEADER = re.compile(
    rb"\r\n(content-length|transfer-encoding|connection)[ \t]*:[ \t]*([^\r\n]*?)[ \t]*(?=\r\n)"
)


def _framing(head: bytes, start: int, http11: bool) -> tuple[int | None, bool]:
    """(Content-Length, or None when the body length is not given by it; keep-alive). Only
    the headers that frame the response are read."""
    length = None
    keep_alive = http11
    for name, value in _FRAMING_HEADER.findall(head.lower(), start - 2):
        if name == b"content-length":
            if not value.isdigit() or (length is not None and int(value) != length):
                raise InvalidResponse(f"bad Content-Length {value[:80]!r}")
            length = int(value)
        elif name == b"transfer-encoding":
            return None, False
        elif b"close" in value:
            keep_alive = False
    return length, keep_alive
