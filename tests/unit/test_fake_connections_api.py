"""The fake @connections API as the benchmark runs it: a separate process."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

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
