"""A channel above examples/local's threshold (two connections per worker) is shared with the
deployed fan-out worker: the stream processor invokes it through the emulator's Lambda API,
and every client still gets each message once, in stream order."""

from __future__ import annotations

import json
import re

from tests.e2e.helpers import INCIDENT_ENTRY, eventually, unique

LOG_LINE = re.compile(r"(stream_batch_processed|fan_out_segment_processed) (\{.*\})\s*$")


def incident(incident_id: str, status: str) -> dict:
    return {
        "incident_id": incident_id,
        "entry_id": INCIDENT_ENTRY,
        "severity": "HIGH",
        "status": status,
        "title": "Sharded fan-out",
        "account": "111111111111",
        "region": "us-east-1",
    }


def log_length(stack) -> int:
    return len(stack.emulator_log_path.read_text(errors="replace").splitlines())


def log_lines(stack, event: str, since: int) -> list[dict]:
    """The fields of every `event` line the deployed functions have logged after line `since`."""
    lines = []
    for line in stack.emulator_log_path.read_text(errors="replace").splitlines()[since:]:
        match = LOG_LINE.search(line)
        if match and match.group(1) == event:
            lines.append(json.loads(match.group(2)))
    return lines


def test_a_sharded_channel_delivers_each_message_once_in_stream_order(stack, open_client):
    clients = [open_client("history") for _ in range(5)]
    # The stream processor's estimate is the larger of the table's item count (which a warm
    # container asks for again only after five minutes) and what its last broadcast read: a
    # first broadcast lets it see the five connections.
    warm_up = unique("e2e-shard-warm-up")
    stack.incident_table().put_item(Item=incident(warm_up, "OPEN"))
    for client in clients:
        client.wait_for(lambda m: m.get("incident_id") == warm_up, timeout=20)
    since = log_length(stack)
    incident_id = unique("e2e-shard")
    statuses = ["OPEN", "ACKNOWLEDGED", "CLOSED"]

    for status in statuses:
        stack.incident_table().put_item(Item=incident(incident_id, status))

    for client in clients:
        client.wait_for(
            lambda m: m.get("incident_id") == incident_id and m["status"] == "CLOSED", timeout=20
        )
        received = [m["status"] for m in client.received if m.get("incident_id") == incident_id]
        assert received == statuses, client.client_id

    def sharded_summaries() -> list[dict]:
        return [
            line["channels"]["history"]
            for line in log_lines(stack, "stream_batch_processed", since)
            if line["channels"].get("history", {}).get("segments", 1) > 1
        ]

    summaries = eventually(sharded_summaries, timeout=10)
    assert all(s["delivered"] >= 5 and "error" not in s for s in summaries)
    segments = [
        line
        for line in log_lines(stack, "fan_out_segment_processed", since)
        if line["channel"] == "history"
    ]
    assert segments and all(line["segment"] >= 1 for line in segments)
