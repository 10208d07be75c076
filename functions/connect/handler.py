"""`$connect` of every channel: store the connection with its principal and account scope
(docs/handlers.md)."""

import logging
import time

from botocore.exceptions import BotoCoreError, ClientError
from incident_ws import access, websocket_events
from incident_ws.clients import dynamodb_client
from incident_ws.config import load_connect_config
from incident_ws.connection_store import ConnectionStore
from incident_ws.logs import log_event
from incident_ws.metrics import Metrics, Recorder
from incident_ws.registration import connected_response, connection_item
from incident_ws.validation import InvalidParameter

logger = logging.getLogger(__name__)

CONFIG = load_connect_config()
DYNAMODB = dynamodb_client()
STORE = ConnectionStore(DYNAMODB, CONFIG.table)
METRICS = Metrics.from_environment("connect", channels=(CONFIG.channel,))


def handler(event, context):
    with METRICS.recording() as metrics:
        return _connect(event, metrics)


def _connect(event, metrics: Recorder) -> dict:
    fields = {"channel": CONFIG.channel, **websocket_events.log_fields(event)}
    try:
        caller = access.caller(event, CONFIG.authorization)
    except access.AccessDenied as refusal:  # the route let through a request it should not have
        log_event(
            logger,
            logging.ERROR,
            "connect_refused",
            authorization=CONFIG.authorization,
            reason=refusal.reason,
            **fields,
        )
        _rejected(metrics, "forbidden")
        return {"statusCode": 403, "body": "forbidden"}
    fields.update(principal=caller.principal, scope=caller.scope())
    try:
        item = connection_item(
            event, caller, CONFIG.ttl_seconds, CONFIG.store_source_ip, time.time()
        )
    except InvalidParameter as error:
        log_event(logger, logging.WARNING, "connect_rejected", parameter=error.parameter, **fields)
        _rejected(metrics, "forbidden" if error.status_code == 403 else "validation")
        return {"statusCode": error.status_code, "body": str(error)}
    try:
        STORE.put(item)
    except (BotoCoreError, ClientError) as error:
        log_event(logger, logging.ERROR, "connect_store_failed", error=repr(error), **fields)
        _rejected(metrics, "store_error")
        return {"statusCode": 500, "body": "connection could not be stored"}
    log_event(
        logger,
        logging.INFO,
        "connected",
        clientId=item["clientId"],
        account=item.get("account"),
        region=item.get("region"),
        **fields,
    )
    metrics.count("ConnectionsAccepted", Channel=CONFIG.channel)
    return connected_response(event)


def _rejected(metrics: Recorder, reason: str) -> None:
    metrics.count("ConnectionsRejected", Channel=CONFIG.channel, Reason=reason)
