"""Pass a request the emulator does not answer itself on to the AWS API emulator, unchanged.

Clients pointed at the emulator for one operation (`PutEvents`, Lambda's `Invoke`) make every
other call of that service there too; moto answers those.
"""

from __future__ import annotations

import aiohttp
from aiohttp import web

# Hop-by-hop headers, and those aiohttp sets again for the body it sends.
_NOT_FORWARDED = frozenset(
    {"host", "content-length", "transfer-encoding", "connection", "keep-alive"}
)


class AwsProxy:
    def __init__(self, aws_endpoint: str) -> None:
        self._endpoint = aws_endpoint.rstrip("/")
        self._session: aiohttp.ClientSession | None = None

    async def forward(self, request: web.Request) -> web.Response:
        if self._session is None:
            self._session = aiohttp.ClientSession(auto_decompress=False)
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _NOT_FORWARDED}
        async with self._session.request(
            request.method,
            self._endpoint + request.rel_url.raw_path_qs,
            headers=headers,
            data=await request.read(),
            allow_redirects=False,
        ) as answer:
            body = await answer.read()
            answer_headers = {
                k: v for k, v in answer.headers.items() if k.lower() not in _NOT_FORWARDED
            }
            return web.Response(status=answer.status, headers=answer_headers, body=body)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
