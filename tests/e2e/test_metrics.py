"""The deployed functions' metrics, as CloudWatch would extract them from their EMF log lines,
served by the emulator and shown by `make demo` on Ctrl-C."""

from __future__ import annotations

import re
from typing import Any

from dev.demo.metrics_table import metrics_table
from tests.e2e.helpers import INCIDENT_ENTRY, eventually, unique

CHANNEL = "history"


def total(stack: Any, namespace: str, metric: str, function: str) -> float:
    """The sum of the metric of `function` on CHANNEL so far (0 before its first value)."""
    return sum(
        series["sum"]
        for series in stack.emulator.metrics()["metrics"]
        if series["namespace"] == namespace
        and series["metric"] == metric
        and series["dimensions"] == {"Function": function, "Channel": CHANNEL}
    )


def test_a_connection_and_a_delivered_incident_are_counted_in_the_metrics(
    stack, open_client, deployed_environment
):
    namespace = deployed_environment("stream_processor")["METRICS_NAMESPACE"]
    accepted = total(stack, namespace, "ConnectionsAccepted", "connect")
    delivered = total(stack, namespace, "Delivered", "stream_processor")
    client = open_client(CHANNEL)
    item = {
        "incident_id": unique("e2e-metrics"),
        "entry_id": INCIDENT_ENTRY,
        "severity": "LOW",
        "title": "Counted in the metrics",
        "account": "111111111111",
    }

    stack.incident_table().put_item(Item=item)
    client.wait_for(lambda message: message.get("incident_id") == item["incident_id"], 10)

    # A function's EMF lines are read from its output as it comes, after it answered.
    eventually(
        lambda: (
            total(stack, namespace, "Delivered", "stream_processor") > delivered
            and total(stack, namespace, "ConnectionsAccepted", "connect") > accepted
        )
    )
    table = "\n".join(metrics_table(stack.emulator.metrics()))
    assert re.search(rf"Delivered +Function=stream_processor Channel={CHANNEL} +Count ", table)
    assert '"_aws"' in stack.emulator_log_path.read_text(errors="replace")
