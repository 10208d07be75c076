"""The two servers the benchmark talks to, each in its own process and stopped on exit."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0


class ServerError(RuntimeError):
    """A server did not start; the message points at its log."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def moto_server(log_dir: Path) -> Iterator[str]:
    """Run `python -m moto.server` on a free port; yield its base URL."""
    port = free_port()
    command = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    log = log_dir / "moto.log"
    with _process(command, stdout=log, stderr=log) as process:
        _wait_for_port(process, port, log)
        yield f"http://127.0.0.1:{port}"


@contextlib.contextmanager
def fake_connections_api(log_dir: Path, latency_ms: int, cwd: Path) -> Iterator[str]:
    """Run the fake `@connections` server; yield the base URL it prints on its first line."""
    command = [
        *(sys.executable, "-m", "tests.support.fake_connections_api"),
        *("--host", "127.0.0.1", "--port", "0", "--latency-ms", str(latency_ms)),
    ]
    stdout = log_dir / "fake_connections_api.out"
    stderr = log_dir / "fake_connections_api.log"
    with _process(command, stdout=stdout, stderr=stderr, cwd=cwd) as process:
        yield _first_line(process, stdout, stderr).rstrip("/")


@contextlib.contextmanager
def _process(
    command: list[str], stdout: Path, stderr: Path, cwd: Path | None = None
) -> Iterator[subprocess.Popen]:
    # Output goes to files, never pipes, so a chatty server cannot block on a full pipe.
    # A session of its own lets us stop the server and anything it spawned as one group.
    with stdout.open("wb") as out, contextlib.ExitStack() as files:
        err = subprocess.STDOUT if stderr == stdout else files.enter_context(stderr.open("wb"))
        process = subprocess.Popen(command, stdout=out, stderr=err, cwd=cwd, start_new_session=True)
    try:
        yield process
    finally:
        _stop(process)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _wait_for_port(process: subprocess.Popen, port: int, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        _check_running(process, log)
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
            return
        time.sleep(0.1)
    raise ServerError(f"not listening on port {port} after {START_TIMEOUT_S:.0f} s; see {log}")


def _first_line(process: subprocess.Popen, stdout: Path, log: Path) -> str:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        first, newline, _ = stdout.read_text().partition("\n")
        if newline:
            if not first.startswith("http"):
                raise ServerError(f"first stdout line is not a URL: {first!r}; see {log}")
            return first.strip()
        _check_running(process, log)
        time.sleep(0.05)
    raise ServerError(f"printed no URL in {START_TIMEOUT_S:.0f} s; see {log}")


def _check_running(process: subprocess.Popen, log: Path) -> None:
    if process.poll() is not None:
        raise ServerError(f"exited with code {process.returncode} on start; see {log}")
