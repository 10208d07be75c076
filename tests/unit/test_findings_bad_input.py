"""Property-based: malformed findings (missing fields, odd types, huge or broken strings)
never crash the handler, never reach the table as an invalid or oversized item, and never
keep the event's other findings from being written."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.finding_events import (
    ASFF_EVENTS,
    GUARDDUTY_EVENTS,
    OCSF_EVENTS,
    findings_of,
    sample_event,
)
from tests.support.lambda_zip import load_module

PROPERTY_SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
REQUIRED = {
    "incident_id": re.compile(r"finding-[0-9a-f]{24}"),
    "finding_id": re.compile(r".+", re.DOTALL),
    "severity": re.compile(r"INFORMATIONAL|LOW|MEDIUM|HIGH|CRITICAL"),
    "title": re.compile(r".+", re.DOTALL),
    "account": re.compile(r"[0-9]{12}"),
    "region": re.compile(r"[a-z]{2,4}(-[a-z]+)+-[0-9]{1,2}"),
    "status": re.compile(r"[A-Z][A-Z0-9_]*"),
    "source": re.compile(r"[a-z0-9]+(-[a-z0-9]+)*"),
    "type": re.compile(r".+", re.DOTALL),
    "created_at": re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"),
    "updated_at": re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"),
}
OPTIONAL = {"description", "arn", "count"}
# Half of API Gateway's 128 KB: the stream's message is the item plus copies of a few fields.
MAX_ITEM_BYTES = 64 * 1024

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=20)
    | st.sampled_from(
        [
            "",
            "   ",
            "\ud800 lone surrogate",
            "2026-13-01T00:00:00Z",
            "2026-09-14T02:17:45",
            "9999-12-31T23:59:59Z",
            "0001-01-01T00:00:00+01:00",
            "12345678901",
            "us-east-1",
            "HIGH",
            "arn:aws:guardduty:us-east-1:111122223333:detector/x/finding/y",
        ]
    )
)
odd_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)
huge_text = st.integers(min_value=1_000, max_value=300_000).map(lambda n: "é𝄞x" * (n // 3))
replacements = odd_values | huge_text


def paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    found = [prefix] if prefix else []
    children = (
        value.items()
        if isinstance(value, dict)
        else enumerate(value)
        if isinstance(value, list)
        else ()
    )
    for key, child in children:
        found.extend(paths(child, (*prefix, key)))
    return found


def reach(value: Any, path: tuple) -> Any:
    """`value` at `path`, or None once an earlier change has taken the path away."""
    for step in path:
        in_dict = isinstance(value, dict) and step in value
        in_list = isinstance(value, list) and isinstance(step, int) and step < len(value)
        if not (in_dict or in_list):
            return None
        value = value[step]
    return value


@st.composite
def mutated(draw, finding: dict) -> Any:
    """The finding with a few values deleted or replaced, or something else entirely."""
    if draw(st.integers(0, 19)) == 0:
        return draw(odd_values)
    finding = copy.deepcopy(finding)
    for path in draw(st.lists(st.sampled_from(paths(finding)), min_size=1, max_size=4)):
        parent, key = reach(finding, path[:-1]), path[-1]
        if isinstance(parent, dict) and draw(st.booleans()):
            parent.pop(key, None)
        elif isinstance(parent, dict) or (isinstance(parent, list) and key in range(len(parent))):
            parent[key] = draw(replacements)
    return finding


def assert_valid_item(item: dict, hash_key: str = "incident_id") -> None:
    assert item[hash_key] == item["incident_id"]
    for name, pattern in REQUIRED.items():
        assert isinstance(item[name], str) and pattern.fullmatch(item[name]), (name, item[name])
    assert set(item) <= {*REQUIRED, *OPTIONAL, hash_key}, set(item)
    assert "action" not in item
    assert item["created_at"] <= "9999" and item["updated_at"] <= "9999"
    assert len(json.dumps(item, default=str, ensure_ascii=False).encode()) <= MAX_ITEM_BYTES


@pytest.fixture(scope="module")
def findings_package():
    return load_module("findings", "incident_ws.findings")


def sources(package):
    return {
        "guardduty": package.ingest.SOURCES[("aws.guardduty", "GuardDuty Finding")],
        "asff": package.ingest.SOURCES[("aws.securityhub", "Security Hub Findings - Imported")],
        "ocsf": package.ingest.SOURCES[("aws.securityhub", "Findings Imported V2")],
    }


SAMPLES = {
    "guardduty": [f for name in GUARDDUTY_EVENTS for f in findings_of(name)],
    "asff": [f for name in ASFF_EVENTS for f in findings_of(name)],
    "ocsf": [f for name in OCSF_EVENTS for f in findings_of(name)],
}


@pytest.mark.parametrize("kind", sorted(SAMPLES))
@PROPERTY_SETTINGS
@given(data=st.data())
def test_malformed_finding_becomes_a_valid_incident_or_invalid_finding(
    findings_package, kind, data
):
    finding = data.draw(mutated(data.draw(st.sampled_from(SAMPLES[kind]))))
    source = sources(findings_package)[kind]

    try:
        incident = source.incident(finding)
    except findings_package.InvalidFinding as error:
        assert error.reason
        return
    assert_valid_item(incident.item())


@pytest.fixture
def incident_table(dynamodb):
    return dynamodb.create_table(
        TableName="Incident",
        KeySchema=[
            {"AttributeName": "incident_id", "KeyType": "HASH"},
            {"AttributeName": "entry_id", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "incident_id", "AttributeType": "S"},
            {"AttributeName": "entry_id", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )


@pytest.fixture
def handler(load, monkeypatch, incident_table):
    monkeypatch.delenv("INCIDENT_HASH_KEY", raising=False)
    return load("findings", INCIDENT_TABLE="Incident", INCIDENT_RANGE_KEY="entry_id")


def drain(table) -> list[dict]:
    items = table.scan()["Items"]
    for item in items:
        table.delete_item(Key={"incident_id": item["incident_id"], "entry_id": item["entry_id"]})
    return items


@PROPERTY_SETTINGS
@given(data=st.data())
def test_event_of_malformed_security_hub_findings_never_breaks_the_handler(
    handler, incident_table, data
):
    name = data.draw(st.sampled_from(ASFF_EVENTS + OCSF_EVENTS))
    kind = "ocsf" if name in OCSF_EVENTS else "asff"
    good = data.draw(st.sampled_from(SAMPLES[kind]))
    bad = data.draw(st.lists(mutated(good), min_size=1, max_size=3))
    event = sample_event(name)
    event["detail"]["findings"] = [*bad, copy.deepcopy(good)]

    summary = handler.handler(event, None)

    items = drain(incident_table)
    assert summary["findings"] == len(bad) + 1
    assert summary["written"] + summary["stale"] + summary["skipped"] == summary["findings"]
    assert summary["failed"] == 0
    assert len(items) >= 1  # the good finding, at least
    for item in items:
        assert item.pop("entry_id") == "incident"
        assert_valid_item(item)


@PROPERTY_SETTINGS
@given(data=st.data())
def test_malformed_guardduty_event_never_breaks_the_handler(handler, incident_table, data):
    event = sample_event(data.draw(st.sampled_from(GUARDDUTY_EVENTS)))
    event["detail"] = data.draw(mutated(event["detail"]))
    if data.draw(st.integers(0, 9)) == 0:
        event = data.draw(mutated(event))

    summary = handler.handler(event, None)

    assert summary["failed"] == 0
    for item in drain(incident_table):
        assert item.pop("entry_id") == "incident"
        assert_valid_item(item)
