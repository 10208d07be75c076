"""Poll a DynamoDB stream for one event source mapping and invoke its function like Lambda does.

Per shard, records are read in order, filtered by the mapping's criteria, and delivered in
batches of at most `BatchSize`. A batch is finished before the next one starts (the shard's
checkpoint): on success; or when the records that keep failing are discarded to the on-failure
destination after `MaximumRetryAttempts`, or because they are older than
`MaximumRecordAgeInSeconds`. With `ReportBatchItemFailures` the checkpoint moves to the first
reported sequence number and only the rest is retried; with `BisectBatchOnFunctionError` a
failing batch is split in two and each half retried, the halves inheriting the attempt count
(so a poison record is isolated without retrying its neighbours indefinitely).
"""

from __future__ import annotations

import asyncio
import base64
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from dev.emulator.control_plane import StreamMapping
from dev.emulator.filters import matches_any
from dev.emulator.lambda_runner import Invocation, Invoke
from dev.emulator.queues import is_queue_arn, send_to_queue

log = logging.getLogger("emulator.streams")

Record = dict[str, Any]

_READ_LIMIT = 1000
_SHARD_REFRESH_SECONDS = 10.0


def _jsonable(value: Any) -> Any:
    """boto3's view of a stream record → the JSON Lambda puts in `Records`."""
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, datetime):
        return int(value.timestamp())
    return value


def lambda_record(raw: dict[str, Any], stream_arn: str) -> Record:
    """A record of GetRecords as Lambda delivers it: with `eventSourceARN`, and `userIdentity`
    (on TTL deletes) with the event's member names `type` and `principalId`."""
    record = _jsonable(raw)
    record["eventSourceARN"] = stream_arn
    identity = record.get("userIdentity")
    if isinstance(identity, dict):
        record["userIdentity"] = {
            "type": identity.get("Type"),
            "principalId": identity.get("PrincipalId"),
        }
    return record


def _sequence_number(record: Record) -> str:
    return record["dynamodb"]["SequenceNumber"]


def _iso(epoch_seconds: float) -> str:
    return datetime.fromtimestamp(epoch_seconds, UTC).isoformat(timespec="milliseconds")


def first_failed_index(
    mapping: StreamMapping, batch: list[Record], invocation: Invocation
) -> int | None:
    """Index of the first record to retry, or None when the batch succeeded."""
    if not invocation.ok:
        return 0
    result = invocation.result
    if not mapping.report_batch_item_failures or not isinstance(result, dict):
        return None
    failures = result.get("batchItemFailures") or []
    if not failures:
        return None
    positions = {_sequence_number(r): i for i, r in enumerate(batch)}
    try:
        return min(positions[failure["itemIdentifier"]] for failure in failures)
    except (KeyError, TypeError):
        # Lambda treats an identifier that is missing, empty or not in the batch as a
        # failure of the whole batch.
        return 0


@dataclass
class StreamPoller:
    """Lambda's poller for one mapping: `streams` and `sqs` are boto3 clients of the emulator."""

    mapping: StreamMapping
    streams: Any
    sqs: Any
    invoke: Invoke
    poll_interval: float = 0.2
    clock: Callable[[], float] = time.time
    _iterators: dict[str, str | None] = field(default_factory=dict, init=False)
    _opened: bool = field(default=False, init=False)

    async def run(self) -> None:
        """Poll until cancelled; errors are logged and polling goes on."""
        log.info(
            "polling %s for %s (batch %d)",
            self.mapping.stream_arn,
            self.mapping.function_name,
            self.mapping.batch_size,
        )
        refreshed = time.monotonic()
        while True:
            try:
                if not self._opened:
                    await self.open_shards()
                delivered = await self.poll_once()
                if time.monotonic() - refreshed > _SHARD_REFRESH_SECONDS:
                    await self._discover_shards("TRIM_HORIZON")
                    refreshed = time.monotonic()
            except Exception:
                log.exception("polling %s failed; retrying", self.mapping.stream_arn)
                delivered = 0
            if not delivered:
                await asyncio.sleep(self.poll_interval)

    async def open_shards(self) -> None:
        """Position on every current shard at the mapping's starting position."""
        await self._discover_shards(self.mapping.starting_position)
        self._opened = True

    async def _discover_shards(self, position: str) -> None:
        """Start new shards at `position` (the mapping's own position for the first ones)."""
        description = await asyncio.to_thread(
            self.streams.describe_stream, StreamArn=self.mapping.stream_arn
        )
        for shard in description["StreamDescription"]["Shards"]:
            if shard["ShardId"] in self._iterators:
                continue
            response = await asyncio.to_thread(
                self.streams.get_shard_iterator,
                StreamArn=self.mapping.stream_arn,
                ShardId=shard["ShardId"],
                ShardIteratorType=position,
            )
            self._iterators[shard["ShardId"]] = response["ShardIterator"]

    async def poll_once(self) -> int:
        """Read every open shard once and deliver what passes the filters; returns records read."""
        read = 0
        for shard_id, iterator in list(self._iterators.items()):
            if iterator is None:
                continue
            response = await asyncio.to_thread(
                self.streams.get_records, ShardIterator=iterator, Limit=_READ_LIMIT
            )
            self._iterators[shard_id] = response.get("NextShardIterator")
            records = [lambda_record(r, self.mapping.stream_arn) for r in response["Records"]]
            read += len(records)
            kept = [r for r in records if matches_any(self.mapping.filter_patterns, r)]
            size = self.mapping.batch_size
            for start in range(0, len(kept), size):
                await self.deliver(shard_id, kept[start : start + size])
        return read

    async def deliver(self, shard_id: str, batch: list[Record], attempts: int = 0) -> None:
        """Process one batch until it succeeds or its failing records are discarded."""
        while batch:
            batch = await self._discard_expired(shard_id, batch, attempts)
            if not batch:
                return
            invocation = await self.invoke(self.mapping.function_name, {"Records": batch})
            failed_at = first_failed_index(self.mapping, batch, invocation)
            if failed_at is None:
                return
            attempts += 1
            batch = batch[failed_at:]
            retries = self.mapping.maximum_retry_attempts
            if 0 <= retries < attempts:
                await self._discard(shard_id, batch, "RetryAttemptsExhausted", attempts, invocation)
                return
            if self.mapping.bisect_on_error and not invocation.ok and len(batch) > 1:
                half = len(batch) // 2
                await self.deliver(shard_id, batch[:half], attempts)
                await self.deliver(shard_id, batch[half:], attempts)
                return
            await asyncio.sleep(self.poll_interval)

    async def _discard_expired(
        self, shard_id: str, batch: list[Record], attempts: int
    ) -> list[Record]:
        max_age = self.mapping.maximum_record_age_seconds
        if max_age < 0:
            return batch
        now = self.clock()
        expired = [r for r in batch if now - r["dynamodb"]["ApproximateCreationDateTime"] > max_age]
        if expired:
            await self._discard(shard_id, expired, "RecordAgeExceeded", attempts, None)
        return [r for r in batch if r not in expired]

    async def _discard(
        self,
        shard_id: str,
        records: list[Record],
        condition: str,
        attempts: int,
        invocation: Invocation | None,
    ) -> None:
        first, last = records[0], records[-1]
        log.warning(
            "discarding %d records %s..%s of %s (%s)",
            len(records),
            _sequence_number(first),
            _sequence_number(last),
            self.mapping.function_name,
            condition,
        )
        message = failure_message(
            self.mapping, shard_id, records, condition, attempts, invocation, self.clock()
        )
        destination = self.mapping.on_failure_arn
        if not destination:
            return
        if not is_queue_arn(destination):
            log.warning("on-failure destination %s is not SQS; not emulated", destination)
            return
        await send_to_queue(self.sqs, destination, message)


def failure_message(
    mapping: StreamMapping,
    shard_id: str,
    records: list[Record],
    condition: str,
    attempts: int,
    invocation: Invocation | None,
    now: float,
) -> dict[str, Any]:
    """The invocation record Lambda sends to a stream mapping's on-failure destination."""
    response_context: dict[str, Any] = {"statusCode": 200, "executedVersion": "$LATEST"}
    if invocation is not None and not invocation.ok:
        response_context["functionError"] = "Unhandled"
    first, last = records[0], records[-1]
    return {
        "requestContext": {
            "requestId": str(uuid.uuid4()),
            "functionArn": mapping.function_arn,
            "condition": condition,
            "approximateInvokeCount": attempts,
        },
        "responseContext": response_context,
        "version": "1.0",
        "timestamp": _iso(now),
        "DDBStreamBatchInfo": {
            "shardId": shard_id,
            "startSequenceNumber": _sequence_number(first),
            "endSequenceNumber": _sequence_number(last),
            "approximateArrivalOfFirstRecord": _iso(
                first["dynamodb"]["ApproximateCreationDateTime"]
            ),
            "approximateArrivalOfLastRecord": _iso(last["dynamodb"]["ApproximateCreationDateTime"]),
            "batchSize": len(records),
            "streamArn": mapping.stream_arn,
        },
    }
