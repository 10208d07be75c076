"""EventBridge → incident table: each GuardDuty or Security Hub finding becomes an incident,
which the incident stream then broadcasts like any other."""

from incident_ws.findings import (
    IncidentWriter,
    dynamodb_client,
    ingest_event,
    load_findings_config,
)

CONFIG = load_findings_config()
DYNAMODB = dynamodb_client()
WRITER = IncidentWriter(DYNAMODB, CONFIG)


def handler(event, context):
    """Raises when a write failed: EventBridge invokes asynchronously, so Lambda retries the
    event, then hands it to the function's on-failure destination."""
    return ingest_event(event, WRITER).as_dict()
