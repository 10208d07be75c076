"""Lambda's asynchronous invocation: `Invoke` with `InvocationType=Event`, and how EventBridge and
other services invoke a function.

The event is queued and the caller is not told how it went. When the function returns an
error (its own, a timeout, a crash), Lambda retries it up to the function's
`MaximumRetryAttempts` (0-2, default 2), waiting one minute before the first retry and two
before the second; an event older than `MaximumEventAgeInSeconds` (default 6 hours) when its
turn comes is not run again. What still failed goes to the function's on-failure destination,
what succeeded to its on-success destination, each as Lambda's invocation record
(`requestContext`, `requestPayload`, `responseContext`, `responsePayload`). Every attempt runs
with the same request id. `time_scale` shortens the waits and ages the events faster, like the
schedules.

Only SQS destinations are emulated; the function's own dead-letter queue (`DeadLetterConfig`),
throttling and its retries are not.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from dev.emulator.control_plane import AsyncInvokeConfig, DeployedFunction
from dev.emulator.lambda_runner import Invocation, Invoke
from dev.emulator.queues import is_queue_arn, send_to_queue

log = logging.getLogger("emulator.async")

RETRY_DELAYS_SECONDS = (60.0, 120.0)
"""Lambda's wait before the first and the second retry of a failed asynchronous invocation."""

RETRIES_EXHAUSTED = "RetriesExhausted"
EVENT_AGE_EXCEEDED = "EventAgeExceeded"
SUCCESS = "Success"


@dataclass(frozen=True)
class InvocationOutcome:
    """How an asynchronous invocation ended: `condition` is one of the three above."""

    request_id: str
    condition: str
    attempts: int
    invocation: Invocation | None


def invocation_record(
    function_arn: str,
    event: Any,
    outcome: InvocationOutcome,
    now: float,
) -> dict[str, Any]:
    """What Lambda sends to an asynchronous invocation's destination."""
    invocation = outcome.invocation
    response_context: dict[str, Any] = {"statusCode": 200, "executedVersion": "$LATEST"}
    record: dict[str, Any] = {
        "version": "1.0",
        "timestamp": datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
        "requestContext": {
            "requestId": outcome.request_id,
            "functionArn": f"{function_arn}:$LATEST",
            "condition": outcome.condition,
            "approximateInvokeCount": outcome.attempts,
        },
        "requestPayload": event,
        "responseContext": response_context,
    }
    if invocation is not None:
        if invocation.ok:
            record["responsePayload"] = invocation.result
        else:
            response_context["functionError"] = "Unhandled"
            record["responsePayload"] = invocation.error
    return record


class AsyncInvoker:
    """Lambda's asynchronous event queue for the deployed functions.

    `read_config` reads a function's settings (blocking; run off the event loop) each time an
    event is queued; `sqs` is a boto3 client of the AWS API emulator for the destinations.
    """

    def __init__(
        self,
        invoke: Invoke,
        functions: Mapping[str, DeployedFunction],
        read_config: Callable[[str], AsyncInvokeConfig],
        sqs: Any,
        time_scale: float = 1.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if time_scale <= 0:
            raise ValueError("time_scale must be positive")
        self._invoke = invoke
        self._functions = functions
        self._read_config = read_config
        self._sqs = sqs
        self._scale = time_scale
        self._clock = clock
        self._tasks: set[asyncio.Task[InvocationOutcome]] = set()

    def submit(self, function_name: str, event: Any) -> str:
        """Queue `event` for `function_name` (a deployed function); returns the request id."""
        request_id = str(uuid.uuid4())
        task = asyncio.create_task(self.run(function_name, event, request_id))
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        return request_id

    def _finished(self, task: asyncio.Task[InvocationOutcome]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("asynchronous invocation failed", exc_info=task.exception())

    async def run(self, function_name: str, event: Any, request_id: str) -> InvocationOutcome:
        """Every attempt of one queued event, then its destination."""
        config = await asyncio.to_thread(self._read_config, function_name)
        queued_at = self._clock()
        attempts = 0
        invocation: Invocation | None = None
        while True:
            age = (self._clock() - queued_at) * self._scale
            if attempts and age > config.maximum_event_age_seconds:
                outcome = InvocationOutcome(request_id, EVENT_AGE_EXCEEDED, attempts, invocation)
                break
            invocation = await self._invoke(function_name, event, request_id=request_id)
            attempts += 1
            if invocation.ok:
                outcome = InvocationOutcome(request_id, SUCCESS, attempts, invocation)
                break
            if attempts > config.maximum_retry_attempts:
                outcome = InvocationOutcome(request_id, RETRIES_EXHAUSTED, attempts, invocation)
                break
            delay = RETRY_DELAYS_SECONDS[min(attempts, len(RETRY_DELAYS_SECONDS)) - 1]
            await asyncio.sleep(delay / self._scale)
        await self._deliver(function_name, event, outcome, config)
        return outcome

    async def _deliver(
        self, function_name: str, event: Any, outcome: InvocationOutcome, config: AsyncInvokeConfig
    ) -> None:
        succeeded = outcome.condition == SUCCESS
        destination = config.on_success if succeeded else config.on_failure
        if not succeeded:
            log.warning(
                "async invoke %s %s after %d attempts (request %s)%s",
                function_name,
                outcome.condition,
                outcome.attempts,
                outcome.request_id,
                f" → {destination}" if destination else ": event dropped",
            )
        if destination is None:
            return
        if not is_queue_arn(destination):
            log.warning("destination %s of %s is not SQS; not emulated", destination, function_name)
            return
        function_arn = self._functions[function_name].arn
        record = invocation_record(function_arn, event, outcome, self._clock())
        await send_to_queue(self._sqs, destination, record)

    async def idle(self) -> None:
        """Wait until every queued event has run to its end (retries and destination included)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self) -> None:
        """Drop what is still queued or waiting for a retry, as a stopped emulator must."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
