"""Findings in, live: `PutEvents` of GuardDuty and Security Hub findings → the deployed
EventBridge rules → the findings function → the incident table → its stream → WebSocket clients;
and a remediation log written beside its incident.

The time from `PutEvents` to the analyst's receipt is measured and reported at the end of the
session (and recorded as a property of the test), not asserted: the wait only fails after a
generous timeout.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from boto3.dynamodb.conditions import Key

from tests.e2e.helpers import INCIDENT_ENTRY, record_latency, unique
from tests.support.finding_events import sample_event

TENANT_ACCOUNT = "111122223333"
OTHER_ACCOUNT = "444455556666"
ARRIVAL_TIMEOUT_SECONDS = 20  # a cold findings function, then the stream, on busy cores


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def guardduty_event(account: str) -> dict[str, Any]:
    """A GuardDuty finding of its own (a fresh id) in `account`, updated now."""
    event = sample_event("guardduty/bitcoin-tool-high.json")
    detail = event["detail"]
    finding = uuid.uuid4().hex
    detail["id"] = finding
    detail["accountId"] = account
    detail["arn"] = (
        f"arn:aws:guardduty:us-east-1:{account}:detector/{detail['service']['detectorId']}"
        f"/finding/{finding}"
    )
    detail["updatedAt"] = now_iso()
    return event


def security_hub_event(account: str) -> dict[str, Any]:
    """An ASFF finding (Inspector) of its own in `account`, updated now."""
    event = sample_event("securityhub/inspector-vulnerability-high.json")
    [finding] = event["detail"]["findings"]
    finding["Id"] = f"arn:aws:inspector2:eu-west-1:{account}:finding/{uuid.uuid4().hex}"
    finding["AwsAccountId"] = account
    finding["UpdatedAt"] = now_iso()
    return event


def finding_id_of(event: dict[str, Any]) -> str:
    """The id the findings function files the finding under (the incident's `finding_id`)."""
    if event["source"] == "aws.guardduty":
        return event["detail"]["arn"]
    [finding] = event["detail"]["findings"]
    return f"{finding['ProductArn']}/{finding['AwsAccountId']}/{finding['Id']}"


def publish(stack, event: dict[str, Any]) -> str:
    """`PutEvents` of `event` to the emulator, as GuardDuty or Security Hub would send it."""
    answer = stack.events_client().put_events(
        Entries=[
            {
                "Source": event["source"],
                "DetailType": event["detail-type"],
                "Detail": json.dumps(event["detail"]),
                "Resources": event["resources"],
            }
        ]
    )
    assert answer["FailedEntryCount"] == 0, answer
    return answer["Entries"][0]["EventId"]


def about_finding(event: dict[str, Any]) -> Callable[[dict[str, Any]], bool]:
    finding_id = finding_id_of(event)
    return lambda message: (message.get("data") or {}).get("finding_id") == finding_id


def own_incident(stack) -> dict[str, Any]:
    """An incident of the tenant's account, written straight into the table."""
    item = {
        "incident_id": unique("e2e-own"),
        "entry_id": INCIDENT_ENTRY,
        "severity": "LOW",
        "status": "OPEN",
        "title": "The tenant's own incident",
        "account": TENANT_ACCOUNT,
        "region": "us-east-1",
    }
    stack.incident_table().put_item(Item=item)
    return item


def arrives_for_analyst_not_for_tenant(
    stack, open_client, event: dict[str, Any], label: str, record_property
) -> dict[str, Any]:
    """Publish `event` (of another account than the tenant's) and return the analyst's message;
    the tenant's connection, which receives messages in stream order, gets its own incident
    written afterwards first, so it was never sent the finding."""
    analyst = open_client("events", persona="analyst")
    tenant = open_client("events", persona="tenant")

    started = time.monotonic()
    publish(stack, event)
    message = analyst.wait_for(about_finding(event), timeout=ARRIVAL_TIMEOUT_SECONDS)
    elapsed = time.monotonic() - started
    record_latency(label, elapsed)
    record_property("putevents_to_client_seconds", round(elapsed, 3))

    own = own_incident(stack)
    first = tenant.wait_for(
        lambda m: about_finding(event)(m) or m.get("incident_id") == own["incident_id"],
        timeout=ARRIVAL_TIMEOUT_SECONDS,
    )
    assert first["incident_id"] == own["incident_id"]
    return message


def test_a_guardduty_finding_reaches_an_analyst_and_not_a_tenant_of_another_account(
    stack, open_client, record_property
):
    event = guardduty_event(OTHER_ACCOUNT)

    message = arrives_for_analyst_not_for_tenant(
        stack, open_client, event, "GuardDuty finding", record_property
    )

    assert message["type"] == "incident"
    assert message["event"] == "created"
    assert (message["severity"], message["status"]) == ("HIGH", "NEW")
    assert message["title"] == event["detail"]["title"]
    assert (message["account"], message["region"]) == (OTHER_ACCOUNT, "us-east-1")
    assert message["resource"] == "i-0a1b2c3d4e5f60718"
    assert message["data"]["source"] == "guardduty"
    assert message["data"]["entry_id"] == INCIDENT_ENTRY


def test_a_security_hub_finding_reaches_an_analyst_and_not_a_tenant_of_another_account(
    stack, open_client, record_property
):
    event = security_hub_event(OTHER_ACCOUNT)

    message = arrives_for_analyst_not_for_tenant(
        stack, open_client, event, "Security Hub finding (ASFF)", record_property
    )

    [finding] = event["detail"]["findings"]
    assert (message["type"], message["severity"]) == ("incident", "HIGH")
    assert message["title"] == finding["Title"]
    assert (message["account"], message["region"]) == (OTHER_ACCOUNT, "eu-west-1")
    assert message["resource"] == finding["Resources"][0]["Id"]
    assert message["data"]["source"] == "inspector"


def test_a_remediation_log_arrives_as_its_own_message_and_its_incident_stays(stack, open_client):
    events_client = open_client("events")
    remediation_client = open_client("remediation")
    event = guardduty_event(TENANT_ACCOUNT)
    started = time.monotonic()
    publish(stack, event)
    incident = events_client.wait_for(about_finding(event), timeout=ARRIVAL_TIMEOUT_SECONDS)
    record_latency("GuardDuty finding, then remediated", time.monotonic() - started)
    log = remediation_log(incident, "isolate_instance", incident["resource"])

    stack.incident_table().put_item(Item=log)

    message = remediation_client.wait_for(
        lambda m: m.get("type") == "remediation" and m.get("incident_id") == log["incident_id"]
    )
    assert (message["action"], message["target"], message["status"]) == (
        "isolate_instance",
        incident["resource"],
        "SUCCEEDED",
    )
    assert message["data"]["entry_id"] == log["entry_id"]
    items = entries_of(stack, incident["incident_id"])
    assert set(items) == {INCIDENT_ENTRY, log["entry_id"]}
    assert items[INCIDENT_ENTRY]["title"] == event["detail"]["title"]
    assert items[INCIDENT_ENTRY]["finding_id"] == finding_id_of(event)


def remediation_log(incident: dict[str, Any], action: str, target: str) -> dict[str, Any]:
    """What an automatic responder writes for an incident: an item of its own beside it."""
    stamp = now_iso()
    return {
        "incident_id": incident["incident_id"],
        "entry_id": f"remediation#{stamp}#{action}",
        "action": action,
        "target": target,
        "status": "SUCCEEDED",
        "timestamp": stamp,
        "account": incident["account"],
        "region": incident["region"],
    }


def entries_of(stack, incident_id: str) -> dict[str, dict[str, Any]]:
    """Every item of an incident in the table, by `entry_id`."""
    items = stack.incident_table().query(
        KeyConditionExpression=Key("incident_id").eq(incident_id), ConsistentRead=True
    )["Items"]
    return {item["entry_id"]: item for item in items}
