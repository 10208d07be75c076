"""GET a JSON document from the identity provider: bounded in time and size, no redirects."""

from __future__ import annotations

import http.client
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from incident_ws.auth.config import LOOPBACK_HOSTS, is_trusted_url

MAX_DOCUMENT_BYTES = 512 * 1024
_READ_SIZE = 16 * 1024


class FetchError(Exception):
    """The document could not be fetched or is not JSON; the message says why."""


class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect could lead from https to http, or anywhere else: it fails the fetch."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_RefuseRedirects)
# A proxy cannot reach this machine's loopback, so loopback URLs never go through one.
_LOOPBACK_OPENER = urllib.request.build_opener(_RefuseRedirects, urllib.request.ProxyHandler({}))


def fetch_json(url: str, deadline: float, clock: Callable[[], float] = time.monotonic) -> Any:
    """The JSON at `url`, fetched before `deadline` (a `clock()` value), else FetchError.

    A read that has started may run one socket timeout past the deadline, no more.
    """
    if not is_trusted_url(url):
        raise FetchError(f"{url!r} is not https (nor http to a loopback host)")
    remaining = deadline - clock()
    if remaining <= 0:
        raise FetchError(f"{url}: no time left")
    opener = _LOOPBACK_OPENER if urlsplit(url).hostname in LOOPBACK_HOSTS else _OPENER
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    try:
        with opener.open(request, timeout=remaining) as response:
            if response.status != 200:
                raise FetchError(f"{url}: HTTP {response.status}")
            body = _read_bounded(response, url, deadline, clock)
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as error:
        raise FetchError(f"{url}: {error!r}") from None
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        raise FetchError(f"{url}: not a JSON document") from None


def _read_bounded(
    response: http.client.HTTPResponse, url: str, deadline: float, clock: Callable[[], float]
) -> bytes:
    body = bytearray()
    while chunk := response.read1(_READ_SIZE):
        body += chunk
        if len(body) > MAX_DOCUMENT_BYTES:
            raise FetchError(f"{url}: larger than {MAX_DOCUMENT_BYTES} bytes")
        if clock() > deadline:
            raise FetchError(f"{url}: too slow")
    return bytes(body)
