"""The fake @connections API: as the benchmark runs it (a separate process), and its faults."""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request

import pytest

from dev.harness.fake_connections_api import DROP, RESET, FakeConnectionsApi, Slow, TokenBucket
from dev.harness.tls_test_ca import TestCa
from tests.support.lambda_zip import REPO_ROOT

SIGNED = {"Authorization": "AWS4-HMAC-SHA256 Credential=test", "Content-Type": "application/json"}


@pytest.fixture
def fake_process():
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dev.harness",
            "fake-connections-api",
            "--port",
            "0",
            "--gone",
            "old",
        ],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        yield process, process.stdout.readline().strip()
    finally:
        process.terminate()
        process.wait(timeout=10)


def post(url: str, headers: dict[str, str] = SIGNED) -> int:
    request = urllib.request.Request(url, data=b'{"type":"ping"}', headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_process_prints_its_url_and_counts_what_each_connection_received(fake_process):
    _, url = fake_process

    statuses = [post(f"{url}/prod/@connections/{cid}") for cid in ("a", "b", "a", "old")]

    assert statuses == [200, 200, 200, 410]
    with urllib.request.urlopen(f"{url}/_stats", timeout=5) as response:
        assert json.load(response) == {"total": 3, "connections": {"a": 2, "b": 1}}


def test_unsigned_post_is_forbidden(fake_process):
    _, url = fake_process

    assert post(f"{url}/prod/@connections/a", headers={}) == 403


def test_process_stops_on_sigterm(fake_process):
    process, _ = fake_process

    process.terminate()

    assert process.wait(timeout=10) == 0


def post_once(fake_api, connection_id: str, timeout: float = 5) -> int | str:
    """One signed post on a fresh HTTP connection: the status, or the transport error's name."""
    parts = urllib.parse.urlsplit(fake_api.endpoint())
    connection = http.client.HTTPConnection(parts.netloc, timeout=timeout)
    try:
        path = f"{parts.path}/@connections/{connection_id}"
        connection.request("POST", path, body=b"{}", headers=SIGNED)
        return connection.getresponse().status
    except (OSError, http.client.HTTPException) as error:
        return type(error).__name__
    finally:
        connection.close()


def test_a_script_gives_each_attempt_its_step_then_answers_normally(fake_api):
    fake_api.script("c1", 429, RESET, DROP, 503)

    outcomes = [post_once(fake_api, "c1") for _ in range(5)]

    assert outcomes[0] == 429
    assert outcomes[1] in ("ConnectionResetError", "RemoteDisconnected")
    assert outcomes[2:] == ["RemoteDisconnected", 503, 200]
    assert fake_api.answers["c1"] == [429, RESET, DROP, 503, 200]
    assert len(fake_api.bodies("c1")) == 2  # the dropped post was delivered, the reset one not


def test_a_slow_answer_past_the_clients_timeout_still_delivers_a_200(fake_api):
    fake_api.respond("c1", Slow(0.5))

    outcome = post_once(fake_api, "c1", timeout=0.1)

    assert outcome == "TimeoutError"
    assert len(fake_api.bodies("c1")) == 1
    assert fake_api.answered(Slow(0.5)) == 1


def test_the_rate_limit_answers_429_once_the_bucket_is_empty_and_delivers_nothing(fake_api):
    fake_api.throttle = TokenBucket(rate=1, burst=2)

    outcomes = [post_once(fake_api, f"c{n}") for n in range(3)]

    assert outcomes == [200, 200, 429]
    assert fake_api.stats() == {"total": 2, "connections": {"c0": 1, "c1": 1}, "throttled": 1}


def test_the_token_bucket_refills_at_its_rate_up_to_its_burst():
    bucket = TokenBucket(rate=10, burst=2)

    taken = [bucket.take(now) for now in (0.0, 0.0, 0.0, 0.1, 0.1, 5.0, 5.0, 5.0)]

    assert taken == [True, True, False, True, False, True, True, False]


def test_over_tls_the_fake_serves_a_certificate_its_ca_vouches_for(tmp_path):
    ca = TestCa.create(tmp_path)
    with FakeConnectionsApi(tls=ca.server_context()) as fake:
        request = urllib.request.Request(
            f"{fake.endpoint()}/@connections/c1", data=b"{}", headers=SIGNED, method="POST"
        )
        with urllib.request.urlopen(request, timeout=5, context=ca.client_context()) as answer:
            status = answer.status

    assert fake.url.startswith("https://127.0.0.1:")
    assert status == 200
    assert fake.bodies("c1") == [b"{}"]
