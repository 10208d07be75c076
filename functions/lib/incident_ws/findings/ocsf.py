"""A finding of a `Findings Imported V2` event (Security Hub's OCSF findings)."""

from __future__ import annotations

import re
from typing import Any

from .guardduty import FINDING_ARN
from .incident import (
    Incident,
    InvalidFinding,
    about,
    dig,
    epoch_millis_timestamp,
    finding_identifier,
    incident,
    joined,
    scoped_id,
    source_name,
    utc_timestamp,
)
from .severity import ocsf_severity

DEFAULT_SOURCE = "securityhub"
GUARDDUTY_PRODUCT = re.compile(r"arn:aws[a-z-]*:securityhub:[a-z0-9-]+::productv2?/aws/guardduty")
# OCSF finding `status_id`, for a finding that carries no `status` caption.
STATUS_IDS = {1: "NEW", 2: "IN_PROGRESS", 3: "SUPPRESSED", 4: "RESOLVED", 5: "ARCHIVED"}


def ocsf_incident(finding: Any) -> Incident:
    if not isinstance(finding, dict):
        raise InvalidFinding("the finding is not an object")
    finding_id = canonical_id(finding)
    with about(finding_id):
        info = finding.get("finding_info")
        updated_at = _time(info, "modified_time") or _time(finding, "time")
        if updated_at is None:
            raise InvalidFinding("finding_info.modified_time_dt and time are missing")
        return incident(
            finding_id=finding_id,
            severity=ocsf_severity(finding.get("severity_id")),
            title=dig(info, "title"),
            description=dig(info, "desc"),
            account=dig(finding, "cloud", "account", "uid"),
            region=dig(finding, "cloud", "region"),
            arn=_resource(dig(finding, "resources", 0)),
            status=_status(finding),
            source=source_name(dig(finding, "metadata", "product", "name"), DEFAULT_SOURCE),
            type=joined(dig(info, "types")) or finding.get("class_name"),
            created_at=_time(info, "created_time") or updated_at,
            updated_at=updated_at,
            count=finding.get("count"),
        )


def canonical_id(finding: dict) -> str:
    """As for ASFF: GuardDuty's finding ARN for GuardDuty findings, else
    `<metadata.product.uid>/<cloud.account.uid>/<finding_info.uid>`."""
    finding_id = finding_identifier(dig(finding, "finding_info", "uid"))
    product = dig(finding, "metadata", "product", "uid")
    if not isinstance(product, str) or not product.strip():
        raise InvalidFinding("metadata.product.uid is missing or not a string", finding_id)
    if GUARDDUTY_PRODUCT.fullmatch(product) and FINDING_ARN.fullmatch(finding_id):
        return finding_id
    return scoped_id(product, dig(finding, "cloud", "account", "uid"), finding_id)


def _time(parent: Any, name: str) -> str | None:
    """`<name>_dt` (ISO-8601), else `<name>` (epoch milliseconds), else None."""
    if dig(parent, f"{name}_dt") is not None:
        return utc_timestamp(parent[f"{name}_dt"], f"{name}_dt")
    if dig(parent, name) is not None:
        return epoch_millis_timestamp(parent[name], name)
    return None


def _resource(resource: Any) -> Any:
    """The resource's ARN (`uid` or `uid_alt`), else its `uid`."""
    ids = [dig(resource, "uid"), dig(resource, "uid_alt")]
    arns = [i for i in ids if isinstance(i, str) and i.startswith("arn:")]
    return arns[0] if arns else ids[0]


def _status(finding: dict) -> Any:
    status = finding.get("status")
    if status is not None:
        return status
    status_id = finding.get("status_id")
    return STATUS_IDS.get(status_id, "NEW") if isinstance(status_id, int) else "NEW"
