"""Security findings for the demo: a GuardDuty and a Security Hub finding published with
`PutEvents`, as those services publish them to EventBridge, and the incidents they become.

The events are copies in `findings/` (a GuardDuty finding and a Security Hub finding in the
AWS Security Finding Format), stamped with the current time when published.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from boto3.dynamodb.conditions import Attr

from dev.demo.samples import INCIDENT_ENTRY, iso, remediation_log

SAMPLES_DIR = Path(__file__).with_name("findings")
GUARDDUTY_SAMPLE = "guardduty-bitcoin-tool-high.json"
SECURITY_HUB_SAMPLE = "securityhub-inspector-vulnerability-high.json"
FIVE_MINUTES = 300


def sample_event(name: str, now: float) -> dict[str, Any]:
    """A sample event whose finding(s) were created five minutes ago and updated now."""
    event = json.loads((SAMPLES_DIR / name).read_text())
    created, updated = iso(now - FIVE_MINUTES), iso(now)
    if event["source"] == "aws.guardduty":
        event["detail"].update(createdAt=created, updatedAt=updated)
    for finding in event["detail"].get("findings", []):
        finding.update(CreatedAt=created, FirstObservedAt=created)
        finding.update(UpdatedAt=updated, LastObservedAt=updated)
    return event


def put_events_entry(event: dict[str, Any], when: datetime) -> dict[str, Any]:
    """The `PutEvents` entry that publishes `event` (EventBridge adds id, account and region)."""
    return {
        "Source": event["source"],
        "DetailType": event["detail-type"],
        "Detail": json.dumps(event["detail"]),
        "Resources": event.get("resources", []),
        "Time": when,
    }


def guardduty_finding_id(event: dict[str, Any]) -> str:
    """The id a GuardDuty finding becomes an incident under (`finding_id`): its ARN."""
    return event["detail"]["arn"]


def publish(events_client: Any, *events: dict[str, Any]) -> list[str]:
    """`PutEvents` of `events` with a boto3 `events` client; returns the event ids."""
    now = datetime.now(UTC)
    answer = events_client.put_events(Entries=[put_events_entry(event, now) for event in events])
    if answer["FailedEntryCount"]:
        raise RuntimeError(f"PutEvents refused entries: {answer['Entries']}")
    return [entry["EventId"] for entry in answer["Entries"]]


def wait_for_incident(table: Any, finding_id: str, timeout: float = 20.0) -> dict[str, Any] | None:
    """The incident item the findings function wrote for `finding_id`, once it is there."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        items = table.scan(FilterExpression=Attr("finding_id").eq(finding_id), ConsistentRead=True)[
            "Items"
        ]
        incidents = [
            item for item in items if item.get("entry_id", INCIDENT_ENTRY) == INCIDENT_ENTRY
        ]
        if incidents:
            return incidents[0]
        time.sleep(0.2)
    return None


@dataclass(frozen=True)
class FindingsShown:
    """What `show_findings` did: the events it published, the incident the GuardDuty finding
    became (None if it did not appear in time) and the remediation log written beside it."""

    published: int
    incident: dict[str, Any] | None
    remediation: dict[str, Any] | None


def show_findings(events_client: Any, incident_table: Any) -> FindingsShown:
    """Publish the sample findings, wait for the GuardDuty one to become an incident, then write
    the log of its automatic remediation (isolating the instance) beside it."""
    now = time.time()
    guardduty = sample_event(GUARDDUTY_SAMPLE, now)
    published = publish(events_client, guardduty, sample_event(SECURITY_HUB_SAMPLE, now))
    incident = wait_for_incident(incident_table, guardduty_finding_id(guardduty))
    if incident is None:
        return FindingsShown(len(published), None, None)
    log = remediation_log(incident, "isolate_instance", incident["arn"], "SUCCEEDED", time.time())
    incident_table.put_item(Item=log)
    return FindingsShown(len(published), incident, log)
