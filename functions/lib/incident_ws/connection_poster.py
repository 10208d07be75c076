"""How one message is posted to one connection: the API Gateway `@connections` management API.

Not through boto3's `apigatewaymanagementapi` client: its request pipeline costs about
1.6 ms of CPU per post under the GIL, which caps a fan-out near 650 posts/s. Signing
with botocore's own SigV4Auth and sending over a kept-alive HTTP connection
(http_keepalive.py) does the same HTTP request for a fifth of the CPU. Outcomes are classified
by HTTP status exactly as the client's exceptions would be (GoneException = 410,
LimitExceededException = 429, PayloadTooLargeException = 413, ForbiddenException = 403).
"""

from __future__ import annotations

import enum
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import ReadOnlyCredentials

from .http_keepalive import ExchangeFailed, KeepAliveHttp
from .limits import POST_BACKOFF_BASE_SECONDS, POST_BACKOFF_CAP_SECONDS, POST_MAX_RETRIES

SERVICE = "execute-api"
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})


class PostOutcome(enum.Enum):
    DELIVERED = "delivered"
    GONE = "gone"
    # 403, 413 or another 4xx: a matter of this connection, never retried.
    REJECTED = "rejected"
    # Still 429, 5xx or no answer after the retries, or no time left for the next retry:
    # a matter of the endpoint.
    FAILED = "failed"
    # Not even the first attempt could start.
    UNATTEMPTED = "unattempted"


@dataclass(frozen=True)
class PostResult:
    outcome: PostOutcome
    retries: int = 0  # every attempt after the first
    duplicates: int = 0  # retries after an attempt the endpoint may have received
    detail: str = ""  # the last HTTP status or error, for logs
    cut_short: bool = False  # FAILED because the caller allowed no further retry


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter: sleep U(0, min(cap, base * 2**attempt))."""

    max_retries: int = POST_MAX_RETRIES
    base_seconds: float = POST_BACKOFF_BASE_SECONDS
    cap_seconds: float = POST_BACKOFF_CAP_SECONDS

    def delay(self, retry: int) -> float:
        return random.uniform(0, min(self.cap_seconds, self.base_seconds * 2**retry))


@dataclass(frozen=True)
class _Attempt:
    status: int | None  # None: no answer
    error: str = ""
    maybe_received: bool = False

    @property
    def detail(self) -> str:
        return self.error if self.status is None else str(self.status)


def _always(seconds: float) -> bool:
    return True


class ConnectionPoster:
    """Signed, retried posts to `{endpoint}/@connections/{connectionId}` of one channel."""

    def __init__(
        self,
        endpoint: str,
        region: str,
        credentials: ReadOnlyCredentials,
        http: KeepAliveHttp,
        retry: RetryPolicy = RetryPolicy(),
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._base_url = f"{endpoint}/@connections/"
        self._signer = SigV4Auth(credentials, SERVICE, region)
        self._http = http
        self._retry = retry
        self._sleep = sleep

    def post(
        self, connection_id: str, body: bytes, may_start: Callable[[float], bool] = _always
    ) -> PostResult:
        """Deliver `body`: 200 delivered; 410 gone; 429/5xx/transport errors retried, bounded;
        any other status (403, 413, other 4xx) rejected at once. `may_start(seconds)` says
        whether an attempt that first waits `seconds` may start (the caller's deadline and
        circuit breaker): asked before the first attempt and before every backoff sleep."""
        if not may_start(0.0):
            return PostResult(PostOutcome.UNATTEMPTED)
        retries = duplicates = 0
        while True:
            attempt = self._send(connection_id, body)
            if attempt.status == 200:
                return PostResult(PostOutcome.DELIVERED, retries, duplicates)
            if attempt.status == 410:
                return PostResult(PostOutcome.GONE, retries, duplicates, "410")
            if attempt.status is not None and attempt.status not in RETRYABLE_STATUSES:
                return PostResult(PostOutcome.REJECTED, retries, duplicates, attempt.detail)
            if retries >= self._retry.max_retries:
                return PostResult(PostOutcome.FAILED, retries, duplicates, attempt.detail)
            delay = self._retry.delay(retries)
            if not may_start(delay):
                return PostResult(PostOutcome.FAILED, retries, duplicates, attempt.detail, True)
            # Sent again although it may have arrived (a read timeout, a connection lost after
            # the request was written): a second copy of a full snapshot is harmless to a
            # dashboard, while a lost update leaves it stale. It is counted as a duplicate.
            self._sleep(delay)
            retries += 1
            duplicates += 1 if attempt.maybe_received else 0

    def _send(self, connection_id: str, body: bytes) -> _Attempt:
        request = AWSRequest(
            method="POST",
            url=self._base_url + quote(connection_id, safe=""),
            data=body,
            headers={"Content-Type": "application/json"},
        )
        self._signer.add_auth(request)
        try:
            return _Attempt(self._http.post(request.url, request.headers, body))
        except ExchangeFailed as failure:
            return _Attempt(None, type(failure.cause).__name__, failure.request_sent)
