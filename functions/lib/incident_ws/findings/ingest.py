"""One EventBridge event → its findings, each written as an incident or logged as why not."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ..logs import log_event
from .asff import asff_incident
from .guardduty import guardduty_incident
from .incident import Incident, InvalidFinding
from .ocsf import ocsf_incident
from .writer import IncidentWriter

logger = logging.getLogger(__name__)

MAX_LOGGED_ID_CHARS = 256


@dataclass(frozen=True)
class Source:
    name: str
    findings: Callable[[Any], list[Any]]  # the event's `detail` → its findings
    incident: Callable[[Any], Incident]


def _single(detail: Any) -> list[Any]:
    return [detail]


def _findings_list(detail: Any) -> list[Any]:
    findings = detail.get("findings") if isinstance(detail, dict) else None
    if not isinstance(findings, list):
        raise InvalidFinding("detail.findings is missing or not a list")
    return findings


SOURCES = {
    ("aws.guardduty", "GuardDuty Finding"): Source("guardduty", _single, guardduty_incident),
    ("aws.securityhub", "Security Hub Findings - Imported"): Source(
        "securityhub", _findings_list, asff_incident
    ),
    ("aws.securityhub", "Findings Imported V2"): Source(
        "securityhub-ocsf", _findings_list, ocsf_incident
    ),
}


class FindingsNotWritten(RuntimeError):
    """Some findings could not be written: raised so that the event is invoked again, with
    the `summary` of what was done."""

    def __init__(self, message: str, summary: Summary) -> None:
        super().__init__(message)
        self.summary = summary


@dataclass
class Summary:
    source: str
    findings: int = 0
    written: int = 0
    stale: int = 0
    skipped: int = 0
    failed: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def ingest_event(event: Any, writer: IncidentWriter) -> Summary:
    """Writes every finding it can; raises FindingsNotWritten at the end if a write failed
    (the conditional write makes the retry of the others harmless)."""
    key = (_field(event, "source"), _field(event, "detail-type"))
    source = SOURCES.get(key)
    event_id = _field(event, "id")
    summary = Summary(source.name if source else "unsupported")
    try:
        if source is None:
            raise InvalidFinding(f"unsupported event: source and detail-type {key}")
        findings = source.findings(event.get("detail"))
    except InvalidFinding as error:
        summary.skipped += 1
        _skipped(error, summary.source, event_id)
        findings = []
    errors = [
        error
        for finding in findings
        if (error := _ingest_one(finding, source, writer, summary, event_id)) is not None
    ]
    log_event(logger, logging.INFO, "findings_processed", eventId=event_id, **summary.as_dict())
    if errors:
        raise FindingsNotWritten(
            f"{summary.failed} of {summary.findings} findings not written: {errors[0]!r}", summary
        ) from errors[0]
    return summary


def _ingest_one(
    finding: Any, source: Source, writer: IncidentWriter, summary: Summary, event_id: str | None
) -> Exception | None:
    """Counts the finding in `summary`; returns the table's error if the write failed."""
    summary.findings += 1
    try:
        incident = source.incident(finding)
    except InvalidFinding as error:
        summary.skipped += 1
        _skipped(error, summary.source, event_id)
        return None
    try:
        outcome = writer.write(incident)
    except (ClientError, BotoCoreError) as error:
        summary.failed += 1
        _log(logging.ERROR, "finding_write_failed", incident, error=repr(error))
        return error
    if outcome.written:
        summary.written += 1
        _log(logging.INFO, "finding_written", incident, severity=incident.severity)
    else:
        summary.stale += 1
        _log(logging.INFO, "finding_stale", incident, storedUpdatedAt=outcome.stored_updated_at)
    return None


def _log(level: int, name: str, incident: Incident, **fields: Any) -> None:
    log_event(
        logger,
        level,
        name,
        findingId=_short(incident.finding_id),
        incidentId=incident.incident_id,
        updatedAt=incident.updated_at,
        **fields,
    )


def _skipped(error: InvalidFinding, source: str, event_id: str | None) -> None:
    log_event(
        logger,
        logging.WARNING,
        "finding_skipped",
        reason=error.reason,
        findingId=_short(error.finding_id),
        source=source,
        eventId=event_id,
    )


def _field(event: Any, name: str) -> Any:
    value = event.get(name) if isinstance(event, dict) else None
    return _short(value) if isinstance(value, str) else None


def _short(value: str | None) -> str | None:
    if value is None or len(value) <= MAX_LOGGED_ID_CHARS:
        return value
    return value[: MAX_LOGGED_ID_CHARS - 1] + "…"
