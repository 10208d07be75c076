"""The AWS API emulator every local run uses: moto's server with the emulator's moto patches."""

from __future__ import annotations

import re
from pathlib import Path

from dev.harness.processes import ManagedProcess, Server, stopped_on_error

_LISTENING = re.compile(r"Running on (http://127\.0\.0\.1:\d+)")


def start_moto(output: Path) -> Server:
    """`dev.emulator.moto_server` on a free loopback port; its log goes to `output`."""
    process = ManagedProcess(
        "moto server", ["dev.emulator.moto_server", "-H", "127.0.0.1", "-p", "0"], output
    )
    with stopped_on_error(process):
        url = process.wait_for_output(_listening_url, "the moto server to listen")
    return Server(process, url)


def _listening_url(output: str) -> str | None:
    match = _LISTENING.search(output)
    return match.group(1) if match else None
