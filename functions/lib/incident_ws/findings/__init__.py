"""GuardDuty and Security Hub findings (from EventBridge) → incidents in the incident table."""

from .config import FindingsConfig, load_findings_config
from .incident import Incident, InvalidFinding
from .ingest import FindingsNotWritten, Summary, ingest_event
from .writer import IncidentWriter, dynamodb_client

__all__ = [
    "FindingsConfig",
    "FindingsNotWritten",
    "Incident",
    "IncidentWriter",
    "InvalidFinding",
    "Summary",
    "dynamodb_client",
    "ingest_event",
    "load_findings_config",
]
