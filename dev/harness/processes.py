"""Start and stop the local servers: each in a process group of its own, stopped as a group.

Output goes to files, never pipes, so a chatty server cannot block on a full pipe; a launcher
reads the file until the server says where it listens.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TypeVar

from dev.harness.paths import REPO_ROOT

START_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 10.0

T = TypeVar("T")


class StartupError(RuntimeError):
    """Something the harness starts did not come up; the message says what and shows why."""


class ManagedProcess(contextlib.AbstractContextManager["ManagedProcess"]):
    """`python -m <module> ...` in a session of its own, with its stdout in `output`.

    stderr goes to `output` too unless `stderr` is given (the demo shows it on the terminal).
    Leaving a `with` block stops it.
    """

    def __init__(
        self,
        name: str,
        module_args: Sequence[str],
        output: Path,
        *,
        stderr: IO[bytes] | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.name = name
        self.output = output
        output.parent.mkdir(parents=True, exist_ok=True)
        with output.open("wb") as out:
            self.popen = subprocess.Popen(
                [sys.executable, "-m", *module_args],
                cwd=REPO_ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT if stderr is None else stderr,
                start_new_session=True,
            )

    def running(self) -> bool:
        return self.popen.poll() is None

    def wait_for_output(self, find: Callable[[str], T | None], what: str) -> T:
        """Poll the output until `find` returns something; StartupError if the process dies."""
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            found = find(self.output.read_text(errors="replace"))
            if found is not None:
                return found
            if not self.running():
                raise StartupError(f"{self.name} exited before {what}{self._tail()}")
            time.sleep(0.05)
        raise StartupError(f"timed out waiting for {what}{self._tail()}")

    def _tail(self, lines: int = 30) -> str:
        tail = self.output.read_text(errors="replace").splitlines()[-lines:]
        return f"; end of {self.output}:\n" + "\n".join(tail)

    def stop(self, timeout: float = STOP_TIMEOUT_SECONDS) -> int:
        """SIGINT the leader alone, so that it can still use its children while it shuts down
        (the emulator runs `$disconnect` in its Lambda workers), then SIGKILL what is left."""
        if self.running():
            self.popen.send_signal(signal.SIGINT)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        return self.popen.wait()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


@contextlib.contextmanager
def stopped_on_error(process: ManagedProcess) -> Iterator[ManagedProcess]:
    """Stop `process` if the block fails (e.g. waiting for it to listen), then re-raise."""
    try:
        yield process
    except BaseException:
        process.stop()
        raise


@dataclass
class Server(contextlib.AbstractContextManager["Server"]):
    """A started server process and the base URL it listens on; leaving `with` stops it."""

    process: ManagedProcess
    url: str

    def stop(self) -> int:
        return self.process.stop()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def run_module(
    module_args: Sequence[str], *, env: dict[str, str], stderr: Path
) -> subprocess.CompletedProcess[str]:
    """`python -m <module> ...` in the repository to its end: stdout captured, stderr to a file."""
    with stderr.open("w") as errors:
        return subprocess.run(
            [sys.executable, "-m", *module_args],
            cwd=REPO_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
            check=False,
        )
