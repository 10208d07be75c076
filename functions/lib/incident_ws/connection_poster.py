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
import http.client
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import ReadOnlyCredentials

from .http_keepalive import KeepAliveHttp
from .limits import POST_BACKOFF_BASE_SECONDS, POST_BACKOFF_CAP_SECONDS, POST_MAX_RETRIES

SERVICE = "execute-api"
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})


class PostOutcome(enum.Enum):
    DELIVERED = "delivered"
    GONE = "gone"
    FAILED = "failed"


@dataclass(frozen=True)
class PostResult:
    outcome: PostOutcome
    retries: int
    detail: str = ""  # the last HTTP status or error, for logs


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter: sleep U(0, min(cap, base * 2**attempt))."""

    max_retries: int = POST_MAX_RETRIES
    base_seconds: float = POST_BACKOFF_BASE_SECONDS
    cap_seconds: float = POST_BACKOFF_CAP_SECONDS

    def delay(self, retry: int) -> float:
        return random.uniform(0, min(self.cap_seconds, self.base_seconds * 2**retry))


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

    def post(self, connection_id: str, body: bytes) -> PostResult:
        """Deliver `body`: 200 delivered; 410 gone; 429/5xx/transport errors retried, bounded;
        any other status (403, 413, other 4xx) failed at once."""
        retries = 0
        while True:
            detail = self._send(connection_id, body)
            if detail == 200:
                return PostResult(PostOutcome.DELIVERED, retries)
            if detail == 410:
                return PostResult(PostOutcome.GONE, retries, "410")
            # A read timeout is retried although the post may have arrived: every message
            # is a full snapshot (or a ping), so a duplicate is harmless to a dashboard,
            # while a lost update leaves it stale.
            retryable = isinstance(detail, str) or detail in RETRYABLE_STATUSES
            if not retryable or retries >= self._retry.max_retries:
                return PostResult(PostOutcome.FAILED, retries, str(detail))
            self._sleep(self._retry.delay(retries))
            retries += 1

    def _send(self, connection_id: str, body: bytes) -> int | str:
        """The HTTP status, or the transport error's name."""
        request = AWSRequest(
            method="POST",
            url=self._base_url + quote(connection_id, safe=""),
            data=body,
            headers={"Content-Type": "application/json"},
        )
        self._signer.add_auth(request)
        try:
            return self._http.post(request.url, request.headers, body)
        except (OSError, http.client.HTTPException) as error:
            return type(error).__name__
