"""Find the exact zip a function was deployed with.

On AWS, `GetFunction` returns `Code.Location`, a presigned S3 URL of the deployed zip. moto
(5.x) returns a URL in a bucket it never creates (`awslambda-<region>-tasks`), and its
`/moto-api/data.json` dump fails without Docker, so the bytes cannot be read back from the
emulator. Order of attempts:

1. the object behind `Code.Location`, read through the emulator's S3 API (works for
   emulators that store deployed code in their S3);
2. a zip in the given code directories (`serve --code-dir`, e.g. the packages Terraform
   uploaded) whose SHA-256 equals the deployed `CodeSha256`. A hash match proves it is the
   deployed code byte for byte; a zip that differs (e.g. rebuilt after the deployment) is
   never used.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from botocore.exceptions import BotoCoreError, ClientError


class FunctionCodeNotFound(RuntimeError):
    pass


def code_sha256(data: bytes) -> str:
    """The `CodeSha256` Lambda reports: base64 of the SHA-256 digest."""
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def s3_location(url: str) -> tuple[str, str] | None:
    """Bucket and key of a virtual-hosted S3 URL (`https://<bucket>.s3.<region>.amazonaws.com/<key>`)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ".s3." not in host or not parts.path.strip("/"):
        return None
    return host.split(".s3.", 1)[0], parts.path.lstrip("/")


def fetch_function_code(
    function_name: str,
    expected_sha256: str,
    location: str | None,
    s3_client: Any,
    code_dirs: Iterable[str],
) -> bytes:
    if location and (bucket_key := s3_location(location)):
        try:
            body = s3_client.get_object(Bucket=bucket_key[0], Key=bucket_key[1])["Body"].read()
        except (ClientError, BotoCoreError):
            body = b""
        if body and code_sha256(body) == expected_sha256:
            return body
    directories = list(code_dirs)
    searched = []
    for directory in directories:
        for candidate in sorted(Path(directory).glob("*.zip")):
            searched.append(str(candidate))
            data = candidate.read_bytes()
            if code_sha256(data) == expected_sha256:
                return data
    raise FunctionCodeNotFound(
        f"deployed code of {function_name} (CodeSha256 {expected_sha256}) is not readable from "
        f"the emulator and no zip in {directories} has that hash "
        f"(searched {len(searched)} zips); deploy it again, or pass the directory that holds "
        "it (--code-dir)"
    )
