"""SigV4 for `POST {stage path}/@connections/{connectionId}`, with the common work done once.

botocore's `SigV4Auth` signs a request from scratch: it parses the URL, normalises the path,
copies and sorts the headers and derives the signing key every time. Here what all posts of a
channel share is computed once (the canonical path up to the connection id, the host, the
credential scope, the signing key per UTC date), each message body is hashed once for all its
connections, and a post computes only what depends on its connection id and timestamp. The
result is byte for byte the `Authorization` header botocore's `SigV4Auth` gives the same
request (tests/unit/test_connection_signer.py compares them).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from urllib.parse import quote, urlsplit

from botocore.auth import _host_from_url
from botocore.credentials import ReadOnlyCredentials
from botocore.utils import normalize_url_path

SERVICE = "execute-api"
ALGORITHM = "AWS4-HMAC-SHA256"
CONTENT_TYPE = "application/json"
TIMESTAMP_FORMAT = "%Y%m%dT%H%M%SZ"  # botocore's SIGV4_TIMESTAMP
# What API Gateway connection ids are made of: letters, digits and base64's `=`, `+`, `/`.
_BASE64ISH = re.compile(r"[A-Za-z0-9_.~=+/-]*").fullmatch


def escape_id(connection_id: str) -> str:
    """`quote(connection_id, safe="")`, quickly for the ids API Gateway issues."""
    if _BASE64ISH(connection_id):
        return connection_id.replace("=", "%3D").replace("+", "%2B").replace("/", "%2F")
    return quote(connection_id, safe="")


def body_hash(body: bytes) -> str:
    """The payload hash of a post's body: compute it once per message, not per connection."""
    return hashlib.sha256(body).hexdigest()


def amz_date(epoch_seconds: float | None = None) -> str:
    """The `X-Amz-Date` of a request signed at `epoch_seconds` (now by default)."""
    return time.strftime(TIMESTAMP_FORMAT, time.gmtime(epoch_seconds))


class ConnectionSigner:
    """Signs posts to one `@connections` endpoint with one set of credentials.

    `endpoint` is `scheme://host[:port][/stage path]`, as the channel's configuration gives it.
    Credentials rotate: build a signer per invocation from the credentials of that invocation.
    """

    def __init__(self, endpoint: str, region: str, credentials: ReadOnlyCredentials) -> None:
        parts = urlsplit(endpoint)
        self.host = _host_from_url(endpoint)
        # The path as it goes on the wire, and as SigV4 canonicalises it (botocore
        # normalises it and then escapes it a second time, so `%` becomes `%25`).
        self.path_prefix = f"{parts.path}/@connections/"
        self._canonical_prefix = quote(normalize_url_path(self.path_prefix), safe="/~")
        self._access_key = credentials.access_key
        self._secret_key = credentials.secret_key
        self.security_token = credentials.token or None
        self._region = region
        self._signed_headers = "content-type;host;x-amz-date"
        token_line = ""
        if self.security_token is not None:
            self._signed_headers += ";x-amz-security-token"
            token_line = f"x-amz-security-token:{' '.join(self.security_token.split())}\n"
        self._headers_before_date = (
            f"\n\ncontent-type:{CONTENT_TYPE}\nhost:{self.host}\nx-amz-date:"
        )
        self._headers_after_date = f"\n{token_line}\n{self._signed_headers}\n"
        self._key_date = ""
        self._signing_key = b""
        self._scope = ""
        self._authorization_prefix = ""

    def sign(self, connection_id: str, payload_hash: str, timestamp: str) -> tuple[str, str]:
        """The request target and the `Authorization` header of a post to `connection_id`
        whose body hashes to `payload_hash` (`body_hash`), signed at `timestamp` (`amz_date`)."""
        if timestamp[:8] != self._key_date:
            self._derive_key(timestamp[:8])
        escaped_id = escape_id(connection_id)
        path = self.path_prefix + escaped_id
        if escaped_id in (".", ".."):  # dot segments, which path normalisation removes
            canonical_path = quote(normalize_url_path(path), safe="/~")
        else:
            canonical_path = self._canonical_prefix + escaped_id.replace("%", "%25")
        canonical_request = (
            f"POST\n{canonical_path}{self._headers_before_date}{timestamp}"
            f"{self._headers_after_date}{payload_hash}"
        )
        string_to_sign = (
            f"{ALGORITHM}\n{timestamp}\n{self._scope}\n"
            f"{hashlib.sha256(canonical_request.encode()).hexdigest()}"
        )
        signature = hmac.digest(self._signing_key, string_to_sign.encode(), "sha256")
        return path, self._authorization_prefix + signature.hex()

    def _derive_key(self, date: str) -> None:
        key = f"AWS4{self._secret_key}".encode()
        for part in (date, self._region, SERVICE, "aws4_request"):
            key = hmac.digest(key, part.encode(), "sha256")
        self._key_date = date
        self._signing_key = key
        self._scope = f"{date}/{self._region}/{SERVICE}/aws4_request"
        self._authorization_prefix = (
            f"{ALGORITHM} Credential={self._access_key}/{self._scope}, "
            f"SignedHeaders={self._signed_headers}, Signature="
        )
