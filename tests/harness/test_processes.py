"""The harness's process management and launchers, with the real processes."""

from __future__ import annotations

import json
import urllib.request

import pytest

from dev.harness.fake_connections_api import start_fake_connections_api
from dev.harness.processes import ManagedProcess, StartupError

SIGNED = {"Authorization": "AWS4-HMAC-SHA256 Credential=test"}


def post(url: str) -> int:
    request = urllib.request.Request(url, data=b"{}", headers=SIGNED, method="POST")
    with urllib.request.urlopen(request, timeout=5) as response:
        return response.status


def test_the_fake_started_as_a_process_serves_until_it_is_stopped(tmp_path):
    with start_fake_connections_api(tmp_path / "fake.log") as fake:
        assert post(f"{fake.url}/prod/@connections/a") == 200
        with urllib.request.urlopen(f"{fake.url}/_stats", timeout=5) as response:
            assert json.load(response) == {"total": 1, "connections": {"a": 1}}

    assert not fake.process.running()
    assert fake.process.popen.returncode == 0


def test_a_process_that_exits_before_it_is_ready_fails_with_the_end_of_its_output(tmp_path):
    process = ManagedProcess("bad", ["dev.harness", "no-such-command"], tmp_path / "bad.log")

    with pytest.raises(StartupError, match="bad exited before it listened") as failed:
        process.wait_for_output(lambda output: None, "it listened")

    assert "invalid choice: 'no-such-command'" in str(failed.value)
    assert str(tmp_path / "bad.log") in str(failed.value)


def test_stopping_a_stopped_process_returns_its_exit_status(tmp_path):
    process = ManagedProcess("bad", ["dev.harness", "no-such-command"], tmp_path / "bad.log")
    process.popen.wait(timeout=30)

    assert process.stop() == 2
