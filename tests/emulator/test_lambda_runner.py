"""Deployed zips run in pools of warm worker processes with their environment, timeout, logs and
concurrency limit."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from typing import Any

from dev.emulator.control_plane import DeployedFunction
from dev.emulator.lambda_runner import (
    ACCOUNT_LIMIT,
    RESERVED_LIMIT,
    THROTTLED,
    Invocation,
    LambdaRunner,
)

from .conftest import zip_of

HANDLER = """
import os, time

def handler(event, context):
    print("handling", event.get("n"))
    if event.get("fail"):
        raise ValueError("bad event")
    started = time.time()
    time.sleep(event.get("sleep", 0))
    return {
        "started": started,
        "ended": time.time(),
        "pid": os.getpid(),
        "env": {k: os.environ.get(k) for k in event.get("env", [])},
        "function": context.function_name,
        "remaining": context.get_remaining_time_in_millis(),
    }
"""


def function(
    name: str = "fn", files: dict[str, str] | None = None, timeout: int = 3
) -> DeployedFunction:
    return DeployedFunction(
        name=name,
        arn=f"arn:aws:lambda:us-east-1:123456789012:function:{name}",
        handler="handler.handler",
        runtime="python3.12",
        timeout_seconds=timeout,
        memory_mb=128,
        environment={"TABLE": "deployed"},
        code_sha256="",
        zip_bytes=zip_of(files or {"handler.py": HANDLER}),
    )


def invoke_all(
    fn: DeployedFunction,
    *events: Any,
    environment: dict[str, str] | None = None,
    emulator_url: str | None = None,
    request_id: str | None = None,
) -> list[Invocation]:
    async def scenario() -> list[Invocation]:
        environments = {fn.name: environment} if environment is not None else {}
        runner = LambdaRunner(
            {fn.name: fn}, environments, "http://127.0.0.1:5999", "eu-west-1", emulator_url
        )
        try:
            return [await runner.invoke(fn.name, event, request_id) for event in events]
        finally:
            await runner.close()

    return asyncio.run(asyncio.wait_for(scenario(), 30))


def test_the_handler_result_is_returned():
    (invocation,) = invoke_all(function(), {"n": 1})

    assert invocation.ok
    assert invocation.result["function"] == "fn"
    assert 0 < invocation.result["remaining"] <= 3000


def test_the_function_sees_its_environment_plus_the_emulator_variables():
    names = [
        "TABLE",
        "AWS_ENDPOINT_URL",
        "AWS_REGION",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_ACCESS_KEY_ID",
    ]

    (invocation,) = invoke_all(function(), {"env": names}, environment={"TABLE": "rewritten"})

    assert invocation.result["env"] == {
        "TABLE": "rewritten",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:5999",
        "AWS_REGION": "eu-west-1",
        "AWS_LAMBDA_FUNCTION_NAME": "fn",
        "AWS_ACCESS_KEY_ID": "test",
    }


def test_lambda_and_eventbridge_calls_of_the_function_reach_the_emulator():
    names = ["AWS_ENDPOINT_URL_LAMBDA", "AWS_ENDPOINT_URL_EVENTBRIDGE", "AWS_ENDPOINT_URL"]
    deployed_endpoint = {"AWS_ENDPOINT_URL_LAMBDA": "https://lambda.eu-west-1.amazonaws.com"}

    (invocation,) = invoke_all(
        function(),
        {"env": names},
        environment=deployed_endpoint,
        emulator_url="http://127.0.0.1:7000",
    )

    assert invocation.result["env"] == {
        "AWS_ENDPOINT_URL_LAMBDA": "http://127.0.0.1:7000",
        "AWS_ENDPOINT_URL_EVENTBRIDGE": "http://127.0.0.1:7000",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:5999",
    }


def test_an_invocation_keeps_the_request_id_it_is_given():
    (invocation,) = invoke_all(function(), {}, request_id="retry-of-7")

    assert invocation.request_id == "retry-of-7"


def test_the_worker_stays_warm_between_invocations():
    first, second = invoke_all(function(), {}, {})

    assert first.result["pid"] == second.result["pid"]


def invoke_concurrently(
    fn: DeployedFunction, *events: Any, throttle: bool = False, concurrency: int = 10
) -> list[Invocation]:
    """Every event invoked at once (in this order), as concurrent callers would."""

    async def scenario() -> list[Invocation]:
        runner = LambdaRunner(
            {fn.name: fn}, {}, "http://127.0.0.1:5999", "eu-west-1", concurrency=concurrency
        )
        try:
            return await asyncio.gather(
                *(runner.invoke(fn.name, event, throttle=throttle) for event in events)
            )
        finally:
            await runner.close()

    return asyncio.run(asyncio.wait_for(scenario(), 30))


def test_concurrent_invocations_run_at_the_same_time_in_workers_of_their_own():
    invocations = invoke_concurrently(function(), *[{"sleep": 0.3}] * 3)

    assert all(invocation.ok for invocation in invocations)
    results = [invocation.result for invocation in invocations]
    assert len({result["pid"] for result in results}) == 3
    # Each one started before any other ended.
    assert max(r["started"] for r in results) < min(r["ended"] for r in results)


def test_a_synchronous_invoke_at_the_concurrency_limit_is_throttled_and_does_not_run(caplog):
    caplog.set_level(logging.INFO, logger="emulator.lambda")

    running, refused = invoke_concurrently(
        function(name="busy"), {"sleep": 0.3, "n": 1}, {"n": 2}, throttle=True, concurrency=1
    )

    assert running.ok
    assert refused.throttled
    assert refused.error == {
        "errorType": THROTTLED,
        "errorMessage": "Rate Exceeded.",
        "Reason": ACCOUNT_LIMIT,
    }
    assert "[busy] handling 2" not in caplog.messages


def test_a_reserved_concurrency_is_the_functions_limit():
    reserved = dataclasses.replace(function(), reserved_concurrency=2)

    invocations = invoke_concurrently(reserved, *[{"sleep": 0.3}] * 3, throttle=True)

    assert [invocation.ok for invocation in invocations] == [True, True, False]
    assert invocations[2].error["Reason"] == RESERVED_LIMIT


def test_invocations_of_event_sources_wait_for_a_free_worker_at_the_limit():
    first, second = invoke_concurrently(function(), {"sleep": 0.3}, {}, concurrency=1)

    assert first.ok and second.ok
    assert second.result["started"] >= first.result["ended"]
    assert second.result["pid"] == first.result["pid"]


def test_a_raised_exception_is_reported_as_the_invocation_error():
    (invocation,) = invoke_all(function(), {"fail": True})

    assert not invocation.ok
    assert invocation.error["errorType"] == "ValueError"
    assert invocation.error["errorMessage"] == "bad event"


def test_a_timed_out_invocation_is_killed_and_the_next_one_starts_a_new_worker():
    slow, after = invoke_all(function(timeout=1), {"sleep": 30}, {})

    assert slow.error["errorType"] == "Sandbox.Timedout"
    assert slow.duration_ms < 5000
    assert after.ok


def test_a_handler_that_cannot_be_imported_reports_an_import_error():
    (invocation,) = invoke_all(function(files={"handler.py": "import missing_module\n"}), {})

    assert invocation.error["errorType"] == "Runtime.ImportModuleError"
    assert "missing_module" in invocation.error["errorMessage"]


def test_a_result_that_is_not_json_is_a_marshal_error():
    files = {"handler.py": "def handler(event, context):\n    return {1, 2}\n"}

    (invocation,) = invoke_all(function(files=files), {})

    assert invocation.error["errorType"] == "Runtime.MarshalError"


def test_function_output_is_logged_with_the_function_name(caplog):
    caplog.set_level(logging.INFO, logger="emulator.lambda")

    invoke_all(function(name="printer"), {"n": 42})

    assert "[printer] handling 42" in caplog.messages


def test_each_invocation_is_logged_with_its_outcome(caplog):
    caplog.set_level(logging.INFO, logger="emulator.lambda")

    invoke_all(function(name="logged"), {}, {"fail": True})

    summaries = [m for m in caplog.messages if m.startswith("invoke logged")]
    assert len(summaries) == 2
    assert summaries[0].endswith(" ok")
    assert summaries[1].endswith("error ValueError: bad event")


def test_invoking_a_function_that_was_not_deployed_is_an_error_not_a_crash():
    async def scenario() -> Invocation:
        runner = LambdaRunner({}, {}, "http://127.0.0.1:5999", "eu-west-1")
        try:
            return await runner.invoke("missing", {})
        finally:
            await runner.close()

    invocation = asyncio.run(scenario())

    assert invocation.error["errorType"] == "ResourceNotFoundException"


# Prints what a handler of this product prints: log lines, then its EMF line, then a broken one.
EMF_PRINTER = """
import json, logging

def handler(event, context):
    logging.getLogger("app").warning("delivering")
    print(json.dumps({
        "_aws": {"Timestamp": 1795444801234, "CloudWatchMetrics": [{
            "Namespace": "Test", "Dimensions": [["Function"]],
            "Metrics": [{"Name": "Delivered", "Unit": "Count"}]}]},
        "Function": "emf", "Delivered": event["delivered"]}))
    print(json.dumps({"_aws": {"Timestamp": 1795444801234, "CloudWatchMetrics": [{
        "Namespace": "Test", "Dimensions": [["Function"]],
        "Metrics": [{"Name": "Broken", "Unit": "Count"}]}]}, "Function": "emf"}))
    print("done")
    return {}
"""


def run_emf_printer(*events: Any) -> tuple[list[Invocation], dict[str, Any]]:
    fn = function(name="emf", files={"handler.py": EMF_PRINTER})

    async def scenario() -> tuple[list[Invocation], dict[str, Any]]:
        runner = LambdaRunner({fn.name: fn}, {}, "http://127.0.0.1:5999", "eu-west-1")
        try:
            invocations = [await runner.invoke(fn.name, event) for event in events]
        finally:
            await runner.close()  # after the worker's last output was read
        return invocations, runner.metrics.summary()

    return asyncio.run(asyncio.wait_for(scenario(), 30))


def test_emf_lines_of_the_function_output_become_metrics():
    invocations, summary = run_emf_printer({"delivered": 2}, {"delivered": 3})

    assert all(invocation.ok for invocation in invocations)
    assert [(s["metric"], s["dimensions"], s["count"], s["sum"]) for s in summary["metrics"]] == [
        ("Delivered", {"Function": "emf"}, 2, 5)
    ]


def test_emf_lines_stay_in_the_function_log(caplog):
    caplog.set_level(logging.INFO, logger="emulator.lambda")

    run_emf_printer({"delivered": 2})

    logged = [m for m in caplog.messages if m.startswith("[emf] ")]
    assert logged[0] == "[emf] WARNING app delivering"
    assert '"Delivered": 2' in logged[1]
    assert logged[-1] == "[emf] done"


def test_a_malformed_emf_line_is_logged_as_such_and_the_function_goes_on(caplog):
    caplog.set_level(logging.INFO, logger="emulator.lambda")

    invocations, summary = run_emf_printer({"delivered": 1}, {"delivered": 1})

    assert [invocation.ok for invocation in invocations] == [True, True]
    refusals = [m for m in caplog.messages if "EMF line not extracted" in m]
    assert (
        refusals
        == ["[emf] EMF line not extracted as metrics: Broken: value None is not a number"] * 2
    )
    assert summary["rejectedLines"] == 2
