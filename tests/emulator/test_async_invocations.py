"""Lambda's asynchronous invocations: retries, event age, and the invocation record sent to an
SQS destination (moto's SQS); the function is a stub."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest

from dev.emulator.async_invocations import (
    EVENT_AGE_EXCEEDED,
    RETRIES_EXHAUSTED,
    SUCCESS,
    AsyncInvoker,
    InvocationOutcome,
)
from dev.emulator.control_plane import AsyncInvokeConfig, DeployedFunction

from .conftest import REGION, StubInvoker, deployed_function

FUNCTION = "worker"
ARN = f"arn:aws:lambda:{REGION}:123456789012:function:{FUNCTION}"
EVENT = {"detail-type": "Order Placed", "detail": {"order": 7}}
# One minute of Lambda's retry wait passes in 6 ms.
TIME_SCALE = 10_000


def deployed() -> dict[str, DeployedFunction]:
    return {FUNCTION: deployed_function(FUNCTION)}


@pytest.fixture
def queues(aws_client: Callable[[str], Any]) -> dict[str, Any]:
    sqs = aws_client("sqs")
    found: dict[str, Any] = {"sqs": sqs}
    for name in ("failures", "successes"):
        url = sqs.create_queue(QueueName=name)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
        found[name] = {"url": url, "arn": arn["QueueArn"]}
    return found


def fails(times: int) -> Callable[[str, Any], Any]:
    """A function that raises on its first `times` invocations, then succeeds."""
    calls = 0

    def respond(_name: str, _event: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls <= times:
            raise RuntimeError(f"attempt {calls} failed")
        return {"handled": calls}

    return respond


def run(
    queues: dict[str, Any],
    invoke: StubInvoker,
    config: AsyncInvokeConfig,
    clock: Callable[[], float] | None = None,
) -> InvocationOutcome:
    async def scenario() -> InvocationOutcome:
        extra = {"clock": clock} if clock else {}
        invoker = AsyncInvoker(
            invoke, deployed(), lambda _name: config, queues["sqs"], TIME_SCALE, **extra
        )
        try:
            return await invoker.run(FUNCTION, EVENT, "request-1")
        finally:
            await invoker.close()

    return asyncio.run(asyncio.wait_for(scenario(), 20))


def records(queues: dict[str, Any], name: str) -> list[dict[str, Any]]:
    response = queues["sqs"].receive_message(QueueUrl=queues[name]["url"], MaxNumberOfMessages=10)
    return [json.loads(message["Body"]) for message in response.get("Messages", [])]


def with_destinations(queues: dict[str, Any], **settings: Any) -> AsyncInvokeConfig:
    return AsyncInvokeConfig(
        on_failure=queues["failures"]["arn"], on_success=queues["successes"]["arn"], **settings
    )


def test_a_failing_event_is_retried_twice_by_default_then_sent_to_the_failure_destination(queues):
    invoke = StubInvoker(fails(times=10))

    outcome = run(queues, invoke, with_destinations(queues))

    assert (outcome.condition, outcome.attempts) == (RETRIES_EXHAUSTED, 3)
    assert len(invoke.events_of(FUNCTION)) == 3
    [record] = records(queues, "failures")
    assert record["requestContext"] == {
        "requestId": "request-1",
        "functionArn": f"{ARN}:$LATEST",
        "condition": "RetriesExhausted",
        "approximateInvokeCount": 3,
    }
    assert record["requestPayload"] == EVENT
    assert record["responseContext"] == {
        "statusCode": 200,
        "executedVersion": "$LATEST",
        "functionError": "Unhandled",
    }
    assert record["responsePayload"]["errorMessage"] == "attempt 3 failed"
    assert record["version"] == "1.0"
    assert records(queues, "successes") == []


def test_every_attempt_runs_with_the_same_request_id(queues):
    invoke = StubInvoker(fails(times=10))

    run(queues, invoke, with_destinations(queues))

    assert invoke.request_ids == ["request-1"] * 3


def test_maximum_retry_attempts_bounds_the_attempts(queues):
    invoke = StubInvoker(fails(times=10))

    outcome = run(queues, invoke, with_destinations(queues, maximum_retry_attempts=0))

    assert (outcome.condition, outcome.attempts) == (RETRIES_EXHAUSTED, 1)
    [record] = records(queues, "failures")
    assert record["requestContext"]["approximateInvokeCount"] == 1


def test_an_event_that_succeeds_on_a_retry_goes_to_the_success_destination(queues):
    invoke = StubInvoker(fails(times=1))

    outcome = run(queues, invoke, with_destinations(queues))

    assert (outcome.condition, outcome.attempts) == (SUCCESS, 2)
    [record] = records(queues, "successes")
    assert record["requestContext"]["condition"] == "Success"
    assert record["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST"}
    assert record["responsePayload"] == {"handled": 2}
    assert records(queues, "failures") == []


def test_an_event_older_than_the_maximum_age_is_not_retried(queues):
    """The first retry waits a minute: an event allowed 60 s is too old by then."""
    invoke = StubInvoker(fails(times=10))

    outcome = run(queues, invoke, with_destinations(queues, maximum_event_age_seconds=60))

    assert (outcome.condition, outcome.attempts) == (EVENT_AGE_EXCEEDED, 1)
    [record] = records(queues, "failures")
    assert record["requestContext"]["condition"] == "EventAgeExceeded"
    assert record["requestPayload"] == EVENT


def test_the_event_age_runs_on_the_scaled_clock(queues):
    """With a clock that has not moved, no amount of waiting ages the event."""
    invoke = StubInvoker(fails(times=10))

    outcome = run(
        queues, invoke, with_destinations(queues, maximum_event_age_seconds=60), clock=lambda: 0.0
    )

    assert (outcome.condition, outcome.attempts) == (RETRIES_EXHAUSTED, 3)


def test_without_a_destination_a_failed_event_is_dropped(queues):
    invoke = StubInvoker(fails(times=10))

    outcome = run(queues, invoke, AsyncInvokeConfig())

    assert outcome.condition == RETRIES_EXHAUSTED
    assert records(queues, "failures") == []
