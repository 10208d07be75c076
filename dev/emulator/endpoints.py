"""Map deployed `execute-api` management endpoints to the emulator's local URLs.

Functions are configured with `https://<api-id>.execute-api.<region>.amazonaws.com/<stage>`,
alone or inside a JSON value, with or without the scheme. For a local run each such endpoint
of a known API stage becomes `<emulator>/mgmt/<api-id>/<stage>` in every environment variable;
a client that honours an explicit `http://` scheme and path prefix then needs no change.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping

from dev.emulator import MANAGEMENT_PATH

_EXECUTE_API = re.compile(
    r"(?:https?://)?(?P<api>[a-z0-9]+)\.execute-api\.(?P<region>[a-z0-9-]+)\.amazonaws\.com"
    r"/(?P<stage>[A-Za-z0-9_\-]+)"
)


def management_path(api_id: str, stage: str) -> str:
    return MANAGEMENT_PATH.format(api_id=api_id, stage=stage)


def rewrite_endpoints(
    value: str, emulator_url: str, known_stages: Collection[tuple[str, str]]
) -> str:
    """Replace every management endpoint of a known (api id, stage) in `value`."""

    def local(match: re.Match[str]) -> str:
        key = (match["api"], match["stage"])
        if key not in known_stages:
            return match[0]
        return emulator_url.rstrip("/") + management_path(*key)

    return _EXECUTE_API.sub(local, value)


def rewrite_environment(
    environment: Mapping[str, str], emulator_url: str, known_stages: Collection[tuple[str, str]]
) -> dict[str, str]:
    return {
        name: rewrite_endpoints(value, emulator_url, known_stages)
        for name, value in environment.items()
    }
