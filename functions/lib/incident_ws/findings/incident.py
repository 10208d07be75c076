"""The incident item a finding becomes, and the checks every value passes on its way in.

Whatever a finding holds, an `Incident` only ever has the attributes below, each of the
right type and within its bound, so that the item stays far below DynamoDB's 400 KB and the
stream's WebSocket message (the item plus a few of its fields) below API Gateway's 128 KB.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

SEVERITIES = ("INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL")
INCIDENT_ENTRY = "incident"  # the sort key value of the incident item, when there is one

MAX_FINDING_ID_CHARS = 1024  # an id is never cut: two findings must not share an incident
MAX_TITLE_CHARS = 512
MAX_DESCRIPTION_CHARS = 4000
MAX_TYPE_CHARS = 512
MAX_ARN_CHARS = 2048
MAX_WORD_CHARS = 64  # status, source
MAX_COUNT = 2**53  # larger counts lose precision in the dashboard's JavaScript
FUTURE_TOLERANCE = timedelta(days=1)

# The attributes an incident item may carry; a key attribute must not collide with them.
ITEM_ATTRIBUTES = (
    "incident_id",
    "finding_id",
    "severity",
    "title",
    "description",
    "account",
    "region",
    "arn",
    "status",
    "source",
    "type",
    "created_at",
    "updated_at",
    "count",
)

_ACCOUNT = re.compile(r"[0-9]{12}")
_REGION = re.compile(r"[a-z]{2,4}(-[a-z]+)+-[0-9]{1,2}")
_STATUS = re.compile(r"[A-Z][A-Z0-9_]*")
_TIMESTAMP_MAX_CHARS = 40
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class InvalidFinding(ValueError):
    """A finding that cannot become an incident; `reason` says why."""

    def __init__(self, reason: str, finding_id: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.finding_id = finding_id


@dataclass(frozen=True)
class Incident:
    """A validated finding. Build it with `incident()`, which checks every value."""

    finding_id: str
    severity: str
    title: str
    account: str
    region: str
    status: str
    source: str
    type: str
    created_at: str
    updated_at: str
    description: str | None = None
    arn: str | None = None
    count: int | None = None

    @property
    def incident_id(self) -> str:
        return incident_id_of(self.finding_id)

    def item(self, hash_key: str = "incident_id", range_key: str | None = None) -> dict[str, Any]:
        """The item for a table keyed by `hash_key` (and `range_key`, set to "incident")."""
        item: dict[str, Any] = {
            hash_key: self.incident_id,
            "incident_id": self.incident_id,
            "finding_id": self.finding_id,
            "severity": self.severity,
            "title": self.title,
            "account": self.account,
            "region": self.region,
            "status": self.status,
            "source": self.source,
            "type": self.type,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }
        if range_key is not None:
            item[range_key] = INCIDENT_ENTRY
        optional = {"description": self.description, "arn": self.arn, "count": self.count}
        item.update({name: value for name, value in optional.items() if value is not None})
        return item


def incident_id_of(finding_id: str) -> str:
    """Stable per finding: every update of a finding lands on the same incident."""
    return "finding-" + hashlib.sha256(finding_id.encode("utf-8")).hexdigest()[:24]


def incident(
    *,
    finding_id: Any,
    severity: str,
    title: Any,
    account: Any,
    region: Any,
    status: Any,
    source: str,
    type: Any,
    created_at: str,
    updated_at: str,
    description: Any = None,
    arn: Any = None,
    count: Any = None,
) -> Incident:
    """An Incident from extracted values; raises InvalidFinding for anything off."""
    latest_accepted = _format(datetime.now(UTC) + FUTURE_TOLERANCE)
    if updated_at > latest_accepted:
        raise InvalidFinding(f"updated_at {updated_at} is more than a day in the future")
    return Incident(
        finding_id=finding_identifier(finding_id),
        severity=severity,
        title=text(title, "title", MAX_TITLE_CHARS),
        account=account_id(account),
        region=region_name(region),
        status=status_word(status),
        source=source,
        type=text(type, "type", MAX_TYPE_CHARS),
        created_at=created_at,
        updated_at=updated_at,
        description=optional_text(description, MAX_DESCRIPTION_CHARS),
        arn=optional_text(arn, MAX_ARN_CHARS),
        count=optional_count(count),
    )


@contextmanager
def about(finding_id: str) -> Iterator[None]:
    """Errors raised inside name `finding_id`, so that the log line says which finding."""
    try:
        yield
    except InvalidFinding as error:
        error.finding_id = error.finding_id or finding_id
        raise


def dig(value: Any, *path: str | int) -> Any:
    """`value[path[0]][path[1]]...`, or None as soon as a step is missing or of another type."""
    for step in path:
        if isinstance(step, int):
            if not isinstance(value, list) or not -len(value) <= step < len(value):
                return None
        elif not isinstance(value, dict):
            return None
        value = value[step] if isinstance(step, int) else value.get(step)
    return value


def finding_identifier(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidFinding("the finding has no id")
    identifier = _clean(value.strip())
    if len(identifier) > MAX_FINDING_ID_CHARS:
        raise InvalidFinding(f"the finding id is longer than {MAX_FINDING_ID_CHARS} characters")
    return identifier


def scoped_id(product: str, account: Any, finding_id: str) -> str:
    """A finding id is unique only within its product; the account keeps two tenants'
    findings apart even if a product repeats an id."""
    return finding_identifier(f"{product}/{account}/{finding_id}")


def joined(values: Any) -> str | None:
    """A list of strings as `a, b`; None for anything else."""
    if isinstance(values, list) and values and all(isinstance(v, str) for v in values):
        return ", ".join(values)
    return None


def text(value: Any, name: str, limit: int) -> str:
    """A required string: stripped, UTF-8 safe, cut to `limit` characters (marked "…")."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidFinding(f"{name} is missing or not a string")
    return _bounded(_clean(value.strip()), limit)


def optional_text(value: Any, limit: int) -> str | None:
    """Like `text`, but a missing or odd value is simply left out."""
    if not isinstance(value, str) or not value.strip():
        return None
    return _bounded(_clean(value.strip()), limit)


def account_id(value: Any) -> str:
    # Fail closed: an incident without its account would reach every tenant's dashboards.
    if not isinstance(value, str) or not _ACCOUNT.fullmatch(value):
        raise InvalidFinding("account is not a 12-digit AWS account id")
    return value


def region_name(value: Any) -> str:
    if not isinstance(value, str) or not _REGION.fullmatch(value):
        raise InvalidFinding("region is not an AWS region name")
    return value


def status_word(value: Any) -> str:
    """`In Progress` → `IN_PROGRESS`; the vocabulary itself is the source's."""
    word = re.sub(r"[\s-]+", "_", value.strip()).upper() if isinstance(value, str) else ""
    if not _STATUS.fullmatch(word) or len(word) > MAX_WORD_CHARS or not word.isascii():
        raise InvalidFinding("status is not a status word")
    return word


def source_name(product: Any, default: str) -> str:
    """`Security Hub` → `securityhub`, `GuardDuty` → `guardduty`; else `default`."""
    name = re.sub(r"[^a-z0-9]", "", product.lower()) if isinstance(product, str) else ""
    return name[:MAX_WORD_CHARS] or default


def optional_count(value: Any) -> int | None:
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 17:
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < MAX_COUNT:
        return None
    return value


def utc_timestamp(value: Any, name: str) -> str:
    """An ISO-8601 time with its offset → `YYYY-MM-DDTHH:MM:SS.mmmZ` in UTC, so that the
    strings compare in time order."""
    if not isinstance(value, str) or len(value) > _TIMESTAMP_MAX_CHARS:
        raise InvalidFinding(f"{name} is missing or not an ISO-8601 time")
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise InvalidFinding(f"{name} is not an ISO-8601 time") from None
    if parsed.tzinfo is None:
        raise InvalidFinding(f"{name} has no UTC offset")
    try:
        return _format(parsed.astimezone(UTC))
    except OverflowError:
        raise InvalidFinding(f"{name} is out of range") from None


def epoch_millis_timestamp(value: Any, name: str) -> str:
    """Milliseconds since 1970 → the same normalised form as `utc_timestamp`."""
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        raise InvalidFinding(f"{name} is not a time in epoch milliseconds")
    try:
        return _format(_EPOCH + timedelta(milliseconds=int(value)))
    except (OverflowError, ValueError):
        raise InvalidFinding(f"{name} is out of range") from None


def _format(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _clean(value: str) -> str:
    """Lone surrogates (legal in JSON, not in UTF-8) become `?`: boto3 could not send them."""
    return value.encode("utf-8", "replace").decode("utf-8")


def _bounded(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"
