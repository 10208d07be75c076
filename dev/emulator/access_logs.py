"""Stage access logs: one line per request (connect, message, disconnect) in the stage's format.

A stage with `AccessLogSettings` gets, for every request, its `Format` with each
`$context.<name>` replaced by what the emulator knows of that request, and `-` for a variable
it does not know or that has no value (as API Gateway writes an empty variable). Values are
inserted as they are, without escaping. Lines go to the log group of `DestinationArn` in the
AWS API emulator, in one log stream per emulator run; a log group that does not exist is
reported once and its lines are dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

log = logging.getLogger("emulator.access_log")

_VARIABLE = re.compile(r"\$context\.([A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*)")
_BATCH = 500


def render(log_format: str, variables: Mapping[str, Any]) -> str:
    """`log_format` with every `$context.x` replaced by `variables["x"]`, or `-`."""

    def value(match: re.Match[str]) -> str:
        found = variables.get(match[1])
        return "-" if found is None or found == "" else str(found)

    return _VARIABLE.sub(value, log_format)


def request_variables(
    event: Mapping[str, Any],
    status: int,
    error: str | None = None,
    authorizer_error: str | None = None,
) -> dict[str, Any]:
    """The `$context` variables of one request, from the event its route received (or would
    have received) and what was answered."""
    context = event.get("requestContext", {})
    variables: dict[str, Any] = {
        name: context.get(name)
        for name in (
            "apiId",
            "connectedAt",
            "connectionId",
            "domainName",
            "eventType",
            "extendedRequestId",
            "messageDirection",
            "messageId",
            "requestId",
            "requestTime",
            "requestTimeEpoch",
            "routeKey",
            "stage",
            "disconnectStatusCode",
            "disconnectReason",
        )
    }
    for name, value in (context.get("identity") or {}).items():
        variables[f"identity.{name}"] = value
    for name, value in (context.get("authorizer") or {}).items():
        variables[f"authorizer.{name}"] = value
    variables["status"] = status
    variables["error.message"] = error
    variables["error.messageString"] = f'"{error}"' if error else None
    variables["authorizer.error"] = authorizer_error
    return variables


@dataclass(frozen=True)
class AccessLogLine:
    log_group: str
    message: str
    timestamp_ms: int


class AccessLogWriter:
    """Queues lines and writes them to CloudWatch Logs in the background (`run()`)."""

    def __init__(self, logs_client: Callable[[], Any], flush_interval: float = 0.2) -> None:
        self._logs_client = logs_client
        self._flush_interval = flush_interval
        self._queue: asyncio.Queue[AccessLogLine] = asyncio.Queue()
        self._stream = f"emulator-{uuid.uuid4().hex}"
        self._streams: set[str] = set()
        self._missing: set[str] = set()
        self._client: Any = None

    def write(self, log_group: str, message: str) -> None:
        self._queue.put_nowait(AccessLogLine(log_group, message, int(time.time() * 1000)))

    async def run(self) -> None:
        """Write what was queued every `flush_interval`; on cancellation, write the rest."""
        pending: list[AccessLogLine] = []
        try:
            while True:
                pending.append(await self._queue.get())
                await asyncio.sleep(self._flush_interval)
                pending += self._drain()
                lines, pending = pending, []
                await asyncio.to_thread(self._put, lines)
        finally:
            await asyncio.to_thread(self._put, pending + self._drain())

    def _drain(self) -> list[AccessLogLine]:
        lines = []
        while not self._queue.empty():
            lines.append(self._queue.get_nowait())
        return lines

    def _put(self, lines: list[AccessLogLine]) -> None:
        by_group: dict[str, list[AccessLogLine]] = {}
        for line in lines:
            by_group.setdefault(line.log_group, []).append(line)
        for group, group_lines in by_group.items():
            try:
                self._put_group(group, group_lines)
            except (BotoCoreError, ClientError) as error:
                if group not in self._missing:
                    log.warning("access log lines for %s are dropped: %s", group, error)
                    self._missing.add(group)

    def _put_group(self, group: str, lines: list[AccessLogLine]) -> None:
        if self._client is None:
            self._client = self._logs_client()
        if group not in self._streams:
            exists = self._client.exceptions.ResourceAlreadyExistsException
            with contextlib.suppress(exists):
                self._client.create_log_stream(logGroupName=group, logStreamName=self._stream)
            self._streams.add(group)
        for start in range(0, len(lines), _BATCH):
            self._client.put_log_events(
                logGroupName=group,
                logStreamName=self._stream,
                logEvents=[
                    {"timestamp": line.timestamp_ms, "message": line.message}
                    for line in lines[start : start + _BATCH]
                ],
            )
        self._missing.discard(group)

    @property
    def log_stream(self) -> str:
        return self._stream
