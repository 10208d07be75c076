"""Severity bands of each source, and the EventBridge patterns that implement "this
severity or higher" for them: the pattern lets through exactly the findings the handler
maps to that severity or higher."""

from __future__ import annotations

import json
import math
import operator
from typing import Any

import pytest
from moto.events.models import EventPatternParser

from tests.support.finding_events import sample_event
from tests.support.lambda_zip import load_module

SEVERITIES = ("INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL")

# The lower bound of "minimum severity X" on each source's numeric field, and the field's
# upper bound (values above it are not valid findings, and the handler skips them).
GUARDDUTY_MINIMUM = {"INFORMATIONAL": 0, "LOW": 0, "MEDIUM": 4, "HIGH": 7, "CRITICAL": 9}
ASFF_MINIMUM = {"INFORMATIONAL": 0, "LOW": 1, "MEDIUM": 40, "HIGH": 70, "CRITICAL": 90}
OCSF_MINIMUM = {"INFORMATIONAL": 1, "LOW": 2, "MEDIUM": 3, "HIGH": 4, "CRITICAL": 5}


def guardduty_pattern(minimum: str) -> dict[str, Any]:
    return {
        "source": ["aws.guardduty"],
        "detail-type": ["GuardDuty Finding"],
        "detail": {"severity": [{"numeric": [">=", GUARDDUTY_MINIMUM[minimum], "<=", 10]}]},
    }


def asff_pattern(minimum: str) -> dict[str, Any]:
    return {
        "source": ["aws.securityhub"],
        "detail-type": ["Security Hub Findings - Imported"],
        "detail": {
            "findings": {
                "Severity": {"Normalized": [{"numeric": [">=", ASFF_MINIMUM[minimum], "<=", 100]}]}
            }
        },
    }


def ocsf_pattern(minimum: str) -> dict[str, Any]:
    return {
        "source": ["aws.securityhub"],
        "detail-type": ["Findings Imported V2"],
        "detail": {
            "findings": {"severity_id": [{"numeric": [">=", OCSF_MINIMUM[minimum], "<=", 6]}]}
        },
    }


OPERATORS = {
    "<": operator.lt,
    "<=": operator.le,
    "=": operator.eq,
    ">=": operator.ge,
    ">": operator.gt,
}


def matches(pattern: Any, value: Any) -> bool:
    """EventBridge matching for what these patterns use: exact values, `numeric` ranges,
    nested objects, and arrays (an array matches when one of its elements does)."""
    if isinstance(value, list):
        return any(matches(pattern, element) for element in value)
    if isinstance(pattern, dict):
        return isinstance(value, dict) and all(
            key in value and matches(sub, value[key]) for key, sub in pattern.items()
        )
    return any(_matches_filter(f, value) for f in pattern)


def _matches_filter(rule: Any, value: Any) -> bool:
    if not isinstance(rule, dict):
        return rule == value
    bounds = rule["numeric"]
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    pairs = zip(bounds[::2], bounds[1::2], strict=True)
    return all(OPERATORS[op](value, bound) for op, bound in pairs)


@pytest.fixture(scope="module")
def findings():
    return load_module("findings", "incident_ws.findings")


def mapped(function, value: Any, invalid) -> str | None:
    try:
        return function(value)
    except invalid:
        return None


def at_least(severity: str | None, minimum: str) -> bool:
    return severity is not None and SEVERITIES.index(severity) >= SEVERITIES.index(minimum)


# -- the bands ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "severity"),
    [(1.0, "LOW"), (3.9, "LOW"), (4.0, "MEDIUM"), (6.9, "MEDIUM"), (7.0, "HIGH"), (8.9, "HIGH"),
     (9.0, "CRITICAL"), (10, "CRITICAL")],
)  # fmt: skip
def test_guardduty_bands_follow_the_guardduty_user_guide(findings, value, severity):
    assert findings.severity.guardduty_severity(value) == severity


@pytest.mark.parametrize(
    ("normalized", "severity"),
    [(0, "INFORMATIONAL"), (1, "LOW"), (39, "LOW"), (40, "MEDIUM"), (69, "MEDIUM"), (70, "HIGH"),
     (89, "HIGH"), (90, "CRITICAL"), (100, "CRITICAL")],
)  # fmt: skip
def test_asff_normalized_bands_are_security_hubs(findings, normalized, severity):
    assert findings.severity.asff_severity({"Normalized": normalized}) == severity


def test_asff_label_is_preferred_to_normalized(findings):
    assert findings.severity.asff_severity({"Label": "HIGH", "Normalized": 10}) == "HIGH"


@pytest.mark.parametrize(
    ("severity_id", "severity"),
    [
        (1, "INFORMATIONAL"),
        (2, "LOW"),
        (3, "MEDIUM"),
        (4, "HIGH"),
        (5, "CRITICAL"),
        (6, "CRITICAL"),
    ],
)
def test_ocsf_severity_ids_map_one_to_one_and_fatal_is_critical(findings, severity_id, severity):
    assert findings.severity.ocsf_severity(severity_id) == severity


@pytest.mark.parametrize(
    ("function", "value"),
    [
        ("guardduty_severity", -0.1),
        ("guardduty_severity", 10.1),
        ("guardduty_severity", math.nan),
        ("guardduty_severity", "8"),
        ("guardduty_severity", True),
        ("asff_severity", {"Normalized": 101}),
        ("asff_severity", {"Label": "SEVERE"}),
        ("asff_severity", {}),
        ("asff_severity", "HIGH"),
        ("ocsf_severity", 0),
        ("ocsf_severity", 99),
        ("ocsf_severity", [4]),
    ],
)
def test_severity_outside_the_bands_is_refused(findings, function, value):
    with pytest.raises(findings.InvalidFinding):
        getattr(findings.severity, function)(value)


# -- the EventBridge patterns ------------------------------------------------------------

GUARDDUTY_VALUES = [-1, 0, 0.5, 1, 2, 3.9, 3.95, 4, 5, 6.9, 6.99, 7, 8, 8.9, 8.99, 9, 9.4, 10, 10.1]
ASFF_VALUES = [-1, 0, 0.5, 1, 20, 39, 39.5, 40, 55, 69, 69.9, 70, 80, 89, 89.9, 90, 100, 101]
OCSF_VALUES = [-1, 0, 1, 2, 3, 4, 5, 6, 7, 99]


@pytest.mark.parametrize("minimum", SEVERITIES)
def test_guardduty_pattern_lets_through_exactly_that_severity_or_higher(findings, minimum):
    pattern = guardduty_pattern(minimum)
    for value in GUARDDUTY_VALUES:
        severity = mapped(findings.severity.guardduty_severity, value, findings.InvalidFinding)
        event = sample_event("guardduty/bitcoin-tool-high.json")
        event["detail"]["severity"] = value
        assert matches(pattern, event) == at_least(severity, minimum), value


@pytest.mark.parametrize("minimum", SEVERITIES)
def test_asff_pattern_lets_through_exactly_that_severity_or_higher(findings, minimum):
    pattern = asff_pattern(minimum)
    for value in ASFF_VALUES:
        severity = mapped(
            findings.severity.asff_severity, {"Normalized": value}, findings.InvalidFinding
        )
        event = sample_event("securityhub/inspector-vulnerability-high.json")
        event["detail"]["findings"][0]["Severity"] = {"Normalized": value}
        assert matches(pattern, event) == at_least(severity, minimum), value


@pytest.mark.parametrize("minimum", SEVERITIES)
def test_asff_pattern_agrees_with_labels_as_security_hub_sets_normalized(findings, minimum):
    """With a Label and no Normalized, Security Hub sets Normalized 0, 1, 40, 70 or 90."""
    pattern = asff_pattern(minimum)
    for label, normalized in zip(SEVERITIES, (0, 1, 40, 70, 90), strict=True):
        event = sample_event("securityhub/inspector-vulnerability-high.json")
        event["detail"]["findings"][0]["Severity"] = {"Label": label, "Normalized": normalized}
        assert matches(pattern, event) == at_least(label, minimum), label


@pytest.mark.parametrize("minimum", SEVERITIES)
def test_ocsf_pattern_lets_through_exactly_that_severity_or_higher(findings, minimum):
    pattern = ocsf_pattern(minimum)
    for value in OCSF_VALUES:
        severity = mapped(findings.severity.ocsf_severity, value, findings.InvalidFinding)
        event = sample_event("securityhub/v2-vulnerability-critical.json")
        event["detail"]["findings"][0]["severity_id"] = value
        assert matches(pattern, event) == at_least(severity, minimum), value


@pytest.mark.parametrize(
    ("pattern", "name"),
    [
        (guardduty_pattern("HIGH"), "guardduty/bitcoin-tool-high.json"),
        (asff_pattern("HIGH"), "securityhub/inspector-vulnerability-high.json"),
        (ocsf_pattern("HIGH"), "securityhub/v2-compliance-s3-high.json"),
    ],
)
def test_patterns_are_valid_and_match_the_sample_events(pattern, name):
    EventPatternParser(json.dumps(pattern)).parse()

    assert matches(pattern, sample_event(name))
