"""The sample EventBridge events of tests/events, and events built from them."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

EVENTS_DIR = Path(__file__).resolve().parents[1] / "events"
GUARDDUTY_EVENTS = sorted(
    p.relative_to(EVENTS_DIR).as_posix() for p in EVENTS_DIR.glob("guardduty/*.json")
)
SECURITYHUB_EVENTS = sorted(
    p.relative_to(EVENTS_DIR).as_posix() for p in EVENTS_DIR.glob("securityhub/*.json")
)
ASFF_EVENTS = [name for name in SECURITYHUB_EVENTS if not name.startswith("securityhub/v2-")]
OCSF_EVENTS = [name for name in SECURITYHUB_EVENTS if name.startswith("securityhub/v2-")]


def sample_event(name: str) -> dict[str, Any]:
    """A fresh copy of `tests/events/<name>` (e.g. `guardduty/bitcoin-tool-high.json`)."""
    return json.loads((EVENTS_DIR / name).read_text())


def findings_of(name: str) -> list[Any]:
    """The findings a sample event carries (a GuardDuty event carries its detail)."""
    event = sample_event(name)
    return [event["detail"]] if event["source"] == "aws.guardduty" else event["detail"]["findings"]


def with_findings(name: str, findings: list[Any]) -> dict[str, Any]:
    """A Security Hub sample event carrying `findings` instead of its own."""
    event = sample_event(name)
    event["detail"]["findings"] = copy.deepcopy(findings)
    return event
