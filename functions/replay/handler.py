"""The `replay` route of a channel: the messages a connection missed, from the channel's message
log, filtered as live delivery is (docs/handlers.md). Always answers 200: the client hears
about anything wrong in an error frame."""

import logging
import time

from incident_ws import websocket_events
from incident_ws.config import load_replay_config
from incident_ws.logs import log_event
from incident_ws.metrics import Metrics, Recorder
from incident_ws.replay import Replayer

logger = logging.getLogger(__name__)

CONFIG = load_replay_config()
REPLAYER = Replayer(CONFIG)
METRICS = Metrics.from_environment("replay", channels=(CONFIG.channel,))
OK = {"statusCode": 200}


def handler(event, context):
    with METRICS.recording() as metrics:
        metrics.count("ReplayRequests", Channel=CONFIG.channel)
        return _replay(event, context, metrics)


def _replay(event, context, metrics: Recorder) -> dict:
    started = time.monotonic()
    fields = {"channel": CONFIG.channel, **websocket_events.log_fields(event)}
    connection_id = websocket_events.connection_id(event)
    if connection_id is None:
        log_event(logger, logging.ERROR, "replay_failed", error="no connectionId", **fields)
        return OK
    body = event.get("body")
    try:
        outcome = REPLAYER.answer(connection_id, body, context)
    except Exception as error:  # a bug is logged; the client keeps its connection, never a 500
        log_event(logger, logging.ERROR, "replay_failed", error=repr(error), **fields)
        return OK
    metrics.count("ReplayMessages", outcome.sent, Channel=CONFIG.channel)
    metrics.count("ReplayRejected", int(outcome.rejected is not None), Channel=CONFIG.channel)
    elapsed = round((time.monotonic() - started) * 1000, 1)
    if outcome.rejected is not None:
        event_name, level = "replay_rejected", logging.WARNING
    elif outcome.failure is not None:
        event_name, level = "replay_failed", logging.ERROR
    else:
        event_name, level = "replay_sent", logging.INFO
    log_event(logger, level, event_name, **outcome.fields(), **fields, elapsedMs=elapsed)
    return OK
