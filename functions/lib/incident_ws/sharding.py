"""Sharing a large channel's fan-out with worker invocations (docs/handlers.md, "Sharded
fan-out").

A channel whose estimated connections are more than one invocation posts to within its budget
is read as S parallel-Scan segments: segment 0 here, beside the other channels, and each other
segment by a synchronous invocation of the fan-out worker, all at once. Segments hold disjoint
connections, so each connection still gets the batch's messages in stream order from one pass.
The segments' reports merge into the channel's: a message counts as delivered when any segment
delivered it, and a worker that failed or did not answer in time counts as a segment whose
pass was incomplete and delivered nothing.
"""

from __future__ import annotations

import json
import logging
import math
import random
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import replace
from typing import Any, Protocol

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from .config import ShardingConfig
from .connection_store import ConnectionStore, ScanSegment
from .connections_sender import Backoff
from .deadline import NO_DEADLINE, Deadline
from .fanout import ChannelReport, DeliveryCounts, FanOut
from .fanout_requests import RequestError, decode_report, requests_within
from .limits import (
    DEADLINE_MARGIN_SECONDS,
    ITEM_COUNT_REFRESH_SECONDS,
    LONGEST_POST_OVERRUN_SECONDS,
    MAX_WORKER_REQUEST_BYTES,
    WORKER_THROTTLE_BACKOFF_BASE_SECONDS,
    WORKER_THROTTLE_BACKOFF_CAP_SECONDS,
    WORKER_THROTTLE_MAX_RETRIES,
)
from .logs import log_event
from .messages import Message

logger = logging.getLogger(__name__)

__all__ = [
    "ConnectionEstimates",
    "LambdaWorkers",
    "ShardedFanOut",
    "WorkerFailed",
    "merge_segments",
    "segment_count",
]


class WorkerFailed(RuntimeError):
    """A worker invocation that gave no report: not invoked, failed, or no valid answer."""


class Workers(Protocol):
    def invoke(self, payload: bytes, deadline: Deadline = NO_DEADLINE) -> Any:
        """The worker's decoded JSON answer to `payload`; raises WorkerFailed. Nothing that
        may have run the worker is tried again after `deadline`."""


# Lambda answers these before the function runs (at its concurrency limit; EC2 throttling the
# set-up of the execution environment): invoking it again cannot post anything twice.
THROTTLES = frozenset({"TooManyRequestsException", "EC2ThrottledException"})
THROTTLE_BACKOFF = Backoff(
    max_retries=WORKER_THROTTLE_MAX_RETRIES,
    base_seconds=WORKER_THROTTLE_BACKOFF_BASE_SECONDS,
    cap_seconds=WORKER_THROTTLE_BACKOFF_CAP_SECONDS,
)


class LambdaWorkers:
    """Synchronous invocations of the fan-out worker function. An invocation Lambda throttled
    is invoked again after a backoff while the deadline allows; any other failure is never
    retried: a worker that ran (or may have: a timeout, a lost answer) may have posted, and a
    second run would post again."""

    def __init__(
        self,
        function_name: str,
        max_workers: int,
        client: Any = None,
        backoff: Backoff = THROTTLE_BACKOFF,
        rng: random.Random | None = None,
    ) -> None:
        self.function_name = function_name
        self.backoff = backoff
        self._rng = rng or random.Random()
        self._client = client or boto3.session.Session().client(
            "lambda",
            config=Config(
                connect_timeout=2,
                read_timeout=900,  # Lambda's longest timeout; the deadline bounds the wait
                retries={"mode": "standard", "total_max_attempts": 1},
                max_pool_connections=max(10, max_workers),
            ),
        )

    def invoke(self, payload: bytes, deadline: Deadline = NO_DEADLINE) -> Any:
        retry = 0
        while True:
            try:
                response = self._client.invoke(
                    FunctionName=self.function_name,
                    InvocationType="RequestResponse",
                    Payload=payload,
                )
                body = response["Payload"].read()
                break
            except ClientError as error:
                delay = self._throttle_backoff(error, retry, deadline)
                if delay is None:
                    raise WorkerFailed(repr(error)) from None
                retry += 1
                log_event(
                    logger,
                    logging.WARNING,
                    "fan_out_worker_throttled",
                    function=self.function_name,
                    retry=retry,
                    reason=error.response.get("Reason"),
                    delayMs=round(delay * 1000),
                )
                time.sleep(delay)
            except BotoCoreError as error:
                raise WorkerFailed(repr(error)) from None
        if response.get("FunctionError"):
            raise WorkerFailed(
                f"{response['FunctionError']}: {body[:512].decode(errors='replace')}"
            )
        try:
            return json.loads(body)
        except ValueError:
            raise WorkerFailed(f"the answer is not JSON: {body[:512]!r}") from None

    def _throttle_backoff(self, error: ClientError, retry: int, deadline: Deadline) -> float | None:
        """How long to wait before invoking again after `error`; None: not again."""
        if error.response.get("Error", {}).get("Code") not in THROTTLES:
            return None
        delay = self.backoff.delay(retry, self._rng)
        if retry >= self.backoff.max_retries or not deadline.allows(delay):
            return None
        return delay


def segment_count(estimate: int, sharding: ShardingConfig) -> int:
    """How many segments a channel of `estimate` connections is read as: enough for each to
    hold about `connections_per_worker`, at most `max_workers`, at least 1."""
    needed = math.ceil(max(0, estimate) / sharding.connections_per_worker)
    return max(1, min(sharding.max_workers, needed))


class ConnectionEstimates:
    """How many connections a channel has, as far as a broadcast can tell without reading it:
    the larger of DynamoDB's item count (DescribeTable: refreshed about every six hours, and
    counting expired rows not yet deleted; asked again after ITEM_COUNT_REFRESH_SECONDS) and
    the connections this container's last broadcast read. An estimate too high costs idle
    workers; one too low costs a pass that outlives the timeout, so the larger one is used."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._item_counts: dict[str, tuple[float, int]] = {}
        self._last_read: dict[str, int] = {}

    def estimate(self, key: str, store: ConnectionStore) -> int:
        return max(self._item_count(key, store), self._last_read.get(key, 0))

    def read(self, key: str, connections: int) -> None:
        """What a broadcast to the channel read."""
        self._last_read[key] = connections

    def _item_count(self, key: str, store: ConnectionStore) -> int:
        now = self._clock()
        asked = self._item_counts.get(key)
        if asked is not None and now - asked[0] < ITEM_COUNT_REFRESH_SECONDS:
            return asked[1]
        try:
            count = store.item_count()
        except (BotoCoreError, ClientError, KeyError, ValueError) as error:
            log_event(
                logger,
                logging.WARNING,
                "connection_count_unknown",
                channel=key,
                table=store.table,
                error=repr(error),
            )
            return asked[1] if asked is not None else 0
        self._item_counts[key] = (now, count)
        return count


class ShardedFanOut:
    """`FanOut.send`, with each channel too large for one invocation shared with workers."""

    def __init__(
        self,
        fan_out: FanOut,
        sharding: ShardingConfig | None,
        workers: Workers | None = None,
        estimates: ConnectionEstimates | None = None,
    ) -> None:
        self.fan_out = fan_out
        self.sharding = sharding
        self.workers = workers
        if sharding is not None and workers is None:
            self.workers = LambdaWorkers(sharding.worker_function, sharding.max_workers)
        self.estimates = estimates or ConnectionEstimates()

    def plan(self, keys: Sequence[str]) -> dict[str, int]:
        """Each channel key's segment count."""
        if self.sharding is None:
            return dict.fromkeys(keys, 1)
        channels = self.fan_out.channels
        return {
            key: segment_count(
                self.estimates.estimate(
                    key, ConnectionStore(self.fan_out.dynamodb, channels[key].table)
                ),
                self.sharding,
            )
            for key in keys
        }

    def send(
        self, messages: Mapping[str, Sequence[Message]], deadline: Deadline = NO_DEADLINE
    ) -> tuple[dict[str, ChannelReport], dict[str, int]]:
        """Each channel key's report, and how many segments it was read as."""
        plan = self.plan(list(messages))
        remote = [
            (key, ScanSegment(index, total))
            for key, total in plan.items()
            for index in range(1, total)
        ]
        # A worker stops early enough that its posts and Scan page in flight end, and its
        # answer arrives, before this invocation's own deadline.
        worker_deadline = deadline.earlier(DEADLINE_MARGIN_SECONDS).to_epoch()
        executor = ThreadPoolExecutor(max(1, len(remote)))
        try:
            futures = [
                (
                    key,
                    segment,
                    executor.submit(self._remote, key, segment, messages[key], worker_deadline),
                )
                for key, segment in remote
            ]
            local = {key: ScanSegment(0, total) for key, total in plan.items() if total > 1}
            reports = self.fan_out.send(messages, deadline, local)
            parts: dict[str, list[ChannelReport]] = {key: [reports[key]] for key in local}
            for key, segment, future in futures:
                parts[key].append(self._answer(key, segment, messages[key], future, deadline))
        finally:
            executor.shutdown(wait=False, cancel_futures=True)
        for key, segment_reports in parts.items():
            reports[key] = merge_segments(segment_reports)
        for key, report in reports.items():
            self.estimates.read(key, report.connections)
        return reports, plan

    def _remote(
        self, key: str, segment: ScanSegment, messages: Sequence[Message], deadline: float | None
    ) -> ChannelReport:
        """One segment through the worker: one invocation per request that fits Lambda's
        payload limit, one after another so that each connection's messages stay in order."""
        channel_messages = tuple(messages)
        table = self.fan_out.channels[key].table
        reports = []
        try:
            for request, payload in requests_within(
                key, segment, channel_messages, deadline, MAX_WORKER_REQUEST_BYTES
            ):
                answer = self.workers.invoke(payload, Deadline.from_epoch(deadline))
                if isinstance(answer, dict) and "error" in answer:
                    raise WorkerFailed(f"the worker refused the request: {answer['error']}")
                report = decode_report(answer, request, channel_messages, table)
                reports.append(report)
                if report.incomplete:
                    break  # the later messages would reach fewer connections than earlier ones
        except (WorkerFailed, RequestError) as error:
            reports.append(self._failed(key, segment, channel_messages, str(error)))
        return merge_requests(reports)

    def _answer(
        self,
        key: str,
        segment: ScanSegment,
        messages: Sequence[Message],
        future: Future,
        deadline: Deadline,
    ) -> ChannelReport:
        timeout = None if deadline.at is None else deadline.at - time.monotonic()
        try:
            return future.result(
                None if timeout is None else max(0.0, timeout) + LONGEST_POST_OVERRUN_SECONDS
            )
        except FutureTimeout:
            return self._failed(key, segment, tuple(messages), "no answer before the deadline")
        except Exception as error:  # one segment's fault must not fail the others
            return self._failed(key, segment, tuple(messages), repr(error))

    def _failed(
        self, key: str, segment: ScanSegment, messages: tuple[Message, ...], error: str
    ) -> ChannelReport:
        log_event(
            logger,
            logging.ERROR,
            "fan_out_worker_failed",
            channel=key,
            segment=segment.index,
            totalSegments=segment.total,
            error=error,
        )
        return ChannelReport(
            key,
            self.fan_out.channels[key].table,
            0,
            DeliveryCounts(),
            messages,
            incomplete=(f"worker failed: {error}",),
        )


def merge_segments(reports: Sequence[ChannelReport]) -> ChannelReport:
    """One channel's report from its segments' (segment 0 first): connections and counts add
    up, a message is delivered when any segment delivered it (at the latest such time), and
    the pass is incomplete when any segment's was, each reason naming its segment."""
    incomplete = tuple(
        f"segment {n}: {reason}" for n, report in enumerate(reports) for reason in report.incomplete
    )
    return _merge(reports, sum(r.connections for r in reports), incomplete)


def merge_requests(reports: Sequence[ChannelReport]) -> ChannelReport:
    """One segment's report from its consecutive requests' (each read the segment again)."""
    incomplete = tuple(reason for report in reports for reason in report.incomplete)
    return _merge(reports, max(r.connections for r in reports), incomplete)


def _merge(
    reports: Sequence[ChannelReport], connections: int, incomplete: tuple[str, ...]
) -> ChannelReport:
    counts = DeliveryCounts()
    delivered_at: dict[int, float] = {}
    for report in reports:
        counts.add(report.counts)
        for position, at in report.delivered_at.items():
            delivered_at[position] = max(at, delivered_at.get(position, at))
    return replace(
        reports[0],
        connections=connections,
        counts=counts,
        delivered_at=delivered_at,
        unreadable=next((r.unreadable for r in reports if r.unreadable), None),
        incomplete=incomplete,
        failure=next((r.failure for r in reports if r.failure), None),
        seconds=max(r.seconds for r in reports),
    )
