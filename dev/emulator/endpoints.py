"""Map deployed `execute-api` management endpoints to the gateway's local URLs.

Handlers are configured with `https://<api-id>.execute-api.<region>.amazonaws.com/<stage>`
(inside `CHANNELS` JSON, or the seed variables with or without a scheme). For a local run each
such endpoint of a known API/stage becomes `<gateway>/mgmt/<api-id>/<stage>`; the handlers
honour an explicit `http://` scheme and path prefix, so their code is unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping

_EXECUTE_API = re.compile(
    r"(?:https?://)?(?P<api>[a-z0-9]+)\.execute-api\.(?P<region>[a-z0-9-]+)\.amazonaws\.com"
    r"/(?P<stage>[A-Za-z0-9_\-]+)"
)


def management_path(api_id: str, stage: str) -> str:
    return f"/mgmt/{api_id}/{stage}"


def rewrite_endpoints(
    value: str, gateway_url: str, known_stages: Collection[tuple[str, str]]
) -> str:
    """Replace every management endpoint of a known (api id, stage) in `value`."""

    def local(match: re.Match[str]) -> str:
        key = (match["api"], match["stage"])
        if key not in known_stages:
            return match[0]
        return gateway_url.rstrip("/") + management_path(*key)

    return _EXECUTE_API.sub(local, value)


def rewrite_environment(
    environment: Mapping[str, str], gateway_url: str, known_stages: Collection[tuple[str, str]]
) -> dict[str, str]:
    return {
        name: rewrite_endpoints(value, gateway_url, known_stages)
        for name, value in environment.items()
    }
