"""Property-based: for random connection sets, segment counts, gone connections and failing
workers, the sharded fan-out gives every live connection each message at most once and in
stream order; the connections of a segment that did not fail get every message; and a message
is reported unreached exactly when no connection received it.

Segment 0 is posted in this process; the others by the packaged fanout_worker handler, called
as Lambda's Invoke would, or failing as a failed invocation does (moto runs no functions).
"""

from __future__ import annotations

import itertools
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.lambda_zip import load_module
from tests.unit.helpers import channels_env, connection

TABLE = "PropertyConnections"
PROPERTY_SETTINGS = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
_examples = itertools.count()


class Workers:
    """The worker invocations: the packaged handler, or a failure for the segments in
    `failing`."""

    def __init__(self, worker, failed) -> None:
        self.worker = worker
        self.failed = failed
        self.failing: set[int] = set()

    def invoke(self, payload: bytes, deadline=None):
        request = json.loads(payload)
        if request["segment"] in self.failing:
            raise self.failed("Unhandled: Task timed out")
        return json.loads(json.dumps(self.worker.handler(request, None)))


@pytest.fixture
def table(make_connections_table):
    return make_connections_table(TABLE)


@pytest.fixture
def fan_out(load, table, fake_api):
    """`fan_out(connections_per_worker, max_workers)`: a ShardedFanOut and its workers."""
    env = {"CHANNELS": channels_env(history=(TABLE, fake_api.endpoint()))}
    worker = load("fanout_worker", **env)
    sharding = load_module("stream_processor", "incident_ws.sharding")
    config = load_module("stream_processor", "incident_ws.config")
    stream_config = config.load_stream_config(
        {**env, "ROUTES": json.dumps({"incident": ["history"]}), "AWS_REGION": "us-east-1"}
    )

    def make(connections_per_worker: int, max_workers: int):
        share = config.ShardingConfig("worker", connections_per_worker, max_workers)
        workers = Workers(worker, sharding.WorkerFailed)
        sharded = sharding.ShardedFanOut(sharding.FanOut(stream_config), share, workers)
        return sharding, sharded, workers

    return make


@given(
    connections=st.integers(min_value=0, max_value=24),
    connections_per_worker=st.integers(min_value=1, max_value=10),
    max_workers=st.integers(min_value=1, max_value=6),
    message_count=st.integers(min_value=1, max_value=4),
    gone=st.sets(st.integers(min_value=0, max_value=23), max_size=4),
    failing=st.sets(st.integers(min_value=1, max_value=5), max_size=3),
)
@PROPERTY_SETTINGS
def test_each_live_connection_gets_each_message_at_most_once_in_order(
    fan_out,
    table,
    fake_api,
    connections,
    connections_per_worker,
    max_workers,
    message_count,
    gone,
    failing,
):
    example = next(_examples)
    with table.batch_writer() as batch:
        for item in table.scan()["Items"]:
            batch.delete_item(Key={"connectionId": item["connectionId"]})
    ids = [f"e{example}-c{n:02}" for n in range(connections)]
    for connection_id in ids:
        table.put_item(Item=connection(connection_id))
    fake_api.gone(*[ids[n] for n in gone if n < connections])
    sharding, sharded, workers = fan_out(connections_per_worker, max_workers)
    workers.failing = failing
    messages = [
        sharding.Message("incident", f'{{"n":{n},"e":{example}}}'.encode(), id=f"m{n}")
        for n in range(message_count)
    ]

    total = sharded.plan(["history"])["history"]
    segment_of = {
        item["connectionId"]: index
        for index in range(total)
        for item in table.meta.client.scan(TableName=TABLE, Segment=index, TotalSegments=total)[
            "Items"
        ]
    }

    reports, plan = sharded.send({"history": messages})

    assert plan == {"history": total}
    bodies = [m.body for m in messages]
    for connection_id in ids:
        received = fake_api.bodies(connection_id)
        live = connection_id not in {ids[n] for n in gone if n < connections}
        failed = segment_of[connection_id] in failing
        assert received == (bodies if live and not failed else []), connection_id
    report = reports["history"]
    reached = {b for c in ids for b in fake_api.bodies(c)}
    if report.incomplete:
        assert {m.body for m in report.unreached()} == set(bodies) - reached
    assert report.counts.delivered == sum(len(fake_api.bodies(c)) for c in ids)
