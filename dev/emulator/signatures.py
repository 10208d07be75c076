"""`AWS_IAM` authorization of a `$connect`: who signed the handshake (SigV4).

API Gateway accepts an upgrade request signed with Signature Version 4, either in the
`Authorization` header (`AWS4-HMAC-SHA256 Credential=<key>/<date>/<region>/execute-api/
aws4_request, SignedHeaders=..., Signature=...`) or presigned in the query string
(`X-Amz-Algorithm`, `X-Amz-Credential`, `X-Amz-Signature`, ...), and answers 403 otherwise.

Here the signature must be present and its credential scope must name the API's region and
`execute-api`, and the access key must belong to an IAM user of the AWS API emulator (so the
event can carry `userArn`). The signature itself is **not** verified (the emulator never sees
secret keys), and IAM policies are not evaluated.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

log = logging.getLogger("emulator.iam")

ALGORITHM = "AWS4-HMAC-SHA256"
SERVICE = "execute-api"
_HEADER = re.compile(
    r"^AWS4-HMAC-SHA256\s+Credential=(?P<credential>[^,\s]+)\s*,\s*SignedHeaders=[^,\s]+"
    r"\s*,\s*Signature=[0-9a-fA-F]+\s*$"
)


@dataclass(frozen=True)
class Credential:
    """`<access key>/<yyyymmdd>/<region>/<service>/aws4_request`."""

    access_key: str
    date: str
    region: str
    service: str
    terminator: str

    @classmethod
    def parse(cls, text: str) -> Credential | None:
        parts = text.split("/")
        return cls(*parts) if len(parts) == 5 and all(parts) else None


def signed_credential(headers: Mapping[str, str], query: Mapping[str, str]) -> Credential | None:
    """The credential of a SigV4 signature in the header or the query; None when unsigned."""
    authorization = next(
        (value for name, value in headers.items() if name.lower() == "authorization"), None
    )
    if authorization is not None:
        match = _HEADER.match(authorization)
        return Credential.parse(match["credential"]) if match else None
    if query.get("X-Amz-Algorithm") == ALGORITHM and query.get("X-Amz-Signature"):
        return Credential.parse(query.get("X-Amz-Credential", ""))
    return None


def scope_error(credential: Credential, region: str) -> str | None:
    """Why the credential scope does not fit this API, or None."""
    if credential.service != SERVICE:
        return f"Credential should be scoped to correct service: '{SERVICE}'."
    if credential.region != region:
        return f"Credential should be scoped to a valid region, not '{credential.region}'."
    if credential.terminator != "aws4_request":
        return "Credential should be scoped with a valid terminator: 'aws4_request'."
    return None


class IamCallers:
    """The IAM user behind an access key, looked up in the AWS API emulator and remembered.

    `identity(access_key)` is the `requestContext.identity` fields of that caller, or None
    for a key that no IAM user has.
    """

    def __init__(self, iam_client: Callable[[], Any]) -> None:
        self._iam_client = iam_client
        self._known: dict[str, dict[str, str] | None] = {}

    async def identity(self, access_key: str) -> dict[str, str] | None:
        if access_key not in self._known:
            self._known[access_key] = await asyncio.to_thread(self._look_up, access_key)
        return self._known[access_key]

    def _look_up(self, access_key: str) -> dict[str, str] | None:
        iam = self._iam_client()
        try:
            user_name = iam.get_access_key_last_used(AccessKeyId=access_key)["UserName"]
            user = iam.get_user(UserName=user_name)["User"]
        except (BotoCoreError, ClientError, KeyError) as error:
            log.warning("access key %s belongs to no IAM user: %s", access_key, error)
            return None
        return {
            "accountId": user["Arn"].split(":")[4],
            "caller": user["UserId"],
            "user": user["UserId"],
            "userArn": user["Arn"],
            "accessKey": access_key,
        }
