"""Start the emulator (`python -m dev.emulator serve`) as a process and read its ready line."""

from __future__ import annotations

import json
import os
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from dev.emulator import EMULATOR_CREDENTIALS, METRICS_PATH, READY_EVENT
from dev.harness.processes import ManagedProcess, Server, stopped_on_error


@dataclass
class EmulatorServer(Server):
    """The running emulator: `apis` and `functions` as its ready line listed them."""

    apis: list[dict[str, Any]] = field(default_factory=list)
    functions: list[str] = field(default_factory=list)

    def websocket_url(self, api_id: str, stage: str) -> str:
        for api in self.apis:
            if (api["apiId"], api["stage"]) == (api_id, stage):
                return api["url"]
        raise KeyError(f"the emulator serves no WebSocket API stage {api_id}/{stage}")

    @property
    def metrics_url(self) -> str:
        """The metrics the functions' EMF log lines gave so far, as JSON."""
        return self.url + METRICS_PATH

    def metrics(self) -> dict[str, Any]:
        """What `metrics_url` answers now."""
        # Straight to the loopback address, whatever proxy the environment names.
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(self.metrics_url, timeout=10) as response:
            return json.load(response)


def start_emulator(
    aws_endpoint: str,
    output: Path,
    *,
    region: str,
    code_dirs: Sequence[Path],
    static_dir: Path | None = None,
    extra_args: Sequence[str] = (),
    stderr: IO[bytes] | None = None,
) -> EmulatorServer:
    """Serve what was deployed at `aws_endpoint`; stdout (and stderr unless given) to `output`."""
    args = [
        "dev.emulator", "serve",
        "--aws-endpoint", aws_endpoint, "--region", region, "--host", "127.0.0.1", "--port", "0",
        *(arg for directory in code_dirs for arg in ("--code-dir", str(directory))),
        *(("--static-dir", str(static_dir)) if static_dir is not None else ()),
        *extra_args,
    ]  # fmt: skip
    env = dict(os.environ, **EMULATOR_CREDENTIALS, PYTHONUNBUFFERED="1")
    process = ManagedProcess("emulator", args, output, stderr=stderr, env=env)
    with stopped_on_error(process):
        ready = process.wait_for_output(_ready_line, "the emulator's ready line")
    return EmulatorServer(process, ready["url"], ready["apis"], ready["functions"])


def _ready_line(output: str) -> dict[str, Any] | None:
    for line in output.splitlines():
        if line.startswith("{"):
            try:
                message = json.loads(line)
            except ValueError:
                continue
            if message.get("event") == READY_EVENT:
                return message
    return None
