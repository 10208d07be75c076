"""Sample incidents and remediation logs that show every kind of dashboard message."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

SAMPLE_ACCOUNTS = ("111122223333", "444455556666")


def sample_items(now: float | None = None) -> Iterator[dict[str, Any]]:
    """Incidents of every severity, then two of them updated by their automatic remediation
    (an item with `action` is a remediation log)."""
    now = int(time.time() if now is None else now)
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
            "severity": severity,
            "status": "OPEN",
            "title": title,
            "account": SAMPLE_ACCOUNTS[number % 2],
            "region": "us-east-1",
            "timestamp": now + number,
            **resource,
        }
        created.append(item)
        yield item
    remediations = [
        (created[0], "revoke_security_group_ingress", "sg-0a1b2c3d4e5f60718", "SUCCEEDED"),
        (created[1], "block_public_access", "arn:aws:s3:::payroll-exports", "IN_PROGRESS"),
    ]
    for number, (item, action, target, status) in enumerate(remediations, start=1):
        yield {
            **item,
            "action": action,
            "target": target,
            "status": status,
            "timestamp": now + 10 + number,
        }


def inject_samples(incident_table: Any, pause_seconds: float = 0.3) -> int:
    """Write the sample items one by one into a boto3 `Table`, so the dashboard shows them
    arriving; returns how many were written."""
    count = 0
    for item in sample_items():
        incident_table.put_item(Item=item)
        count += 1
        time.sleep(pause_seconds)
    return count
