"""One segment of a channel's connections, posted to for the stream processor: the sharded
fan-out's worker (docs/handlers.md, "Sharded fan-out")."""

import logging
import time

from incident_ws.config import load_fan_out_worker_config
from incident_ws.deadline import Deadline
from incident_ws.fanout import FanOut
from incident_ws.fanout_requests import RequestError, decode_request, encode_report
from incident_ws.logs import log_event

logger = logging.getLogger(__name__)

CONFIG = load_fan_out_worker_config()
FAN_OUT = FanOut(CONFIG)


def handler(event, context):
    started = time.monotonic()
    try:
        request = decode_request(event)
        if request.channel not in CONFIG.channels:
            raise RequestError(f"channel {request.channel!r} is not one this worker reaches")
    except RequestError as error:
        log_event(logger, logging.ERROR, "fan_out_request_invalid", error=str(error))
        return {"error": str(error)}
    deadline = Deadline.from_context(context).earliest(Deadline.from_epoch(request.deadline))
    key, segment = request.channel, request.segment
    report = FAN_OUT.send({key: request.messages}, deadline, {key: segment})[key]
    if report.error is not None:
        log_event(
            logger,
            logging.ERROR,
            "connections_unreadable" if report.unreadable else "channel_failed",
            segment=segment.index,
            totalSegments=segment.total,
            **report.error_fields(),
        )
    log_event(
        logger,
        logging.INFO,
        "fan_out_segment_processed",
        channel=key,
        segment=segment.index,
        totalSegments=segment.total,
        messages=len(request.messages),
        counts=report.summary(),
        elapsedMs=round((time.monotonic() - started) * 1000, 1),
    )
    return encode_report(report)
