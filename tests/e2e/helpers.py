"""What the end-to-end tests share: WebSocket clients and the deployed resources they check."""

from __future__ import annotations

import json
import socket
import struct
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from boto3.dynamodb.conditions import Attr
from websockets.sync.client import ClientConnection

from dev.harness.local_stack import LocalStack

# The heartbeat schedule is rate(5 minutes): at this speed-up it fires every 2 seconds (and a
# failed findings invocation is retried after 0.4 s and 0.8 s instead of one and two minutes).
TIME_SCALE = 150
HEARTBEAT_SECONDS = 300 / TIME_SCALE

# The incident table's sort key (`entry_id`): an incident is the item with this value, each
# remediation log an item of its own beside it.
INCIDENT_ENTRY = "incident"


# --------------------------------------------------------------------------------------------
# WebSocket clients
# --------------------------------------------------------------------------------------------


class Client:
    """A real WebSocket client of one channel; keeps every message it has read."""

    def __init__(self, connection: ClientConnection, client_id: str) -> None:
        self.connection = connection
        self.client_id = client_id
        self.received: list[dict[str, Any]] = []

    def wait_for(
        self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 5.0
    ) -> dict[str, Any]:
        """The first message from now on that satisfies `predicate` (others are kept)."""
        deadline = time.monotonic() + timeout
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                message = json.loads(self.connection.recv(timeout=remaining))
            except TimeoutError:
                break
            self.received.append(message)
            if predicate(message):
                return message
        raise AssertionError(
            f"{self.client_id}: no matching message in {timeout} s; got {self.received}"
        )

    def send(self, request: dict[str, Any] | str) -> None:
        """A frame to the channel: a JSON object, or text as it is."""
        self.connection.send(request if isinstance(request, str) else json.dumps(request))

    def replay(self, timeout: float = 10.0, **request: Any) -> list[dict[str, Any]]:
        """Ask for a replay (`since=…` or `last=…`); its frames, up to and with the closing
        `replay_complete` (presence events and pings that came meanwhile left out)."""
        self.send({"action": "replay", **request})
        frames: list[dict[str, Any]] = []

        def closing(message: dict[str, Any]) -> bool:
            if message.get("type") not in ("presence", "ping"):
                frames.append(message)
            return message.get("type") in ("replay_complete", "error")

        self.wait_for(closing, timeout)
        return frames

    def vanish(self) -> None:
        """Drop the TCP connection with a reset: no close frame, no FIN, as a crashed client."""
        sock = self.connection.socket
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def unique_account() -> str:
    """A 12-digit account of this test alone, so that filtering by it leaves out other tests'
    messages."""
    return f"{uuid.uuid4().int % 10**12:012d}"


def is_presence(client_id: str, event: str) -> Callable[[dict[str, Any]], bool]:
    return lambda message: (
        message.get("type") == "presence"
        and message.get("clientId") == client_id
        and message.get("event") == event
    )


# --------------------------------------------------------------------------------------------
# Measurements (reported at the end of the session, never asserted)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Latency:
    what: str
    seconds: float
    first: bool  # the session's first measurement: it includes starting the function workers


LATENCIES: list[Latency] = []


def record_latency(what: str, seconds: float) -> None:
    LATENCIES.append(Latency(what, seconds, first=not LATENCIES))


def latency_report() -> list[str]:
    return [
        f"{latency.what}: {latency.seconds * 1000:.0f} ms"
        + (
            " (first of the session: includes starting the findings function's worker)"
            if latency.first
            else ""
        )
        for latency in LATENCIES
    ]


# --------------------------------------------------------------------------------------------
# Deployed resources
# --------------------------------------------------------------------------------------------


def connections_table(stack: LocalStack, channel: str) -> Any:
    name = stack.outputs["channels"][channel]["connections_table_name"]
    return stack.dynamodb().Table(name)


def rows_of(stack: LocalStack, channel: str, client_id: str) -> list[dict[str, Any]]:
    """The channel's connection rows registered with `client_id` (a scan: tables are tiny)."""
    table = connections_table(stack, channel)
    return table.scan(FilterExpression=Attr("clientId").eq(client_id), ConsistentRead=True)["Items"]


def connected_a_minute_ago(row: dict[str, Any]) -> dict[str, Any]:
    """A connection's row as if it had connected a minute earlier: a 410 deletes only a row
    whose `$connect` is surely over (the 410 cleanup keeps one stored moments ago)."""
    return {**row, "createdAt": int(row["createdAt"]) - 60_000}


def eventually(check: Callable[[], Any], timeout: float = 5.0, interval: float = 0.1) -> Any:
    """Poll `check` until it returns something truthy; fail with its last result."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            assert result, f"still {result!r} after {timeout} s"
            return result
        time.sleep(interval)
