"""DynamoDB stream of the incident table → each change's message in the message logs and on the
channels it is routed to, as docs/handlers.md describes (messages, ids, routing, filters,
the message log, outcomes, partial batches, metrics)."""

import logging
import time

from incident_ws import stream
from incident_ws.config import load_stream_config
from incident_ws.deadline import Deadline
from incident_ws.fanout import ChannelReport, FanOut
from incident_ws.logs import log_event
from incident_ws.message_log import MessageLog
from incident_ws.metrics import Metrics, Recorder
from incident_ws.sharding import ShardedFanOut

logger = logging.getLogger(__name__)

CONFIG = load_stream_config()
FAN_OUT = FanOut(CONFIG)
SHARDED_FAN_OUT = ShardedFanOut(FAN_OUT, CONFIG.sharding)
MESSAGE_LOG = MessageLog(FAN_OUT.dynamodb, CONFIG.message_retention_seconds)
METRICS = Metrics.from_environment("stream_processor", channels=CONFIG.channels)


def handler(event, context):
    with METRICS.recording() as metrics:
        return _process(event, context, metrics)


def _process(event, context, metrics: Recorder) -> dict:
    started = time.monotonic()
    deadline = Deadline.from_context(context)
    records = event.get("Records") if isinstance(event, dict) else None
    messages = stream.batch_messages(records)
    metrics.count("Records", len(records) if isinstance(records, list) else 0)
    metrics.count("Messages", len(messages))
    routed = stream.route(messages, CONFIG.message_routing, CONFIG.data_attributes)
    logged = MESSAGE_LOG.append(CONFIG.channels, routed, deadline)  # before any post
    for key, counts in logged.items():
        metrics.count("LogFailed", counts.failed, Channel=key)
    reports, segments = SHARDED_FAN_OUT.send(routed, deadline)
    for key, report in reports.items():
        _count_channel(metrics, key, report)
        if report.error is not None:
            event_name = "connections_unreadable" if report.unreadable else "channel_failed"
            log_event(logger, logging.ERROR, event_name, **report.error_fields())
    retry = {
        message.sequence_number for report in reports.values() for message in report.unreached()
    }
    metrics.count("FailedRecords", len(retry))
    summaries = {key: report.summary() for key, report in reports.items()}
    for key, counts in logged.items():
        summaries[key].update(logged=counts.logged, logFailed=counts.failed)
    for key, total in segments.items():
        if total > 1:
            summaries[key]["segments"] = total
    log_event(
        logger,
        logging.INFO,
        "stream_batch_processed",
        records=len(records) if isinstance(records, list) else 0,
        messages=len(messages),
        channels=summaries,
        failedRecords=len(retry),
        elapsedMs=round((time.monotonic() - started) * 1000, 1),
    )
    retry_in_stream_order = dict.fromkeys(
        m.sequence_number for m in messages if m.sequence_number in retry
    )
    return {"batchItemFailures": [{"itemIdentifier": s} for s in retry_in_stream_order]}


def _count_channel(metrics: Recorder, key: str, report: ChannelReport) -> None:
    """A channel's figures, whether its pass was complete or not."""
    counts = report.counts
    for name, value in (
        ("ConnectionsRead", report.connections),
        ("Delivered", counts.delivered),
        ("Gone", counts.gone),
        ("Failed", counts.failed),
        ("Unattempted", counts.unattempted),
        ("Retried", counts.retried),
        ("PossibleDuplicates", counts.duplicates),
    ):
        metrics.count(name, value, Channel=key)
    metrics.observe("FanOutDuration", round(report.seconds * 1000, 1), Channel=key)
    for message, ended in report.last_deliveries():
        if message.created_at is not None:
            # The creation time is whole seconds, rounded down: up to 1 s more than the truth.
            latency = max(0.0, (ended - message.created_at) * 1000)
            metrics.observe("EndToEndLatency", round(latency, 1), Channel=key)
