"""Run deployed functions from their deployed zips, each in a pool of warm worker processes.

An invocation takes an idle warm worker of its function, or starts a new one while the function
has fewer than its concurrency limit: its reserved concurrency when it has one, else
`DEFAULT_CONCURRENCY` (`serve --function-concurrency`). At the limit, an invocation made with
`throttle=True` (what a client's synchronous `Invoke` is) is answered at once with Lambda's
throttle, `TooManyRequestsException`, and the function does not run; any other (event sources,
API Gateway, asynchronous invocations) waits for a worker to be free, as Lambda's own retries of
a throttled event-source or asynchronous invocation would let it run later.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
import os
import sys
import tempfile
import time
import uuid
import zipfile
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from dev.emulator import EMULATOR_CREDENTIALS
from dev.emulator.control_plane import DeployedFunction
from dev.emulator.embedded_metrics import InvalidEmf, MetricStore

log = logging.getLogger("emulator.lambda")

_WORKER = Path(__file__).with_name("lambda_worker.py")
EMULATED_SERVICE_ENDPOINTS = ("AWS_ENDPOINT_URL_LAMBDA", "AWS_ENDPOINT_URL_EVENTBRIDGE")
_MAX_LINE = 64 * 1024 * 1024

DEFAULT_CONCURRENCY = 10
"""Workers a function without a reserved concurrency may have at once (Lambda's account-wide
limit, 1,000 by default, would be more processes than a laptop runs)."""

THROTTLED = "TooManyRequestsException"
RESERVED_LIMIT = "ReservedFunctionConcurrentInvocationLimitExceeded"
ACCOUNT_LIMIT = "ConcurrentInvocationLimitExceeded"


@dataclass(frozen=True)
class Invocation:
    function_name: str
    request_id: str
    duration_ms: float
    result: Any = None
    error: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def throttled(self) -> bool:
        """Refused at the function's concurrency limit: the function did not run."""
        return self.error is not None and self.error.get("errorType") == THROTTLED


class Invoke(Protocol):
    """Invoke a deployed function by name with an event; what event sources are given.
    `request_id` is the invocation's id (a fresh one when None): Lambda keeps it for every
    retry of an asynchronous invocation."""

    def __call__(
        self, function_name: str, event: Any, request_id: str | None = None
    ) -> Awaitable[Invocation]: ...


class _Worker:
    """A warm worker of one function; invocations are serialised, like one Lambda instance."""

    def __init__(
        self,
        function: DeployedFunction,
        code_dir: Path,
        environment: dict[str, str],
        metrics: MetricStore,
    ):
        self.function = function
        self.code_dir = code_dir
        self.environment = environment
        self.metrics = metrics
        self.lock = asyncio.Lock()
        self.process: asyncio.subprocess.Process | None = None
        self._log_pump: asyncio.Task[None] | None = None

    async def _start(self) -> asyncio.subprocess.Process:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            str(_WORKER),
            cwd=self.code_dir,
            env=self.environment,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            limit=_MAX_LINE,
        )
        self._log_pump = asyncio.create_task(self._pump_logs(self.process))
        return self.process

    async def _pump_logs(self, process: asyncio.subprocess.Process) -> None:
        assert process.stderr is not None
        async for raw in process.stderr:
            line = raw.decode(errors="replace").rstrip()
            log.info("[%s] %s", self.function.name, line)
            self._extract_metrics(line)

    def _extract_metrics(self, line: str) -> None:
        """As CloudWatch Logs does with the function's log: EMF lines become metrics, and
        stay log lines."""
        try:
            self.metrics.add_line(line)
        except InvalidEmf as error:
            log.warning("[%s] EMF line not extracted as metrics: %s", self.function.name, error)

    async def invoke(self, event: Any, request_id: str) -> Invocation:
        async with self.lock:
            timeout = self.function.timeout_seconds
            started = time.monotonic()
            try:
                response = await asyncio.wait_for(self._call(event, request_id), timeout)
            except TimeoutError:
                await self.stop()
                response = {
                    "error": {
                        "errorType": "Sandbox.Timedout",
                        "errorMessage": f"Task timed out after {timeout:.2f} seconds",
                    }
                }
            except (ConnectionError, EOFError) as exc:
                await self.stop()
                response = {"error": {"errorType": "Runtime.ExitError", "errorMessage": str(exc)}}
            except asyncio.CancelledError:
                # The worker may still answer this request; it must not answer the next one.
                await self.stop()
                raise
            return Invocation(
                function_name=self.function.name,
                request_id=request_id,
                duration_ms=(time.monotonic() - started) * 1000,
                result=response.get("result"),
                error=response.get("error"),
            )

    async def _call(self, event: Any, request_id: str) -> dict[str, Any]:
        process = self.process
        if process is None or process.returncode is not None:
            process = await self._start()
        assert process.stdin is not None and process.stdout is not None
        deadline_ms = int(time.time() * 1000) + self.function.timeout_seconds * 1000
        request = {"event": event, "requestId": request_id, "deadlineMs": deadline_ms}
        process.stdin.write(json.dumps(request).encode() + b"\n")
        await process.stdin.drain()
        line = await process.stdout.readline()
        if not line:
            code = await process.wait()
            raise EOFError(f"worker exited with status {code} during the invocation")
        return json.loads(line)

    async def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None and process.returncode is None:
            process.kill()
            await process.wait()
        if self._log_pump is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._log_pump


class _Pool:
    """One function's warm workers: at most `limit` of them, each running one invocation at a
    time; the most recently used idle one is reused first, so that few stay warm."""

    def __init__(self, start: Callable[[], _Worker], limit: int, reason: str) -> None:
        self._start = start
        self.limit = limit
        self.reason = reason
        self._slots = asyncio.Semaphore(limit)
        self._idle: list[_Worker] = []
        self.workers: list[_Worker] = []

    @property
    def full(self) -> bool:
        return self._slots.locked()

    async def invoke(self, event: Any, request_id: str) -> Invocation:
        async with self._slots:
            worker = self._idle.pop() if self._idle else self._new_worker()
            try:
                return await worker.invoke(event, request_id)
            finally:
                self._idle.append(worker)

    def _new_worker(self) -> _Worker:
        worker = self._start()
        self.workers.append(worker)
        return worker

    async def stop(self) -> None:
        await asyncio.gather(*(worker.stop() for worker in self.workers))


class LambdaRunner:
    """Invokes deployed functions by name.

    `environments` holds each function's deployed environment after endpoint rewriting; the
    runner adds what the Lambda runtime sets and what reaching the emulator needs: the AWS API
    emulator for every service, and `emulator_url` for Lambda and EventBridge, which the
    emulator serves itself (`Invoke`, `PutEvents`). Workers run on the emulator's own Python
    (with its boto3), not the deployed runtime's version. The metrics of the EMF lines in the
    functions' output go to `metrics`. `concurrency` is the limit of a function without a
    reserved concurrency.
    """

    def __init__(
        self,
        functions: Mapping[str, DeployedFunction],
        environments: Mapping[str, Mapping[str, str]],
        aws_endpoint: str,
        region: str,
        emulator_url: str | None = None,
        metrics: MetricStore | None = None,
        concurrency: int = DEFAULT_CONCURRENCY,
    ) -> None:
        self.metrics = metrics if metrics is not None else MetricStore()
        self._functions = functions
        self._environments = environments
        self._aws_endpoint = aws_endpoint
        self._region = region
        self._emulator_url = emulator_url
        self._concurrency = concurrency
        self._root = tempfile.TemporaryDirectory(prefix="emulator-lambda-")
        self._pools: dict[str, _Pool] = {}

    def runtime_environment(self, function: DeployedFunction, code_dir: Path) -> dict[str, str]:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "C.UTF-8",
            "TZ": ":UTC",
            "PYTHONUNBUFFERED": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
            "LAMBDA_TASK_ROOT": str(code_dir),
            "_HANDLER": function.handler,
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{function.runtime}",
            "AWS_LAMBDA_FUNCTION_NAME": function.name,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_mb),
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function.name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": f"local/[$LATEST]{uuid.uuid4().hex}",
            "EMULATOR_FUNCTION_ARN": function.arn,
            "AWS_REGION": self._region,
            "AWS_DEFAULT_REGION": self._region,
            **EMULATOR_CREDENTIALS,
            "AWS_ENDPOINT_URL": self._aws_endpoint,
        }
        if function.log_level:
            env["AWS_LAMBDA_LOG_LEVEL"] = function.log_level
        env.update(self._environments.get(function.name, function.environment))
        if self._emulator_url:
            # The services the emulator answers itself (the SDKs' per-service endpoint variables).
            env.update(dict.fromkeys(EMULATED_SERVICE_ENDPOINTS, self._emulator_url))
        return env

    def _pool(self, name: str) -> _Pool:
        pool = self._pools.get(name)
        if pool is None:
            function = self._functions[name]
            code_dir = Path(self._root.name) / name
            code_dir.mkdir()
            with zipfile.ZipFile(io.BytesIO(function.zip_bytes)) as archive:
                archive.extractall(code_dir)

            def start() -> _Worker:
                # Each worker is an instance of its own, with a log stream of its own.
                environment = self.runtime_environment(function, code_dir)
                return _Worker(function, code_dir, environment, self.metrics)

            if function.reserved_concurrency is not None:
                pool = _Pool(start, function.reserved_concurrency, RESERVED_LIMIT)
            else:
                pool = _Pool(start, self._concurrency, ACCOUNT_LIMIT)
            self._pools[name] = pool
        return pool

    async def invoke(
        self,
        function_name: str,
        event: Any,
        request_id: str | None = None,
        *,
        throttle: bool = False,
    ) -> Invocation:
        """Run the function; with `throttle`, answer Lambda's throttle at once instead of
        waiting when every worker it may have is busy."""
        request_id = request_id or str(uuid.uuid4())
        if function_name not in self._functions:
            log.warning("invoke %s: no such function was deployed", function_name)
            error = {
                "errorType": "ResourceNotFoundException",
                "errorMessage": f"Function not found: {function_name}",
            }
            return Invocation(function_name, request_id, 0.0, error=error)
        pool = self._pool(function_name)
        if throttle and pool.full:
            log.warning(
                "invoke %s throttled: %d invocations running (%s)",
                function_name,
                pool.limit,
                pool.reason,
            )
            error = {
                "errorType": THROTTLED,
                "errorMessage": "Rate Exceeded.",
                "Reason": pool.reason,
            }
            return Invocation(function_name, request_id, 0.0, error=error)
        invocation = await pool.invoke(event, request_id)
        if invocation.ok:
            log.info("invoke %s %.0f ms ok", function_name, invocation.duration_ms)
        else:
            assert invocation.error is not None
            log.warning(
                "invoke %s %.0f ms error %s: %s",
                function_name,
                invocation.duration_ms,
                invocation.error.get("errorType"),
                invocation.error.get("errorMessage"),
            )
        return invocation

    async def close(self) -> None:
        await asyncio.gather(*(pool.stop() for pool in self._pools.values()))
        self._pools.clear()
        self._root.cleanup()
