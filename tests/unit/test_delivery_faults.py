"""Broadcasts under faults: the deadline, the circuit breaker, and counting every re-send.

Faults are injected per connection by the fake `@connections` server and per Scan page by
botocore event hooks; every expectation is about what the handlers do and report, never about
how their transport works, so it holds for any sender.
"""

from __future__ import annotations

import json
import random
import socket

import pytest

from dev.harness.fake_connections_api import DROP, RESET, FakeConnectionsApi, Slow
from dev.harness.lambda_context import LambdaContext
from tests.support.events import schedule_event
from tests.support.stream_records import IncidentTable
from tests.unit.helpers import LIMITS, channels_env, connection, parse_log_event

ROUTES = json.dumps({"incident": ["history"], "remediation": ["history"]})
# Answered only after the client has given up waiting, and never delivered.
BLACK_HOLE = Slow(LIMITS.POST_READ_TIMEOUT_SECONDS + 1, status=504)


@pytest.fixture
def history(make_connections_table):
    return make_connections_table("HistoryConnections")


@pytest.fixture
def incidents():
    return IncidentTable()


def add_connections(table, connection_ids) -> None:
    with table.batch_writer() as batch:
        for connection_id in connection_ids:
            batch.put_item(Item=connection(connection_id))


def stream_processor(load, endpoint: str, **env: str):
    return load(
        "stream_processor",
        CHANNELS=channels_env(history=("HistoryConnections", endpoint)),
        ROUTES=ROUTES,
        **env,
    )


def summary_of(caplog, channel: str = "history") -> dict:
    [summary] = parse_log_event(caplog, "stream_batch_processed")
    return summary["channels"][channel]


def sequence_numbers(event: dict) -> list[dict]:
    return [{"itemIdentifier": r["dynamodb"]["SequenceNumber"]} for r in event["Records"]]


def closed_endpoint() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}/prod"


# -- the deadline ---------------------------------------------------------------------------


def test_a_black_holed_endpoint_is_left_at_the_deadline_before_lambda_stops_the_invocation(
    load, history, incidents, caplog
):
    ids = [f"c{n:03d}" for n in range(193)]
    add_connections(history, ids)
    incidents.put({"incident_id": "i-1"})
    # The deadline passes while the first posts still wait for an answer: none is retried.
    context = LambdaContext(LIMITS.DEADLINE_MARGIN_SECONDS + LIMITS.POST_READ_TIMEOUT_SECONDS)
    with FakeConnectionsApi() as black_hole:
        for connection_id in ids:
            black_hole.respond(connection_id, BLACK_HOLE)
        processor = stream_processor(load, black_hole.endpoint())

        processor.handler(incidents.event(), context)

        assert not context.timed_out()
        attempts = dict(black_hole.attempts)
    counts = summary_of(caplog)
    assert set(attempts.values()) == {1}  # no retry started after the deadline
    assert counts["failed"] == len(attempts)
    assert counts["unattempted"] == len(ids) - len(attempts) > 0
    assert "deadline" in counts["error"]


def test_a_record_that_reached_nobody_before_the_deadline_is_retried(
    load, history, incidents, fake_api, caplog
):
    add_connections(history, ["c1", "c2"])
    incidents.put({"incident_id": "i-1"})
    event = incidents.event()
    processor = stream_processor(load, fake_api.endpoint())

    response = processor.handler(event, LambdaContext(LIMITS.DEADLINE_MARGIN_SECONDS / 2))

    assert response == {"batchItemFailures": sequence_numbers(event)}
    assert fake_api.received == []
    assert "deadline" in summary_of(caplog)["error"]


def test_a_record_that_reached_some_connections_before_the_deadline_is_not_retried(
    load, history, incidents, caplog
):
    ids = [f"c{n:02d}" for n in range(20)]
    add_connections(history, ids)
    incidents.put({"incident_id": "i-1"})
    with FakeConnectionsApi() as slow_api:
        for connection_id in ids:
            slow_api.respond(connection_id, Slow(1.0))
        processor = stream_processor(load, slow_api.endpoint(), MAX_CONCURRENCY="2")

        response = processor.handler(
            incidents.event(), LambdaContext(LIMITS.DEADLINE_MARGIN_SECONDS + 3)
        )

    counts = summary_of(caplog)
    assert response == {"batchItemFailures": []}  # a retry would duplicate it where it arrived
    assert counts["delivered"] >= 1
    assert counts["unattempted"] >= 1
    assert counts["delivered"] + counts["failed"] + counts["unattempted"] == len(ids)
    [incomplete] = parse_log_event(caplog, "channel_failed")
    assert incomplete["unattempted"] == counts["unattempted"]


def test_an_invocation_without_a_lambda_context_has_no_deadline(
    load, history, incidents, fake_api, caplog
):
    add_connections(history, ["c1"])
    incidents.put({"incident_id": "i-1"})
    processor = stream_processor(load, fake_api.endpoint())

    response = processor.handler(incidents.event(), object())

    assert response == {"batchItemFailures": []}
    assert len(fake_api.received) == 1


def test_the_heartbeat_leaves_a_black_holed_channel_at_the_deadline(
    load, make_connections_table, fake_api, caplog
):
    ids = [f"e{n:03d}" for n in range(100)]
    add_connections(make_connections_table("events"), ids)
    for connection_id in ids:
        fake_api.respond(connection_id, BLACK_HOLE)
    context = LambdaContext(LIMITS.DEADLINE_MARGIN_SECONDS + 2)
    heartbeat = load(
        "heartbeat",
        CHANNELS=channels_env(events=("events", fake_api.endpoint())),
        MAX_CONCURRENCY="50",  # fewer slots than connections: some are never attempted
    )

    result = heartbeat.handler(schedule_event(), context)

    assert not context.timed_out()
    events = result["events"]
    assert events["sent"] == 0
    assert events["unattempted"] > 0
    assert events["failed"] + events["unattempted"] == len(ids)
    assert "deadline" in events["error"]
    [failure] = parse_log_event(caplog, "heartbeat_channel_failed")
    assert failure["unattempted"] == events["unattempted"]


# -- the circuit breaker --------------------------------------------------------------------


def test_an_endpoint_failing_post_after_post_opens_the_channels_breaker(
    load, history, incidents, fake_api, caplog
):
    ids = [f"c{n:03d}" for n in range(300)]
    add_connections(history, ids)
    for connection_id in ids:
        fake_api.respond(connection_id, 503)
    incidents.put({"incident_id": "i-1"})
    event = incidents.event()
    processor = stream_processor(load, fake_api.endpoint(), MAX_CONCURRENCY="4")

    response = processor.handler(event, None)

    counts = summary_of(caplog)
    # Once it opens, the posts in flight make no further retry and no other post starts.
    assert LIMITS.BREAKER_FAILED_POSTS <= counts["failed"] < LIMITS.BREAKER_FAILED_POSTS + 4
    assert counts["failed"] + counts["unattempted"] == len(ids)
    assert len(fake_api.attempts) == counts["failed"]
    assert sum(fake_api.attempts.values()) <= counts["failed"] * (LIMITS.POST_MAX_RETRIES + 1)
    assert "circuit breaker" in counts["error"]
    assert len(parse_log_event(caplog, "circuit_breaker_opened")) == 1
    assert response == {"batchItemFailures": sequence_numbers(event)}


def test_refusals_of_single_connections_do_not_open_the_breaker(
    load, history, incidents, fake_api, caplog
):
    ids = [f"c{n:02d}" for n in range(3 * LIMITS.BREAKER_FAILED_POSTS)]
    add_connections(history, ids)
    for connection_id in ids:
        fake_api.respond(connection_id, 403)
    incidents.put({"incident_id": "i-1"})
    processor = stream_processor(load, fake_api.endpoint())

    response = processor.handler(incidents.event(), None)

    counts = summary_of(caplog)
    assert counts["failed"] == len(ids)
    assert counts["unattempted"] == 0
    assert parse_log_event(caplog, "circuit_breaker_opened") == []
    assert response == {"batchItemFailures": []}


# -- counting every re-send -----------------------------------------------------------------


def test_every_re_send_is_counted_as_a_retry_as_the_endpoint_sees_it(
    load, history, incidents, fake_api, caplog
):
    ids = [f"c{n:03d}" for n in range(120)]
    add_connections(history, ids)
    scripts = ([RESET], [429, 500], [DROP], [])
    for n, connection_id in enumerate(ids):
        fake_api.script(connection_id, *scripts[n % len(scripts)])
    incidents.put({"incident_id": "i-1"})
    processor = stream_processor(load, fake_api.endpoint(), MAX_CONCURRENCY="4")

    processor.handler(incidents.event(), None)

    retries_seen = sum(fake_api.attempts.values()) - len(ids)
    assert retries_seen == 120
    assert summary_of(caplog)["retried"] == retries_seen


def test_a_peer_that_accepts_a_post_then_drops_the_connection_shows_its_duplicates(
    load, history, incidents, fake_api, caplog
):
    ids = [f"c{n:02d}" for n in range(40)]
    add_connections(history, ids)
    for connection_id in ids:
        fake_api.script(connection_id, DROP)
    incidents.put({"incident_id": "i-1"})
    processor = stream_processor(load, fake_api.endpoint())

    processor.handler(incidents.event(), None)

    copies = fake_api.stats()["connections"]
    assert copies == dict.fromkeys(ids, 2)
    counts = summary_of(caplog)
    assert counts["duplicates"] == sum(copies.values()) - len(ids)
    assert counts["delivered"] == len(ids)


def test_a_post_re_sent_after_a_read_timeout_is_counted_as_a_possible_duplicate(
    load, history, incidents, fake_api, caplog
):
    add_connections(history, ["c1"])
    fake_api.script("c1", Slow(LIMITS.POST_READ_TIMEOUT_SECONDS + 0.5))
    incidents.put({"incident_id": "i-1"})
    processor = stream_processor(load, fake_api.endpoint())

    processor.handler(incidents.event(), None)

    assert len(fake_api.bodies("c1")) == 2
    counts = summary_of(caplog)
    assert (counts["delivered"], counts["retried"], counts["duplicates"]) == (1, 1, 1)


def test_a_connection_reset_before_the_request_is_read_is_retried_and_delivered_once(
    load, history, incidents, fake_api, caplog
):
    add_connections(history, ["c1"])
    fake_api.script("c1", RESET, RESET)
    incidents.put({"incident_id": "i-1"})
    processor = stream_processor(load, fake_api.endpoint())

    processor.handler(incidents.event(), None)

    assert len(fake_api.bodies("c1")) == 1
    counts = summary_of(caplog)
    assert (counts["delivered"], counts["retried"]) == (1, 2)


# -- a fault storm --------------------------------------------------------------------------

STORM_SIZE = 1200
RETRIES = LIMITS.POST_MAX_RETRIES
TIMEOUT = Slow(LIMITS.POST_READ_TIMEOUT_SECONDS + 0.3)  # answered 200, after the client gave up
# What a connection's first attempts get (then 200), and for how many in 1,000 connections.
STORM_FAULTS = [
    ([410], 50),
    ([403, 403], 40),
    ([429], 60),
    ([429, 429], 40),
    ([429] * RETRIES, 20),
    ([500, 502], 60),
    ([503], 40),
    ([TIMEOUT], 20),
    ([RESET], 30),
    ([DROP], 30),
    ([Slow(0.2)], 30),
]
# Then 503 for both of its posts: too few, and too far apart, to open a breaker.
ALWAYS_FAILING_EVERY = 100


def storm_scripts(ids: list[str]) -> dict[str, list]:
    rng = random.Random(8)
    weighted = [steps for steps, per_mille in STORM_FAULTS for _ in range(per_mille)]
    scripts = {}
    for n, connection_id in enumerate(ids):
        if n % ALWAYS_FAILING_EVERY == ALWAYS_FAILING_EVERY // 2:
            scripts[connection_id] = [503] * 2 * (RETRIES + 1)
        else:
            draw = rng.randrange(1000)
            scripts[connection_id] = weighted[draw] if draw < len(weighted) else []
    return scripts


def counts_the_fake_saw(fake: FakeConnectionsApi) -> dict[str, int]:
    """The summary counts that follow from what the fake answered, attempt by attempt: a post
    ends at 200, 410 or 403, or failed after its retries; a re-send after an attempt that may
    have arrived (a drop, a reset or a timeout) is a possible duplicate."""
    counts = dict.fromkeys(("delivered", "gone", "failed", "unattempted", "duplicates"), 0)
    for answers in fake.answers.values():
        failures = 0  # failed attempts of the post being sent
        for answer in answers:
            status = answer.status if isinstance(answer, Slow) and answer != TIMEOUT else answer
            outcome = {200: "delivered", 410: "gone", 403: "failed"}.get(status)
            if outcome:
                counts[outcome] += 1
                failures = 0
                continue
            failures += 1
            if failures <= RETRIES and answer in (RESET, DROP, TIMEOUT):
                counts["duplicates"] += 1
            if failures == RETRIES + 1:
                counts["failed"] += 1
                failures = 0
    posts = counts["delivered"] + counts["gone"] + counts["failed"]
    return {**counts, "retried": sum(fake.attempts.values()) - posts}


def test_a_fault_storm_delivers_once_to_every_live_connection_and_counts_what_happened(
    load, history, incidents, fake_api, caplog
):
    ids = [f"c{n:04d}" for n in range(STORM_SIZE)]
    add_connections(history, ids)
    scripts = storm_scripts(ids)
    for connection_id, steps in scripts.items():
        fake_api.script(connection_id, *steps)
    incidents.put({"incident_id": "i-0"})
    incidents.put({"incident_id": "i-1"})
    context = LambdaContext(LIMITS.DEADLINE_MARGIN_SECONDS + 30)
    processor = stream_processor(load, fake_api.endpoint())

    response = processor.handler(incidents.event(), context)

    assert not context.timed_out()
    assert response == {"batchItemFailures": []}
    gone = {c for c, steps in scripts.items() if steps[:1] == [410]}
    never_delivered = {c for c, steps in scripts.items() if steps[:1] == [403]} | {
        c for c, steps in scripts.items() if len(steps) > RETRIES + 1
    }
    assert {item["connectionId"] for item in history.scan()["Items"]} == set(ids) - gone
    extra_copies = 0
    for connection_id in set(ids) - gone - never_delivered:
        received = [json.loads(b)["incident_id"] for b in fake_api.bodies(connection_id)]
        assert list(dict.fromkeys(received)) == ["i-0", "i-1"], connection_id
        extra_copies += len(received) - 2
    counts = summary_of(caplog)
    assert counts["connections"] == STORM_SIZE
    assert {k: v for k, v in counts.items() if k != "connections"} == counts_the_fake_saw(fake_api)
    assert 0 < extra_copies <= counts["duplicates"]
