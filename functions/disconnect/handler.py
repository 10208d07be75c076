"""`$disconnect` of every channel: forget the connection, and log who it was (docs/handlers.md)."""

import logging
import time

from botocore.exceptions import BotoCoreError, ClientError
from incident_ws import websocket_events
from incident_ws.clients import dynamodb_client
from incident_ws.config import load_disconnect_config
from incident_ws.connection_store import ConnectionStore
from incident_ws.logs import log_event

logger = logging.getLogger(__name__)

CONFIG = load_disconnect_config()
DYNAMODB = dynamodb_client()
STORE = ConnectionStore(DYNAMODB, CONFIG.table)


def handler(event, context):
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
    log_event(
        logger,
        logging.INFO,
        "disconnected",
        known=old is not None,
        **_connection_summary(old or {}, time.time()),
        **fields,
    )
    return _disconnected()


def _disconnected() -> dict:
    return {"statusCode": 200, "body": "disconnected"}


def _connection_summary(item: dict, now: float) -> dict:
    created_ms = item.get("createdAt")
    connected = now - created_ms / 1000 if isinstance(created_ms, int | float) else None
    return {
        "clientId": item.get("clientId"),
        "principal": item.get("principal"),
        "sourceIp": item.get("sourceIp"),
        "account": item.get("account"),
        "region": item.get("region"),
        "connectedSeconds": round(connected, 3) if connected is not None else None,
    }
