"""A `GuardDuty Finding` event's detail (the GuardDuty finding itself) → an Incident."""

from __future__ import annotations

import re
from typing import Any

from .incident import (
    MAX_FINDING_ID_CHARS,
    Incident,
    InvalidFinding,
    about,
    dig,
    incident,
    utc_timestamp,
)
from .severity import guardduty_severity

SOURCE = "guardduty"
FINDING_ARN = re.compile(r"arn:aws[a-z-]*:guardduty:[a-z0-9-]+:[0-9]{12}:detector/\S+/finding/\S+")

# Where a resource's ARN (else its id) sits, by the resource `*Details` that GuardDuty sets.
_RESOURCE_IDS = (
    ("s3BucketDetails", 0, "arn"),
    ("s3BucketDetails", 0, "name"),
    ("eksClusterDetails", "arn"),
    ("eksClusterDetails", "name"),
    ("ecsClusterDetails", "arn"),
    ("ecsClusterDetails", "name"),
    ("lambdaDetails", "functionArn"),
    ("lambdaDetails", "functionName"),
    ("rdsDbInstanceDetails", "dbInstanceArn"),
    ("rdsDbInstanceDetails", "dbInstanceIdentifier"),
    ("instanceDetails", "instanceId"),
    ("accessKeyDetails", "accessKeyId"),
    ("accessKeyDetails", "userName"),
)


def guardduty_incident(detail: Any) -> Incident:
    """The finding's ARN is its id: Security Hub uses the same ARN as the ASFF `Id`."""
    if not isinstance(detail, dict):
        raise InvalidFinding("detail is not a GuardDuty finding object")
    finding_arn = detail.get("arn")
    if (
        not isinstance(finding_arn, str)
        or len(finding_arn) > MAX_FINDING_ID_CHARS
        or not FINDING_ARN.fullmatch(finding_arn)
    ):
        raise InvalidFinding("arn is not a GuardDuty finding ARN", _string(detail.get("id")))
    with about(finding_arn):
        archived = dig(detail, "service", "archived") is True
        return incident(
            finding_id=finding_arn,
            severity=guardduty_severity(detail.get("severity")),
            title=detail.get("title"),
            description=detail.get("description"),
            account=detail.get("accountId"),
            region=detail.get("region"),
            arn=resource_id(detail.get("resource")),
            status="ARCHIVED" if archived else "NEW",
            source=SOURCE,
            type=detail.get("type"),
            created_at=utc_timestamp(detail.get("createdAt"), "createdAt"),
            updated_at=utc_timestamp(detail.get("updatedAt"), "updatedAt"),
            count=dig(detail, "service", "count"),
        )


def resource_id(resource: Any) -> str | None:
    """The affected resource's ARN, else its id (the first S3 bucket of several)."""
    for path in _RESOURCE_IDS:
        value = dig(resource, *path)
        if isinstance(value, str) and value.strip():
            return value
    return None


def _string(value: Any) -> str | None:
    return value if isinstance(value, str) else None
