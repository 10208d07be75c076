"""DynamoDB stream of the Incident table → WebSocket broadcast (SPEC §2.3)."""

import logging
import time
from concurrent.futures import ThreadPoolExecutor

import boto3
from botocore.exceptions import BotoCoreError, ClientError
from incident_ws import stream
from incident_ws.broadcast import DeliveryCounts, broadcast
from incident_ws.clients import dynamodb_client, frozen_credentials, http_session
from incident_ws.config import load_stream_config
from incident_ws.connections import ConnectionStore
from incident_ws.logs import log_event
from incident_ws.management_api import ConnectionsApi

logger = logging.getLogger(__name__)

CONFIG = load_stream_config()
DYNAMODB = dynamodb_client(CONFIG.max_concurrency)
HTTP = http_session(CONFIG.max_concurrency)
SESSION = boto3.session.Session()


def handler(event, context):
    started = time.monotonic()
    records = event.get("Records") if isinstance(event, dict) else None
    outgoing = stream.outgoing_messages(records)
    credentials = frozen_credentials(SESSION)
    failed_sequence_numbers: set[str] = set()
    channels: dict[str, dict] = {}
    with ThreadPoolExecutor(CONFIG.max_concurrency) as posts:
        for name, messages in stream.by_channel(outgoing, CONFIG.routes).items():
            channel = CONFIG.channels[name]
            store = ConnectionStore(DYNAMODB, channel.table)
            try:
                connections = store.live_connections()
            except (BotoCoreError, ClientError) as error:
                # Without the connection list none of these messages reached this channel:
                # retrying the records is the only way they ever will.
                log_event(
                    logger,
                    logging.ERROR,
                    "connections_unreadable",
                    channel=name,
                    table=channel.table,
                    error=repr(error),
                )
                failed_sequence_numbers.update(m.sequence_number for m in messages)
                channels[name] = {"error": repr(error)}
                continue
            api = ConnectionsApi(channel.endpoint, channel.region, credentials, HTTP)
            counts: DeliveryCounts = broadcast(
                stream.deliveries(messages, connections), api, store, posts
            )
            channels[name] = {"connections": len(connections), **counts.as_dict()}
    log_event(
        logger,
        logging.INFO,
        "stream_batch_processed",
        records=len(records) if isinstance(records, list) else 0,
        messages=len(outgoing),
        channels=channels,
        failedRecords=len(failed_sequence_numbers),
        elapsedMs=round((time.monotonic() - started) * 1000, 1),
    )
    return {
        "batchItemFailures": [
            {"itemIdentifier": sequence} for sequence in sorted(failed_sequence_numbers)
        ]
    }
