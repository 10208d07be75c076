"""Scheduled keep-alive: ping every connection of every channel (SPEC §2.4)."""

import logging
import time
from concurrent.futures import Executor, ThreadPoolExecutor

import boto3
from botocore.credentials import ReadOnlyCredentials
from incident_ws.broadcast import Delivery, broadcast
from incident_ws.clients import dynamodb_client, frozen_credentials, http_connections
from incident_ws.config import Channel, load_heartbeat_config
from incident_ws.connections import ConnectionStore
from incident_ws.logs import log_event
from incident_ws.management_api import ConnectionsApi
from incident_ws.messages import encode, ping_message

logger = logging.getLogger(__name__)

CONFIG = load_heartbeat_config()
DYNAMODB = dynamodb_client(CONFIG.max_concurrency)
HTTP = http_connections()
SESSION = boto3.session.Session()


def handler(event, context):
    started = time.monotonic()
    ping = encode(ping_message(time.time()))
    credentials = frozen_credentials(SESSION)
    with (
        ThreadPoolExecutor(CONFIG.max_concurrency) as posts,
        ThreadPoolExecutor(len(CONFIG.channels)) as channel_workers,
    ):
        futures = {
            name: channel_workers.submit(_ping_channel, channel, ping, credentials, posts)
            for name, channel in CONFIG.channels.items()
        }
        results = {name: future.result() for name, future in futures.items()}
    log_event(
        logger,
        logging.INFO,
        "heartbeat_sent",
        channels=results,
        elapsedMs=round((time.monotonic() - started) * 1000, 1),
    )
    return results


def _ping_channel(
    channel: Channel, ping: bytes, credentials: ReadOnlyCredentials, posts: Executor
) -> dict:
    store = ConnectionStore(DYNAMODB, channel.table)
    connections = store.scan_live()
    try:
        api = ConnectionsApi(channel.endpoint, channel.region, credentials, HTTP)
        counts = broadcast((Delivery(c, (ping,)) for c in connections), api, store, posts)
    except Exception as error:  # one channel's fault, whatever it is, must not stop the others
        return _channel_failed(channel, error, connections=connections.count)
    result = {
        "connections": connections.count,
        "sent": counts.delivered,
        "gone": counts.gone,
        "failed": counts.failed,
    }
    if connections.error is not None:
        return _channel_failed(channel, connections.error, **result)
    return result


def _channel_failed(channel: Channel, error: Exception, **counts: int) -> dict:
    log_event(
        logger,
        logging.ERROR,
        "heartbeat_channel_failed",
        channel=channel.name,
        table=channel.table,
        error=repr(error),
    )
    return {"connections": 0, "sent": 0, "gone": 0, "failed": 0, **counts, "error": repr(error)}
