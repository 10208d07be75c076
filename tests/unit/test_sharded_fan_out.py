"""A channel with more connections than one invocation posts to is shared with fan-out workers:
parallel-Scan segments, segment 0 in the stream processor, the others by worker invocations.

Lambda's Invoke is the one fake here (moto runs functions only in Docker): `WorkerLambda`
answers with the packaged fanout_worker handler, on the same moto tables and fake
`@connections` API, or fails as Lambda reports a failed invocation.
"""

from __future__ import annotations

import io
import json
import threading

import boto3
import pytest
from botocore.exceptions import ClientError, ReadTimeoutError

from dev.harness.lambda_context import LambdaContext
from tests.support.lambda_zip import load_module
from tests.support.stream_records import IncidentTable
from tests.unit.helpers import LIMITS, channels_env, connection, parse_log_event

TABLE = "HistoryConnections"
WORKER = "incident-ws-fanout-worker"
ROUTES = json.dumps({"incident": ["history"], "remediation": ["history"]})


def throttle() -> ClientError:
    """What botocore raises for Lambda's 429 at the function's reserved concurrency."""
    return ClientError(
        {
            "Error": {"Code": "TooManyRequestsException", "Message": "Rate Exceeded."},
            "Reason": "ReservedFunctionConcurrentInvocationLimitExceeded",
            "ResponseMetadata": {"HTTPStatusCode": 429},
        },
        "Invoke",
    )


class WorkerLambda:
    """Lambda's Invoke of the worker: one invocation at a time (one warm worker), answered by
    the packaged handler, except for the segments told to fail, and the first `throttles`
    calls, refused before the function runs (or `raising` everything, if set)."""

    def __init__(self, worker) -> None:
        self.worker = worker
        self.requests: list[dict] = []
        self.failing: set[int] = set()
        self.hanging = threading.Event()  # set: the invocations hang until it is cleared
        self.released = threading.Event()
        self.throttles = 0
        self.refused = 0
        self.raising: Exception | None = None
        self._lock = threading.Lock()

    def invoke(self, FunctionName: str, InvocationType: str, Payload: bytes) -> dict:
        assert (FunctionName, InvocationType) == (WORKER, "RequestResponse")
        request = json.loads(Payload)
        with self._lock:
            if self.raising is not None or self.refused < self.throttles:
                self.refused += 1
                raise self.raising or throttle()
        if self.hanging.is_set():
            self.released.wait(30)
        with self._lock:
            self.requests.append(request)
            if request["segment"] in self.failing:
                error = {"errorMessage": "Task timed out after 50.00 seconds"}
                return {
                    "FunctionError": "Unhandled",
                    "Payload": io.BytesIO(json.dumps(error).encode()),
                }
            answer = self.worker.handler(request, None)
        return {"Payload": io.BytesIO(json.dumps(answer).encode())}


@pytest.fixture
def history(make_connections_table):
    return make_connections_table(TABLE)


@pytest.fixture
def incidents():
    return IncidentTable()


@pytest.fixture
def worker(load, history, fake_api):
    return load("fanout_worker", CHANNELS=channels_env(history=(TABLE, fake_api.endpoint())))


@pytest.fixture
def sharded(load, history, fake_api, worker):
    """`sharded(connections_per_worker, max_workers)`: the stream processor with the worker."""

    def make(connections_per_worker: int, max_workers: int = 10):
        processor = load(
            "stream_processor",
            CHANNELS=channels_env(history=(TABLE, fake_api.endpoint())),
            ROUTES=ROUTES,
            FAN_OUT_WORKER_FUNCTION=WORKER,
            FAN_OUT_CONNECTIONS_PER_WORKER=str(connections_per_worker),
            FAN_OUT_MAX_WORKERS=str(max_workers),
        )
        lambda_ = WorkerLambda(worker)
        workers = type(processor.SHARDED_FAN_OUT.workers)
        processor.SHARDED_FAN_OUT.workers = workers(WORKER, max_workers, client=lambda_)
        return processor, lambda_

    return make


def add_connections(table, count: int) -> list[str]:
    ids = [f"c{n:03}" for n in range(count)]
    for connection_id in ids:
        table.put_item(Item=connection(connection_id))
    return ids


def summary(caplog) -> dict:
    [line] = parse_log_event(caplog, "stream_batch_processed")
    return line


def segment_of(history, total: int) -> dict[str, int]:
    """Which segment of `total` each connection is read in."""
    client = history.meta.client
    return {
        item["connectionId"]: index
        for index in range(total)
        for item in client.scan(TableName=TABLE, Segment=index, TotalSegments=total)["Items"]
    }


def test_a_channel_within_one_invocations_share_is_not_sharded(
    sharded, history, incidents, fake_api, caplog
):
    processor, lambda_ = sharded(connections_per_worker=10)
    ids = add_connections(history, 10)
    incidents.put({"incident_id": "i-1"})

    processor.handler(incidents.event(), None)

    assert lambda_.requests == []
    assert {c: len(fake_api.bodies(c)) for c in ids} == dict.fromkeys(ids, 1)
    assert "segments" not in summary(caplog)["channels"]["history"]


def test_a_channel_over_the_threshold_is_read_as_segments_each_connection_once(
    sharded, history, incidents, fake_api, caplog
):
    processor, lambda_ = sharded(connections_per_worker=3)
    ids = add_connections(history, 10)
    incidents.put({"incident_id": "i-1"})

    response = processor.handler(incidents.event(), None)

    assert response == {"batchItemFailures": []}
    assert sorted((r["segment"], r["totalSegments"]) for r in lambda_.requests) == [
        (1, 4),
        (2, 4),
        (3, 4),
    ]
    assert {c: len(fake_api.bodies(c)) for c in ids} == dict.fromkeys(ids, 1)
    channel = summary(caplog)["channels"]["history"]
    assert (channel["segments"], channel["connections"], channel["delivered"]) == (4, 10, 10)


def test_the_segment_count_is_capped_by_max_workers(sharded, history, incidents, fake_api):
    processor, lambda_ = sharded(connections_per_worker=1, max_workers=3)
    ids = add_connections(history, 10)
    incidents.put({"incident_id": "i-1"})

    processor.handler(incidents.event(), None)

    assert sorted(r["segment"] for r in lambda_.requests) == [1, 2]
    assert {r["totalSegments"] for r in lambda_.requests} == {3}
    assert {c: len(fake_api.bodies(c)) for c in ids} == dict.fromkeys(ids, 1)


def test_every_connection_gets_the_batch_in_stream_order_whichever_segment_reads_it(
    sharded, history, incidents, fake_api
):
    processor, _ = sharded(connections_per_worker=2)
    ids = add_connections(history, 8)
    for status in ("OPEN", "ACKNOWLEDGED", "CLOSED"):
        incidents.put({"incident_id": "i-1", "status": status})

    processor.handler(incidents.event(), None)

    for connection_id in ids:
        received = [json.loads(b)["status"] for b in fake_api.bodies(connection_id)]
        assert received == ["OPEN", "ACKNOWLEDGED", "CLOSED"], connection_id


def test_messages_over_the_payload_limit_go_to_a_worker_in_consecutive_requests_in_order(
    sharded, history, incidents, fake_api, monkeypatch
):
    processor, lambda_ = sharded(connections_per_worker=2, max_workers=2)
    ids = add_connections(history, 6)
    for status in ("OPEN", "ACKNOWLEDGED", "CLOSED"):
        incidents.put({"incident_id": "i-1", "status": status, "notes": "n" * 2000})
    # A request holds one of these messages and no more.
    remote = type(processor.SHARDED_FAN_OUT)._remote
    monkeypatch.setitem(remote.__globals__, "MAX_WORKER_REQUEST_BYTES", 4000)

    processor.handler(incidents.event(), None)

    assert [(r["segment"], r["first"], len(r["messages"])) for r in lambda_.requests] == [
        (1, 0, 1),
        (1, 1, 1),
        (1, 2, 1),
    ]
    for connection_id in ids:
        received = [json.loads(b)["status"] for b in fake_api.bodies(connection_id)]
        assert received == ["OPEN", "ACKNOWLEDGED", "CLOSED"], connection_id


def test_a_gone_connection_in_a_workers_segment_is_deleted(sharded, history, incidents, fake_api):
    processor, _ = sharded(connections_per_worker=2)
    ids = add_connections(history, 6)
    worker_read = [c for c, segment in segment_of(history, 3).items() if segment > 0]
    fake_api.gone(worker_read[0])
    incidents.put({"incident_id": "i-1"})

    processor.handler(incidents.event(), None)

    remaining = {item["connectionId"] for item in history.scan()["Items"]}
    assert remaining == set(ids) - {worker_read[0]}


def test_a_failed_worker_fails_no_record_that_another_segment_delivered(
    sharded, history, incidents, fake_api, caplog
):
    processor, lambda_ = sharded(connections_per_worker=2)
    add_connections(history, 6)
    lambda_.failing = {1}
    incidents.put({"incident_id": "i-1"})

    response = processor.handler(incidents.event(), None)

    assert response == {"batchItemFailures": []}
    segments = segment_of(history, 3)
    assert {c for c, s in segments.items() if fake_api.bodies(c)} == {
        c for c, s in segments.items() if s != 1
    }
    [failed] = parse_log_event(caplog, "fan_out_worker_failed")
    assert (failed["segment"], failed["totalSegments"]) == (1, 3)
    assert "worker failed" in summary(caplog)["channels"]["history"]["error"]


def test_a_record_is_failed_when_no_segment_delivered_it(sharded, history, incidents, fake_api):
    processor, lambda_ = sharded(connections_per_worker=2, max_workers=2)
    add_connections(history, 4)
    fake_api.gone(*[c for c, s in segment_of(history, 2).items() if s == 0])
    lambda_.failing = {1}
    incidents.put({"incident_id": "i-1"})
    event = incidents.event()

    response = processor.handler(event, None)

    sequence = event["Records"][0]["dynamodb"]["SequenceNumber"]
    assert response == {"batchItemFailures": [{"itemIdentifier": sequence}]}


def test_a_worker_that_has_not_answered_by_the_deadline_counts_as_a_failed_segment(
    sharded, history, incidents, fake_api, caplog
):
    processor, lambda_ = sharded(connections_per_worker=2, max_workers=2)
    add_connections(history, 4)
    lambda_.hanging.set()
    incidents.put({"incident_id": "i-1"})
    # The deadline (7.5 s before the end) is a second away; the wait for answers ends 3.05 s
    # after it.
    context = LambdaContext(LIMITS.DEADLINE_MARGIN_SECONDS + 1)

    try:
        processor.handler(incidents.event(), context)
    finally:
        lambda_.released.set()

    [failed] = parse_log_event(caplog, "fan_out_worker_failed")
    assert failed["error"] == "no answer before the deadline"
    assert "segment 1: worker failed" in summary(caplog)["channels"]["history"]["error"]


def test_a_throttled_worker_invoke_is_invoked_again_and_its_segment_delivered_once(
    sharded, history, incidents, fake_api, caplog
):
    processor, lambda_ = sharded(connections_per_worker=5, max_workers=2)
    ids = add_connections(history, 10)
    lambda_.throttles = 2
    incidents.put({"incident_id": "i-1"})

    response = processor.handler(incidents.event(), None)

    assert response == {"batchItemFailures": []}
    assert lambda_.refused == 2
    assert [r["segment"] for r in lambda_.requests] == [1]
    assert {c: len(fake_api.bodies(c)) for c in ids} == dict.fromkeys(ids, 1)
    throttled = parse_log_event(caplog, "fan_out_worker_throttled")
    assert [line["retry"] for line in throttled] == [1, 2]
    assert throttled[0]["reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
    assert parse_log_event(caplog, "fan_out_worker_failed") == []


@pytest.mark.parametrize(
    "error",
    [
        ClientError({"Error": {"Code": "ServiceException", "Message": "internal error"}}, "Invoke"),
        ReadTimeoutError(endpoint_url="https://lambda.us-east-1.amazonaws.com"),
    ],
    ids=["service exception", "read timeout"],
)
def test_a_worker_invoke_that_may_have_run_is_not_invoked_again(
    sharded, history, incidents, fake_api, caplog, error
):
    processor, lambda_ = sharded(connections_per_worker=5, max_workers=2)
    add_connections(history, 10)
    lambda_.raising = error
    incidents.put({"incident_id": "i-1"})

    processor.handler(incidents.event(), None)

    assert lambda_.refused == 1
    [failed] = parse_log_event(caplog, "fan_out_worker_failed")
    assert failed["segment"] == 1
    assert parse_log_event(caplog, "fan_out_worker_throttled") == []


def test_throttled_worker_invokes_stop_at_the_workers_deadline(
    sharded, history, incidents, fake_api, caplog
):
    processor, lambda_ = sharded(connections_per_worker=5, max_workers=2)
    add_connections(history, 10)
    lambda_.raising = throttle()
    incidents.put({"incident_id": "i-1"})
    # Workers are given the deadline less the margin: half a second from now.
    context = LambdaContext(2 * LIMITS.DEADLINE_MARGIN_SECONDS + 0.5)

    processor.handler(incidents.event(), context)

    [failed] = parse_log_event(caplog, "fan_out_worker_failed")
    assert "TooManyRequestsException" in failed["error"]
    assert lambda_.requests == []
    assert not context.timed_out()


def test_the_estimate_is_the_larger_of_the_item_count_and_the_last_read(history):
    sharding = load_module("stream_processor", "incident_ws.sharding")
    store = sharding.ConnectionStore(history.meta.client, TABLE)
    add_connections(history, 3)
    estimates = sharding.ConnectionEstimates(clock=lambda: 0.0)

    assert estimates.estimate("history", store) == 3
    estimates.read("history", 40)
    assert estimates.estimate("history", store) == 40
    estimates.read("history", 1)
    assert estimates.estimate("history", store) == 3


def test_the_item_count_is_asked_again_only_after_its_refresh_period(history):
    sharding = load_module("stream_processor", "incident_ws.sharding")
    limits = load_module("stream_processor", "incident_ws.limits")
    store = sharding.ConnectionStore(history.meta.client, TABLE)
    now = [0.0]
    estimates = sharding.ConnectionEstimates(clock=lambda: now[0])
    assert estimates.estimate("history", store) == 0
    add_connections(history, 5)

    now[0] = limits.ITEM_COUNT_REFRESH_SECONDS - 1
    assert estimates.estimate("history", store) == 0
    now[0] = limits.ITEM_COUNT_REFRESH_SECONDS
    assert estimates.estimate("history", store) == 5


def test_an_unreadable_item_count_is_logged_and_read_as_none(caplog):
    sharding = load_module("stream_processor", "incident_ws.sharding")
    store = sharding.ConnectionStore(boto3.client("dynamodb"), "NoSuchTable")

    assert sharding.ConnectionEstimates().estimate("history", store) == 0
    [unknown] = parse_log_event(caplog, "connection_count_unknown")
    assert unknown["table"] == "NoSuchTable"


@pytest.mark.parametrize(
    ("estimate", "expected"), [(0, 1), (100, 1), (101, 2), (1_000, 10), (100_000, 20)]
)
def test_segment_count_is_the_estimate_over_the_share_capped(estimate, expected):
    sharding = load_module("stream_processor", "incident_ws.sharding")
    config = load_module("stream_processor", "incident_ws.config")
    share = config.ShardingConfig(WORKER, connections_per_worker=100, max_workers=20)

    assert sharding.segment_count(estimate, share) == expected
