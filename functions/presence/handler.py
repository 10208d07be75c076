"""Presence of the channels that have it on (docs/handlers.md): the connections tables' streams
→ `presence` events on their channel; the `presence` route → the channel's members."""

import logging
import time

from incident_ws import websocket_events
from incident_ws.config import load_presence_config
from incident_ws.deadline import Deadline
from incident_ws.logs import log_event
from incident_ws.metrics import Metrics, Recorder
from incident_ws.presence import Presence

logger = logging.getLogger(__name__)

CONFIG = load_presence_config()
PRESENCE = Presence(CONFIG)
METRICS = Metrics.from_environment("presence", channels=CONFIG.channels)


def handler(event, context):
    started = time.monotonic()
    if websocket_events.connection_id(event) is not None:  # the `presence` route
        fields = PRESENCE.answer_members(event, context)
        level = logging.ERROR if "error" in fields else logging.INFO
        elapsed = round((time.monotonic() - started) * 1000, 1)
        event_name = "presence_members_failed" if "error" in fields else "presence_members_sent"
        log_event(logger, level, event_name, **fields, elapsedMs=elapsed)
        return {"statusCode": 200}
    with METRICS.recording() as metrics:
        return _broadcast(event, context, metrics, started)


def _broadcast(event, context, metrics: Recorder, started: float) -> dict:
    records = event.get("Records") if isinstance(event, dict) else None
    batch, reports = PRESENCE.broadcast(records, Deadline.from_context(context))
    for key, events in batch.events.items():
        metrics.count("PresenceEvents", len(events), Channel=key)
    for key, report in reports.items():
        metrics.count("Delivered", report.counts.delivered, Channel=key)
        metrics.count("Failed", report.counts.failed, Channel=key)
        if report.error is not None:
            event_name = "connections_unreadable" if report.unreadable else "channel_failed"
            log_event(logger, logging.ERROR, event_name, **report.error_fields())
    retry = batch.retry(reports)
    log_event(
        logger,
        logging.INFO,
        "presence_batch_processed",
        records=len(records) if isinstance(records, list) else 0,
        events=len(batch.messages),
        channels={key: report.summary() for key, report in reports.items()},
        failedRecords=len(retry),
        elapsedMs=round((time.monotonic() - started) * 1000, 1),
    )
    return {"batchItemFailures": [{"itemIdentifier": s} for s in retry]}
