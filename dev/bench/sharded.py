"""The sharded fan-out in `make bench`: the stream processor reads one segment of the channel and
hands the others to fan-out worker invocations, which the emulator runs in parallel.

The fan-out worker is deployed into the benchmark's moto from `functions/dist/fanout_worker.zip`
with the environment `modules/fan-out` gives it (`CHANNELS`, `MAX_CONCURRENCY`) and the module's
default timeout; the emulator (`dev/harness/emulator.py`) serves its `Invoke`, and the stream
processor reaches it through `AWS_ENDPOINT_URL_LAMBDA`. The workers' CPU time is read from
`/proc` (every process of the emulator's process group but the emulator itself), and each
segment's connections from the `fan_out_segment_processed` lines in the emulator's log.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from dev.harness.emulator import EmulatorServer, start_emulator
from dev.harness.paths import FUNCTION_PACKAGES_DIR

WORKER_FUNCTION = "bench-fanout-worker"
WORKER_PACKAGE = FUNCTION_PACKAGES_DIR / "fanout_worker.zip"
# The module's defaults: the stream processor's timeout, and the worker's (10 s less).
STREAM_PROCESSOR_TIMEOUT_S = 60
WORKER_TIMEOUT_S = STREAM_PROCESSOR_TIMEOUT_S - 10
# Sizes above this are broadcast through the sharded path: the one a deployment takes above
# `fan_out_sharding.connections_per_worker`, and the only one that splits the table's read,
# which one moto process serves slowly. 3 segments is the most whose parallel Scan pages moto
# answered within the handlers' 2 s read timeout at 100,000 rows on 2 busy cores (7 never did).
SHARDING_THRESHOLD = 15_000
DEFAULT_SEGMENTS = 3
_SEGMENT_LINE = re.compile(r"fan_out_segment_processed (\{.*\})\s*$", re.MULTILINE)
_SUMMARY_LINE = re.compile(r"stream_batch_processed (\{.*\})\s*$", re.MULTILINE)


def sharding_environment(connections: int, segments: int) -> dict[str, str]:
    """The stream processor's FAN_OUT_* variables that split `connections` into `segments`."""
    return {
        "FAN_OUT_WORKER_FUNCTION": WORKER_FUNCTION,
        "FAN_OUT_CONNECTIONS_PER_WORKER": str(math.ceil(connections / segments)),
        "FAN_OUT_MAX_WORKERS": str(segments),
    }


class Workers:
    """The deployed worker function and the emulator that runs it."""

    def __init__(self, emulator: EmulatorServer) -> None:
        self.emulator = emulator
        self.url = emulator.url
        self.log = emulator.process.output

    def warm(self, count: int) -> None:
        """Start `count` warm workers (each answers an empty request with its refusal): on
        Lambda each worker's cold start has a CPU of its own, here it would compete with moto
        serving the first Scan pages."""
        client = boto3.client(
            "lambda",
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=Config(read_timeout=120, retries={"total_max_attempts": 1}),
        )

        def refused(_: int) -> Any:
            answer = client.invoke(FunctionName=WORKER_FUNCTION, Payload=b"{}")
            return json.loads(answer["Payload"].read())

        with ThreadPoolExecutor(count) as threads:
            answers = list(threads.map(refused, range(count)))
        if not all(isinstance(answer, dict) and "error" in answer for answer in answers):
            raise RuntimeError(f"the fan-out worker did not start as expected: {answers[:2]}")

    def cpu_seconds(self) -> float:
        """CPU time of the emulator's worker processes so far (the living ones)."""
        leader = self.emulator.process.popen.pid
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError, ValueError, IndexError):
                fields = stat.read_text().rpartition(")")[2].split()
                # after the command: state, ppid, pgrp, ... utime (14th field), stime (15th)
                if int(fields[2]) == leader and int(stat.parent.name) != leader:
                    total += int(fields[11]) + int(fields[12])
        return total / ticks

    def log_size(self) -> int:
        return self.log.stat().st_size

    def segment_reports(self, since: int, expected: int, wait_s: float = 10.0) -> list[dict]:
        """The `fan_out_segment_processed` fields logged after byte `since`, waiting for the
        emulator to have read `expected` of them from its workers."""
        deadline = time.monotonic() + wait_s
        while True:
            with self.log.open("rb") as log:
                log.seek(since)
                text = log.read().decode(errors="replace")
            reports = [json.loads(match) for match in _SEGMENT_LINE.findall(text)]
            if len(reports) >= expected or time.monotonic() > deadline:
                return sorted(reports, key=lambda report: report["segment"])
            time.sleep(0.1)


@contextlib.contextmanager
def deployed_workers(
    lambda_client: Any,
    iam_client: Any,
    moto_url: str,
    region: str,
    environment: dict[str, str],
    concurrency: int,
    log: Path,
) -> Iterator[Workers]:
    """The worker function (re)deployed with `environment`, and an emulator serving it with up
    to `concurrency` workers at once."""
    with contextlib.suppress(lambda_client.exceptions.ResourceNotFoundException):
        lambda_client.delete_function(FunctionName=WORKER_FUNCTION)
    lambda_client.create_function(
        FunctionName=WORKER_FUNCTION,
        Runtime="python3.12",
        Role=_role(iam_client),
        Handler="handler.handler",
        Code={"ZipFile": WORKER_PACKAGE.read_bytes()},
        Timeout=WORKER_TIMEOUT_S,
        Environment={"Variables": environment},
    )
    server = start_emulator(
        moto_url,
        log,
        region=region,
        code_dirs=[FUNCTION_PACKAGES_DIR],
        extra_args=["--function-concurrency", str(concurrency)],
    )
    with server:
        yield Workers(server)


def _role(iam_client: Any) -> str:
    name = "bench-fanout-worker"
    with contextlib.suppress(iam_client.exceptions.EntityAlreadyExistsException):
        iam_client.create_role(RoleName=name, AssumeRolePolicyDocument="{}")
    return iam_client.get_role(RoleName=name)["Role"]["Arn"]


def channel_summary(stream_processor_log: str) -> dict[str, Any]:
    """The channel entry of the stream processor's `stream_batch_processed` line."""
    [summary] = [json.loads(match) for match in _SUMMARY_LINE.findall(stream_processor_log)]
    [channel] = summary["channels"].values()
    return channel
