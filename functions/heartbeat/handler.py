"""Scheduled keep-alive: a ping to every live connection of every channel (docs/handlers.md)."""

import logging
import time

from incident_ws.config import load_heartbeat_config
from incident_ws.deadline import Deadline
from incident_ws.fanout import ChannelReport, FanOut
from incident_ws.logs import log_event
from incident_ws.messages import ping

logger = logging.getLogger(__name__)

CONFIG = load_heartbeat_config()
FAN_OUT = FanOut(CONFIG)


def handler(event, context):
    started = time.monotonic()
    deadline = Deadline.from_context(context)
    pings = dict.fromkeys(CONFIG.channels, (ping(time.time()),))
    reports = FAN_OUT.send(pings, deadline)
    for report in reports.values():
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
