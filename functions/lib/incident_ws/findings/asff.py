"""A finding of a `Security Hub Findings - Imported` event (AWS Security Finding Format)."""

from __future__ import annotations

import re
from typing import Any

from .guardduty import FINDING_ARN
from .incident import (
    Incident,
    InvalidFinding,
    about,
    dig,
    finding_identifier,
    incident,
    joined,
    scoped_id,
    source_name,
    utc_timestamp,
)
from .severity import asff_severity

DEFAULT_SOURCE = "securityhub"
# Only AWS itself imports findings under product/aws/guardduty: a customer's product cannot.
GUARDDUTY_PRODUCT = re.compile(r"arn:aws[a-z-]*:securityhub:[a-z0-9-]+::product/aws/guardduty")
_ARN_REGION = re.compile(r"arn:[^:]*:[^:]*:([a-z0-9-]+):")


def asff_incident(finding: Any) -> Incident:
    if not isinstance(finding, dict):
        raise InvalidFinding("the finding is not an object")
    finding_id = canonical_id(finding)
    with about(finding_id):
        product_arn = finding.get("ProductArn")
        workflow = dig(finding, "Workflow", "Status") or finding.get("WorkflowState") or "NEW"
        product = finding.get("ProductName") or dig(
            finding, "ProductFields", "aws/securityhub/ProductName"
        )
        return incident(
            finding_id=finding_id,
            severity=asff_severity(finding.get("Severity")),
            title=finding.get("Title"),
            description=finding.get("Description"),
            account=finding.get("AwsAccountId"),
            region=finding.get("Region") or _region_of(product_arn),
            arn=dig(finding, "Resources", 0, "Id"),
            status=workflow,
            source=source_name(product, DEFAULT_SOURCE),
            type=joined(finding.get("Types")),
            created_at=utc_timestamp(finding.get("CreatedAt"), "CreatedAt"),
            updated_at=utc_timestamp(finding.get("UpdatedAt"), "UpdatedAt"),
        )


def canonical_id(finding: dict) -> str:
    """GuardDuty's finding ARN for GuardDuty findings (the id GuardDuty's own events carry),
    else `<ProductArn>/<AwsAccountId>/<Id>`."""
    finding_id = finding_identifier(finding.get("Id"))
    product_arn = finding.get("ProductArn")
    if not isinstance(product_arn, str) or not product_arn.strip():
        raise InvalidFinding("ProductArn is missing or not a string", finding_id)
    if GUARDDUTY_PRODUCT.fullmatch(product_arn) and FINDING_ARN.fullmatch(finding_id):
        return finding_id
    return scoped_id(product_arn, finding.get("AwsAccountId"), finding_id)


def _region_of(arn: Any) -> str | None:
    match = _ARN_REGION.match(arn) if isinstance(arn, str) else None
    return match.group(1) if match else None
