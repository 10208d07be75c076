"""`$connect` of every channel: store the connection (docs/handlers.md)."""

import logging
import time

from botocore.exceptions import BotoCoreError, ClientError
from incident_ws.clients import dynamodb_client
from incident_ws.config import load_connect_config
from incident_ws.connection_store import ConnectionStore
from incident_ws.logs import log_event
from incident_ws.registration import connection_item
from incident_ws.validation import InvalidParameter

logger = logging.getLogger(__name__)

CONFIG = load_connect_config()
DYNAMODB = dynamodb_client()
STORE = ConnectionStore(DYNAMODB, CONFIG.table)


def handler(event, context):
    try:
        item = connection_item(event, CONFIG.ttl_seconds, CONFIG.store_source_ip, time.time())
    except InvalidParameter as error:
        log_event(
            logger,
            logging.WARNING,
            "connect_rejected",
            channel=CONFIG.channel,
            parameter=error.parameter,
        )
        return {"statusCode": 400, "body": str(error)}
    try:
        STORE.put(item)
    except (BotoCoreError, ClientError) as error:
        log_event(
            logger,
            logging.ERROR,
            "connect_store_failed",
            channel=CONFIG.channel,
            connectionId=item["connectionId"],
            error=repr(error),
        )
        return {"statusCode": 500, "body": "connection could not be stored"}
    log_event(
        logger,
        logging.INFO,
        "connected",
        channel=CONFIG.channel,
        connectionId=item["connectionId"],
        clientId=item["clientId"],
        account=item.get("account"),
        region=item.get("region"),
    )
    return {"statusCode": 200, "body": "connected"}
