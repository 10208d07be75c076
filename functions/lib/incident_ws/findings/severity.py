"""Each source's severity → INFORMATIONAL | LOW | MEDIUM | HIGH | CRITICAL.

A band holds every value from its lower bound up to the next band's, so "this severity or
higher" is one numeric `>=` match in an EventBridge pattern on the same field.
"""

from __future__ import annotations

import math
from typing import Any

from .incident import SEVERITIES, InvalidFinding

# GuardDuty `severity`, 0.0-10.0 (Amazon GuardDuty User Guide, "Severity levels of GuardDuty
# findings": Low 1.0-3.9, Medium 4.0-6.9, High 7.0-8.9, Critical 9.0-10.0; 0 is reserved).
GUARDDUTY_BANDS = (("CRITICAL", 9.0), ("HIGH", 7.0), ("MEDIUM", 4.0), ("LOW", 0.0))
GUARDDUTY_MAX = 10.0

# ASFF `Severity.Normalized`, 0-100, as Security Hub derives `Label` from it.
ASFF_NORMALIZED_BANDS = (
    ("CRITICAL", 90),
    ("HIGH", 70),
    ("MEDIUM", 40),
    ("LOW", 1),
    ("INFORMATIONAL", 0),
)
ASFF_NORMALIZED_MAX = 100

# OCSF `severity_id`; 0 (Unknown) and 99 (Other) have no band.
OCSF_SEVERITY_IDS = {
    1: "INFORMATIONAL",
    2: "LOW",
    3: "MEDIUM",
    4: "HIGH",
    5: "CRITICAL",
    6: "CRITICAL",  # Fatal
}


def guardduty_severity(value: Any) -> str:
    return _banded(value, GUARDDUTY_BANDS, GUARDDUTY_MAX, "severity")


def asff_severity(severity: Any) -> str:
    """`Severity.Label`, else the band of `Severity.Normalized`."""
    if not isinstance(severity, dict):
        raise InvalidFinding("Severity is missing or not an object")
    label = severity.get("Label")
    if isinstance(label, str) and label.upper() in SEVERITIES:
        return label.upper()
    if label is not None:
        raise InvalidFinding("Severity.Label is not a severity label")
    return _banded(
        severity.get("Normalized"), ASFF_NORMALIZED_BANDS, ASFF_NORMALIZED_MAX, "Normalized"
    )


def ocsf_severity(severity_id: Any) -> str:
    if not isinstance(severity_id, int) or severity_id not in OCSF_SEVERITY_IDS:
        raise InvalidFinding("severity_id is not one of 1-6")
    return OCSF_SEVERITY_IDS[severity_id]


def _banded(value: Any, bands: tuple[tuple[str, float], ...], maximum: float, name: str) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidFinding(f"{name} is missing or not a number")
    if not 0 <= value <= maximum:
        raise InvalidFinding(f"{name} {value} is outside 0-{maximum}")
    return next(label for label, lower in bands if value >= lower)
