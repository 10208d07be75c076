"""The @connections sender against a local endpoint that misbehaves on request: what it reports
is what the endpoint saw, every live connection gets each message once and in order (except
re-sends it counts as possible duplicates), and no attempt starts after the deadline."""

from __future__ import annotations

import random
import socket
import ssl
import threading
import time
from collections import Counter

import pytest
from botocore.credentials import ReadOnlyCredentials
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dev.harness.tls_test_ca import TestCa
from tests.support.faulty_connections_endpoint import (
    Fault,
    FaultyConnectionsEndpoint,
    ScriptedServer,
    Slow,
)
from tests.support.lambda_zip import load_module

CREDENTIALS = ReadOnlyCredentials("AKIDSENDERTEST", "sender-secret", "session-token")
ROTATED = ReadOnlyCredentials("AKIDROTATED", "rotated-secret", "rotated-token")
CONNECT_SECONDS = 1.0
RESPONSE_SECONDS = 0.3


@pytest.fixture(scope="module")
def sender_module():
    return load_module("stream_processor", "incident_ws.connections_sender")


@pytest.fixture(scope="module")
def ca(tmp_path_factory) -> TestCa:
    return TestCa.create(tmp_path_factory.mktemp("ca"))


@pytest.fixture
def endpoint(ca):
    with FaultyConnectionsEndpoint(CREDENTIALS, ROTATED, tls=ca) as endpoint:
        yield endpoint


@pytest.fixture(params=["http", "https"])
def any_endpoint(request, ca):
    """The endpoint over plain HTTP, then over TLS: their faults surface differently."""
    tls = ca if request.param == "https" else None
    with FaultyConnectionsEndpoint(CREDENTIALS, ROTATED, tls=tls) as endpoint:
        yield endpoint


@pytest.fixture
def make_sender(sender_module, ca):
    senders = []

    def make(max_in_flight=8, backoff_base=0.001, rng=None, **options):
        options.setdefault("ssl_context", ca.client_context())
        sender = sender_module.ConnectionsSender(
            max_in_flight,
            timeouts=sender_module.Timeouts(CONNECT_SECONDS, RESPONSE_SECONDS),
            backoff=sender_module.Backoff(3, backoff_base, backoff_base * 4),
            rng=rng,
            **options,
        )
        senders.append(sender)
        return sender

    yield make
    for sender in senders:
        sender.close()


def messages(connection_id: str, count: int) -> list[bytes]:
    return [f'{{"to":"{connection_id}","n":{n}}}'.encode() for n in range(count)]


def send(sender, endpoint, deliveries, credentials=CREDENTIALS, **options):
    """Post `deliveries` ({id: bodies}); the counts and every PostResult in report order."""
    results = []
    counts = sender.send(
        endpoint.url(),
        "us-east-1",
        credentials,
        deliveries.items(),
        on_result=results.append,
        **options,
    )
    return counts, results


def outcomes(results, connection_id):
    return [r.outcome.value for r in results if r.connection_id == connection_id]


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# -- delivery ----------------------------------------------------------------------------
def test_every_connection_gets_its_messages_once_and_in_order_over_tls(make_sender, endpoint):
    deliveries = {f"c{n}": messages(f"c{n}", 3) for n in range(50)}

    counts, results = send(make_sender(), endpoint, deliveries)

    assert counts.as_dict() == {
        "delivered": 150,
        "gone": 0,
        "failed": 0,
        "unattempted": 0,
        "retried": 0,
        "possible_duplicates": 0,
    }
    for connection_id, bodies in deliveries.items():
        assert endpoint.taken_by(connection_id) == bodies
    assert all(seen.signature_valid for seen in endpoint.seen)
    assert len(results) == 150


@pytest.mark.parametrize("token", [None, "a-session-token"], ids=["no-token", "token"])
def test_plain_http_posts_are_signed_too(make_sender, token):
    credentials = ReadOnlyCredentials("AKIDPLAIN", "plain-secret", token)
    with FaultyConnectionsEndpoint(credentials) as plain:
        counts, _ = send(make_sender(), plain, {"c1": messages("c1", 2)}, credentials)

        assert counts.delivered == 2
        assert [seen.signature_valid for seen in plain.seen] == [True, True]


def test_connection_ids_are_escaped_in_the_path(make_sender, endpoint):
    ids = ["Qp4L/Ze+q=", "%41", "a.b~c_d-e"]

    counts, _ = send(make_sender(), endpoint, {cid: messages(cid, 1) for cid in ids})

    assert counts.delivered == 3
    assert sorted(seen.connection_id for seen in endpoint.seen) == sorted(ids)
    assert all(seen.signature_valid for seen in endpoint.seen)


def test_posts_in_flight_never_exceed_the_limit(make_sender, ca):
    with FaultyConnectionsEndpoint(CREDENTIALS, tls=ca, latency_ms=20) as slow:
        counts, _ = send(make_sender(max_in_flight=5), slow, {f"c{n}": [b"{}"] for n in range(60)})

        assert counts.delivered == 60
        assert slow.max_in_flight <= 5
        assert slow.http_connections <= 5


def test_kept_alive_http_connections_serve_the_next_run(make_sender, endpoint):
    sender = make_sender(max_in_flight=4)
    send(sender, endpoint, {f"a{n}": [b"{}"] for n in range(40)})
    opened = endpoint.http_connections

    counts, _ = send(sender, endpoint, {f"b{n}": [b"{}"] for n in range(40)})

    assert counts.delivered == 40
    assert opened <= 4
    assert endpoint.http_connections == opened


def test_rotated_credentials_sign_the_next_run_on_the_same_http_connections(make_sender, endpoint):
    sender = make_sender(max_in_flight=2)
    send(sender, endpoint, {"c1": [b"{}"], "c2": [b"{}"]})
    opened = endpoint.http_connections

    counts, _ = send(sender, endpoint, {"c3": [b"{}"], "c4": [b"{}"]}, credentials=ROTATED)

    assert counts.delivered == 2
    assert all(seen.signature_valid for seen in endpoint.seen)
    assert endpoint.http_connections == opened


def test_channels_fed_from_other_threads_while_the_run_goes(make_sender, ca):
    with (
        FaultyConnectionsEndpoint(CREDENTIALS, tls=ca) as first,
        FaultyConnectionsEndpoint(CREDENTIALS, tls=ca) as second,
    ):
        run = make_sender().start()
        channels = [run.channel(e.url(), "us-east-1", CREDENTIALS) for e in (first, second)]

        def feed(channel, prefix):
            try:
                for n in range(100):
                    channel.post(f"{prefix}{n}", messages(f"{prefix}{n}", 2))
            finally:
                channel.close()

        feeders = [
            threading.Thread(target=feed, args=(channel, prefix))
            for channel, prefix in zip(channels, "xy", strict=True)
        ]
        for feeder in feeders:
            feeder.start()
        run.wait()
        for feeder in feeders:
            feeder.join()

        assert [channel.counts.delivered for channel in channels] == [200, 200]
        assert first.taken_by("x7") == messages("x7", 2)
        assert second.taken_by("y99") == messages("y99", 2)


# -- outcomes ----------------------------------------------------------------------------
def test_a_connections_next_message_waits_for_the_outcome_of_the_one_before(make_sender, endpoint):
    first, second = messages("c1", 2)
    endpoint.script("c1", 500)

    counts, results = send(make_sender(), endpoint, {"c1": [first, second]})

    assert [seen.body for seen in endpoint.seen] == [first, first, second]
    assert [(r.body, r.outcome.value, r.retries) for r in results] == [
        (first, "delivered", 1),
        (second, "delivered", 0),
    ]
    assert counts.retried == 1


def test_gone_connection_is_reported_and_sent_nothing_more(make_sender, endpoint):
    endpoint.always("gone", 410)

    counts, results = send(make_sender(), endpoint, {"gone": messages("gone", 3), "live": [b"{}"]})

    assert outcomes(results, "gone") == ["gone"]
    assert endpoint.attempts("gone") == 1
    assert (counts.gone, counts.delivered, counts.failed) == (1, 1, 0)


@pytest.mark.parametrize("status", [400, 403, 413])
def test_other_client_errors_fail_at_once(make_sender, endpoint, status):
    endpoint.always("c1", status)

    counts, results = send(make_sender(), endpoint, {"c1": [b"{}"]})

    assert [(r.outcome.value, r.retries, r.detail) for r in results] == [("failed", 0, str(status))]
    assert endpoint.attempts("c1") == 1
    assert counts.failed == 1


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_throttling_and_server_errors_are_retried_then_fail(make_sender, endpoint, status):
    endpoint.always("c1", status)

    counts, results = send(make_sender(), endpoint, {"c1": [b"{}"]})

    assert [(r.outcome.value, r.retries, r.detail) for r in results] == [("failed", 3, str(status))]
    assert endpoint.attempts("c1") == 4
    assert (counts.failed, counts.retried, counts.possible_duplicates) == (1, 3, 0)


def test_a_post_that_succeeds_on_retry_is_delivered_once(make_sender, endpoint):
    endpoint.script("c1", 429, 503)

    _, results = send(make_sender(), endpoint, {"c1": [b"{}"]})

    assert [(r.outcome.value, r.retries, r.possible_duplicates) for r in results] == [
        ("delivered", 2, 0)
    ]
    assert endpoint.attempts("c1") == 3
    assert endpoint.taken_by("c1") == [b"{}"]


def test_backoff_is_full_jitter_capped(sender_module):
    backoff = sender_module.Backoff(max_retries=3, base_seconds=0.05, cap_seconds=1.0)
    rng = random.Random(7)

    for retry in (0, 1, 2, 3, 6):
        delays = [backoff.delay(retry, rng) for _ in range(200)]

        assert min(delays) >= 0
        assert max(delays) <= min(1.0, 0.05 * 2**retry)


# -- transport faults --------------------------------------------------------------------
def test_a_reset_before_the_request_is_read_is_re_sent_and_counted(make_sender, endpoint):
    endpoint.script("c1", Fault.RESET_BEFORE_READ)

    counts, results = send(make_sender(), endpoint, {"c1": [b"{}"]})

    [result] = results
    assert (result.outcome.value, result.retries) == ("delivered", 1)
    assert endpoint.attempts("c1") == 2
    assert endpoint.taken_by("c1") == [b"{}"]
    assert counts.retried == 1


def test_a_reset_after_the_message_was_taken_is_a_counted_possible_duplicate(make_sender, endpoint):
    endpoint.script("c1", Fault.RESET_AFTER_READ)

    counts, results = send(make_sender(), endpoint, {"c1": [b"{}"]})

    assert [(r.outcome.value, r.retries, r.possible_duplicates) for r in results] == [
        ("delivered", 1, 1)
    ]
    assert endpoint.taken_by("c1") == [b"{}", b"{}"]
    assert (counts.retried, counts.possible_duplicates) == (1, 1)


def test_an_unanswered_post_times_out_and_its_re_send_is_a_possible_duplicate(
    make_sender, endpoint
):
    endpoint.script("c1", Fault.BLACK_HOLE)

    counts, results = send(make_sender(), endpoint, {"c1": [b"{}"]})

    assert [(r.outcome.value, r.retries, r.possible_duplicates) for r in results] == [
        ("delivered", 1, 1)
    ]
    assert endpoint.attempts("c1") == 2
    assert counts.possible_duplicates == 1


def test_a_slow_answer_within_the_response_timeout_is_waited_for(make_sender, endpoint):
    endpoint.script("c1", Slow(RESPONSE_SECONDS / 3))

    counts, _ = send(make_sender(), endpoint, {"c1": [b"{}"]})

    assert (counts.delivered, counts.retried) == (1, 0)
    assert endpoint.attempts("c1") == 1


def test_idle_connections_the_server_closed_between_runs_lose_nothing(make_sender, endpoint):
    sender = make_sender(max_in_flight=4)
    send(sender, endpoint, {f"a{n}": [b"{}"] for n in range(20)})
    endpoint.drop_connections()
    time.sleep(0.05)  # the FINs reach the client's sockets

    counts, _ = send(sender, endpoint, {f"b{n}": [b"{}"] for n in range(20)})

    assert counts.delivered == 20
    assert counts.failed == 0
    seen_b = [s for s in endpoint.seen if s.connection_id.startswith("b")]
    assert len(seen_b) == 20 + counts.retried
    assert Counter(cid for cid, _ in endpoint.taken if cid.startswith("b")) == Counter(
        f"b{n}" for n in range(20)
    )


def test_connections_the_server_closes_after_each_answer_lose_nothing(make_sender, any_endpoint):
    endpoint = any_endpoint
    deliveries = {f"c{n}": messages(f"c{n}", 3) for n in range(30)}
    for connection_id in deliveries:
        endpoint.always(connection_id, Fault.CLOSE_AFTER_ANSWER)

    counts, results = send(make_sender(max_in_flight=4), endpoint, deliveries)

    assert (counts.delivered, counts.failed) == (90, 0)
    for result in results:
        copies = endpoint.taken.count((result.connection_id, result.body))
        assert 1 <= copies <= 1 + result.possible_duplicates
    assert len(endpoint.seen) <= 90 + counts.retried


OK = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"


@pytest.mark.parametrize(
    ("third_answer", "outcome"), [(OK, "delivered"), (None, "failed")], ids=["once", "twice"]
)
def test_a_kept_alive_connection_found_closed_costs_one_counted_re_send_without_backoff(
    sender_module, third_answer, outcome
):
    """The endpoint closes the kept-alive connection when the second post arrives on it. With
    no backoff retries allowed, only the immediate re-send on a new connection can deliver
    it, and only once: a new connection that fails is an ordinary transport error."""
    sender = sender_module.ConnectionsSender(1, backoff=sender_module.Backoff(max_retries=0))
    results = []

    with ScriptedServer([OK, None, third_answer]) as server:
        sender.send(
            server.url,
            "us-east-1",
            CREDENTIALS,
            [("c1", [b"{}"]), ("c2", [b"[]"])],
            on_result=results.append,
        )

    assert [(r.outcome.value, r.retries, r.possible_duplicates) for r in results] == [
        ("delivered", 0, 0),
        (outcome, 1, 1),
    ]
    assert (server.requests, server.connections) == (3, 2)


def test_an_unreachable_endpoint_is_retried_then_fails(make_sender):
    sender = make_sender()

    counts = sender.send(
        f"http://127.0.0.1:{closed_port()}/prod", "us-east-1", CREDENTIALS, [("c1", [b"{}"])]
    )

    assert (counts.failed, counts.retried, counts.possible_duplicates) == (1, 3, 0)


def test_an_untrusted_certificate_gets_no_post(make_sender, endpoint):
    sender = make_sender(ssl_context=ssl.create_default_context())  # no test CA

    _, results = send(sender, endpoint, {"c1": [b"{}"]})

    assert [(r.outcome.value, r.detail) for r in results] == [
        ("failed", "SSLCertVerificationError")
    ]
    assert endpoint.seen == []


# -- deadline and stopping ---------------------------------------------------------------
def test_no_attempt_starts_after_the_deadline(make_sender, endpoint):
    deliveries = {f"c{n}": messages(f"c{n}", 2) for n in range(40)}
    for connection_id in deliveries:
        endpoint.always(connection_id, Fault.BLACK_HOLE)
    started = time.monotonic()
    deadline = started + 0.5

    counts, results = send(make_sender(max_in_flight=4), endpoint, deliveries, deadline=deadline)

    elapsed = time.monotonic() - started
    assert elapsed < 0.5 + CONNECT_SECONDS + RESPONSE_SECONDS + 1.0  # generous upper bound
    assert max(seen.at for seen in endpoint.seen) < deadline + CONNECT_SECONDS
    assert counts.delivered == 0
    assert counts.failed + counts.unattempted == 80 == len(results)
    assert counts.failed >= 1
    attempted_posts = counts.failed
    assert len(endpoint.seen) == attempted_posts + counts.retried


def test_a_deadline_already_passed_attempts_nothing(make_sender, endpoint):
    counts, results = send(
        make_sender(), endpoint, {"c1": messages("c1", 2)}, deadline=time.monotonic()
    )

    assert [r.outcome.value for r in results] == ["unattempted", "unattempted"]
    assert counts.unattempted == 2
    assert endpoint.seen == []


class LongestBackoff(random.Random):
    def uniform(self, a: float, b: float) -> float:
        return b


def test_a_retry_whose_backoff_would_end_after_the_deadline_is_not_made(make_sender, endpoint):
    endpoint.always("c1", 503)
    sender = make_sender(backoff_base=5.0, rng=LongestBackoff())

    _, results = send(sender, endpoint, {"c1": [b"{}"]}, deadline=time.monotonic() + 2)

    assert [(r.outcome.value, r.retries, r.detail) for r in results] == [("failed", 0, "503")]
    assert endpoint.attempts("c1") == 1


def test_a_stopped_channel_attempts_nothing_more(make_sender, endpoint):
    """A circuit breaker: the channel stops itself after three failed posts in a row."""
    deliveries = {f"c{n}": [b"{}"] for n in range(10)}
    for connection_id in deliveries:
        endpoint.always(connection_id, 500)
    run = make_sender(max_in_flight=1).start()
    failures = []

    def breaker(result):
        failures.append(result.outcome.value == "failed")
        if failures[-3:] == [True] * 3:
            channel.stop()

    channel = run.channel(endpoint.url(), "us-east-1", CREDENTIALS, on_result=breaker)
    for connection_id, bodies in deliveries.items():
        channel.post(connection_id, bodies)
    channel.close()
    run.wait()

    assert (channel.counts.failed, channel.counts.unattempted) == (3, 7)
    assert len(endpoint.seen) == 3 * 4


# -- random fault mixes ------------------------------------------------------------------
FAULTS = [200, 200, 410, 403, 429, 500, 503]
FAULTS += [Fault.RESET_BEFORE_READ, Fault.RESET_AFTER_READ, Fault.CLOSE_AFTER_ANSWER]
scripts = st.lists(st.sampled_from(FAULTS), max_size=4)
connection_plans = st.lists(
    st.tuples(st.integers(1, 3), scripts, st.booleans()), min_size=1, max_size=10
)
examples = iter(range(10**6))


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(plans=connection_plans, max_in_flight=st.integers(1, 6))
def test_random_fault_mixes_keep_every_rule(make_sender, any_endpoint, plans, max_in_flight):
    endpoint = any_endpoint
    example = next(examples)
    deliveries = {}
    for number, (count, script, black_hole) in enumerate(plans):
        connection_id = f"e{example}-c{number}"
        deliveries[connection_id] = messages(connection_id, count)
        endpoint.script(connection_id, *script)
        if black_hole and number == 0:  # one slow case per example at most
            endpoint.script(connection_id, Fault.BLACK_HOLE)
    closes = any(Fault.CLOSE_AFTER_ANSWER in script for _, script, _ in plans)
    endpoint.max_in_flight = 0

    counts, results = send(make_sender(max_in_flight=max_in_flight), endpoint, deliveries)

    seen = [s for s in endpoint.seen if s.connection_id in deliveries]
    assert all(s.signature_valid is not False for s in seen)
    for connection_id, bodies in deliveries.items():
        reported = [r for r in results if r.connection_id == connection_id]
        # One result per message, in order, ending early only with a 410.
        assert [r.body for r in reported] == bodies[: len(reported)]
        assert len(reported) == len(bodies) or reported[-1].outcome.value == "gone"
        # Exactly once for every delivered message, but for counted possible duplicates.
        for result in reported:
            copies = endpoint.taken.count((connection_id, result.body))
            assert copies <= 1 + result.possible_duplicates
            if result.outcome.value == "delivered":
                assert copies >= 1
        # The endpoint took them in order.
        taken = endpoint.taken_by(connection_id)
        assert sorted(taken, key=bodies.index) == taken
        # Every attempt the sender counted reached the endpoint, unless a kept-alive HTTP
        # connection it was sent on had just been closed by the endpoint.
        attempts = sum(1 + r.retries for r in reported)
        arrived = sum(1 for s in seen if s.connection_id == connection_id)
        assert arrived <= attempts
        if not closes:
            assert arrived == attempts
    assert counts.delivered + counts.gone + counts.failed == len(results)
    assert counts.retried == sum(r.retries for r in results)
    if not closes:  # else an answer may be lost with the connection the endpoint closed
        assert counts.gone == sum(1 for s in seen if s.action == 410)
        assert counts.delivered == sum(1 for s in seen if s.action == 200)
    assert endpoint.max_in_flight <= max_in_flight
