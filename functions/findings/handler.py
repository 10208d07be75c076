"""EventBridge → incident table: each GuardDuty or Security Hub finding becomes an incident,
which the incident stream then broadcasts like any other."""

from incident_ws.findings import (
    FindingsNotWritten,
    IncidentWriter,
    Summary,
    dynamodb_client,
    ingest_event,
    load_findings_config,
)
from incident_ws.metrics import Metrics, Recorder

CONFIG = load_findings_config()
DYNAMODB = dynamodb_client()
WRITER = IncidentWriter(DYNAMODB, CONFIG)
METRICS = Metrics.from_environment("findings")
# The metrics' `Source` of each event source the summary names; any other is `other`.
METRIC_SOURCES = {
    "guardduty": "guardduty",
    "securityhub": "securityhub",
    "securityhub-ocsf": "securityhub",
}


def handler(event, context):
    """Raises when a write failed: EventBridge invokes asynchronously, so Lambda retries the
    event, then hands it to the function's on-failure destination."""
    with METRICS.recording() as metrics:
        try:
            summary = ingest_event(event, WRITER)
        except FindingsNotWritten as failure:
            _count(metrics, failure.summary)
            raise
        _count(metrics, summary)
        return summary.as_dict()


def _count(metrics: Recorder, summary: Summary) -> None:
    source = METRIC_SOURCES.get(summary.source, "other")
    metrics.count("FindingsWritten", summary.written, Source=source)
    metrics.count("FindingsStale", summary.stale, Source=source)
    metrics.count("FindingsSkipped", summary.skipped, Source=source)
    metrics.count("FindingsFailed", summary.failed, Source=source)
