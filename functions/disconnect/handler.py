"""`$disconnect` of every channel: forget the connection, and log who it was (docs/handlers.md)."""

import logging
import time

from botocore.exceptions import BotoCoreError, ClientError
from incident_ws import websocket_events
from incident_ws.clients import dynamodb_client
from incident_ws.config import load_disconnect_config
from incident_ws.connection_store import ConnectionStore
from incident_ws.logs import log_event
from incident_ws.metrics import Metrics, Recorder

logger = logging.getLogger(__name__)

CONFIG = load_disconnect_config()
DYNAMODB = dynamodb_client()
STORE = ConnectionStore(DYNAMODB, CONFIG.table)
METRICS = Metrics.from_environment("disconnect", channels=(CONFIG.channel,))


def handler(event, context):
    with METRICS.recording() as metrics:
        metrics.count("Disconnections", Channel=CONFIG.channel)
        return _disconnect(event, metrics)


def _disconnect(event, metrics: Recorder) -> dict:
    connection_id = websocket_events.connection_id(event)
    request = websocket_events.request_context(event)
    fields = {
        "channel": CONFIG.channel,
        "connectionId": connection_id,
        "disconnectStatusCode": request.get("disconnectStatusCode"),
        "disconnectReason": request.get("disconnectReason"),
    }
    if connection_id is None:
        log_event(logger, logging.WARNING, "disconnect_without_connection_id", **fields)
        return _disconnected()
    try:
        old = STORE.delete(connection_id)
    except (BotoCoreError, ClientError) as error:
        log_event(logger, logging.ERROR, "disconnect_delete_failed", error=repr(error), **fields)
        return _disconnected()
    connected = _connected_seconds(old or {}, time.time())
    if connected is not None and connected >= 0:
        metrics.observe("ConnectedDuration", connected, Channel=CONFIG.channel)
    log_event(
        logger,
        logging.INFO,
        "disconnected",
        known=old is not None,
        **_connection_summary(old or {}, connected),
        **fields,
    )
    return _disconnected()


def _disconnected() -> dict:
    return {"statusCode": 200, "body": "disconnected"}


def _connected_seconds(item: dict, now: float) -> float | None:
    """Since the stored `createdAt` (epoch milliseconds); None without one."""
    created_ms = item.get("createdAt")
    return now - created_ms / 1000 if isinstance(created_ms, int | float) else None


def _connection_summary(item: dict, connected: float | None) -> dict:
    return {
        "clientId": item.get("clientId"),
        "principal": item.get("principal"),
        "sourceIp": item.get("sourceIp"),
        "account": item.get("account"),
        "region": item.get("region"),
        "connectedSeconds": round(connected, 3) if connected is not None else None,
    }
