"""Scheduled keep-alive: a ping to every live connection of every channel (docs/handlers.md)."""

import logging
import time

from incident_ws.config import load_heartbeat_config
from incident_ws.deadline import Deadline
from incident_ws.fanout import ChannelReport, FanOut
from incident_ws.logs import log_event
from incident_ws.messages import ping
from incident_ws.metrics import Metrics, Recorder

logger = logging.getLogger(__name__)

CONFIG = load_heartbeat_config()
FAN_OUT = FanOut(CONFIG)
METRICS = Metrics.from_environment("heartbeat", channels=CONFIG.channels)


def handler(event, context):
    with METRICS.recording() as metrics:
        return _heartbeat(context, metrics)


def _heartbeat(context, metrics: Recorder) -> dict:
    started = time.monotonic()
    deadline = Deadline.from_context(context)
    pings = dict.fromkeys(CONFIG.channels, (ping(time.time()),))
    reports = FAN_OUT.send(pings, deadline)
    for key, report in reports.items():
        _count_channel(metrics, key, report)
        if report.error is not None:
            log_event(logger, logging.ERROR, "heartbeat_channel_failed", **report.error_fields())
    log_event(
        logger,
        logging.INFO,
        "heartbeat_sent",
        channels={key: report.summary() for key, report in reports.items()},
        elapsedMs=round((time.monotonic() - started) * 1000, 1),
    )
    return {key: _result_entry(report) for key, report in reports.items()}


def _count_channel(metrics: Recorder, key: str, report: ChannelReport) -> None:
    """A channel's figures, whether its pass was complete or not: `Connections` is the gauge of
    connected clients."""
    counts = report.counts
    for name, value in (
        ("Connections", report.connections),
        ("Delivered", counts.delivered),
        ("Gone", counts.gone),
        ("Failed", counts.failed),
        ("Unattempted", counts.unattempted),
    ):
        metrics.count(name, value, Channel=key)


def _result_entry(report: ChannelReport) -> dict:
    """The heartbeat's result keeps its own names: `sent` is what the logs call `delivered`."""
    entry = {
        "connections": report.connections,
        "sent": report.counts.delivered,
        "gone": report.counts.gone,
        "failed": report.counts.failed,
        "unattempted": report.counts.unattempted,
    }
    return entry if report.error is None else {**entry, "error": report.error}
