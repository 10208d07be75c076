"""Sample incidents and remediation logs that show every kind of dashboard message.

The incident table keeps each incident as the item whose `entry_id` is `incident`, and each
remediation log as an item of its own beside it (`entry_id` `remediation#<time>#<action>`), so a
log never replaces its incident.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

SAMPLE_ACCOUNTS = ("111122223333", "444455556666")
INCIDENT_ENTRY = "incident"


def iso(epoch: float) -> str:
    """UTC with milliseconds (`2026-12-01T16:40:08.123Z`), so that entries sort in time order."""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def remediation_log(
    incident: dict[str, Any], action: str, target: str, status: str, when: float
) -> dict[str, Any]:
    """What an automatic responder writes for an incident: an item of its own beside it (its
    own `entry_id`) with the incident's id, account and region, so that it reaches the
    same tenants."""
    stamp = iso(when)
    return {
        "incident_id": incident["incident_id"],
        "entry_id": f"remediation#{stamp}#{action}",
        "action": action,
        "target": target,
        "status": status,
        "account": incident["account"],
        "region": incident["region"],
        "timestamp": stamp,
    }


def sample_items(now: float | None = None) -> Iterator[dict[str, Any]]:
    """Incidents of every severity (their time in epoch seconds), the logs of two of them being
    remediated (ISO 8601 times; an item with `action` is a remediation log), then an update of
    a log and of its incident, so that the dashboard has a history to show."""
    now = time.time() if now is None else now
    incidents = [
        ("CRITICAL", "Security group opens SSH to 0.0.0.0/0", {"sg": "sg-0a1b2c3d4e5f60718"}),
        ("HIGH", "S3 bucket policy allows public read", {"arn": "arn:aws:s3:::payroll-exports"}),
        ("MEDIUM", "IAM access key older than 90 days", {"resource": "AKIAEXAMPLEKEY000001"}),
        ("LOW", "CloudTrail log file validation disabled", {"resource": "trail/management"}),
    ]
    created = []
    for number, (severity, title, resource) in enumerate(incidents, start=1):
        item = {
            "incident_id": f"INC-{number:04d}",
            "entry_id": INCIDENT_ENTRY,
            "severity": severity,
            "status": "OPEN",
            "title": title,
            "account": SAMPLE_ACCOUNTS[number % 2],
            "region": "us-east-1",
            "timestamp": int(now),
            **resource,
        }
        created.append(item)
        yield item
    ssh, bucket = created[0], created[1]
    revoke = remediation_log(
        ssh, "revoke_security_group_ingress", "sg-0a1b2c3d4e5f60718", "IN_PROGRESS", now
    )
    yield revoke
    yield remediation_log(
        bucket, "block_public_access", "arn:aws:s3:::payroll-exports", "IN_PROGRESS", now
    )
    yield {**revoke, "status": "SUCCEEDED"}
    yield {**ssh, "status": "RESOLVED"}


def stamped(item: dict[str, Any], when: float) -> dict[str, Any]:
    """`item` with its `timestamp` set to `when`, in the format it has (epoch seconds or ISO),
    so that the dashboard's delivery latency is the time since the write."""
    timestamp = iso(when) if isinstance(item.get("timestamp"), str) else int(when)
    return {**item, "timestamp": timestamp}


def inject_samples(incident_table: Any, pause_seconds: float = 0.3) -> int:
    """Write the sample items one by one into a boto3 `Table`, each stamped with its write time;
    returns how many were written."""
    count = 0
    for item in sample_items():
        incident_table.put_item(Item=stamped(item, time.time()))
        count += 1
        time.sleep(pause_seconds)
    return count
