"""DynamoDB stream of the Incident table → WebSocket broadcast (SPEC §2.3)."""

import logging
import time
from collections.abc import Sequence
from concurrent.futures import Executor, ThreadPoolExecutor

import boto3
from botocore.credentials import ReadOnlyCredentials
from incident_ws import stream
from incident_ws.broadcast import broadcast
from incident_ws.clients import dynamodb_client, frozen_credentials, http_connections
from incident_ws.config import Channel, load_stream_config
from incident_ws.connections import ConnectionStore
from incident_ws.logs import log_event
from incident_ws.management_api import ConnectionsApi

logger = logging.getLogger(__name__)

CONFIG = load_stream_config()
DYNAMODB = dynamodb_client(CONFIG.max_concurrency)
HTTP = http_connections()
SESSION = boto3.session.Session()


class ChannelUnreadable(Exception):
    """The channel's connection list could not be read: none of its messages went out."""


def handler(event, context):
    started = time.monotonic()
    records = event.get("Records") if isinstance(event, dict) else None
    outgoing = stream.outgoing_messages(records)
    credentials = frozen_credentials(SESSION)
    failed: set[str] = set()
    channels: dict[str, dict] = {}
    routed = stream.by_channel(outgoing, CONFIG.routes)
    with (
        ThreadPoolExecutor(CONFIG.max_concurrency) as posts,
        ThreadPoolExecutor(len(CONFIG.channels)) as channel_workers,
    ):
        futures = {
            name: channel_workers.submit(
                _broadcast, CONFIG.channels[name], messages, credentials, posts
            )
            for name, messages in routed.items()
        }
        for name, future in futures.items():
            try:
                channels[name] = future.result()
            except ChannelUnreadable as error:
                # Retrying these records is the only way their messages ever reach it.
                failed.update(message.sequence_number for message in routed[name])
                channels[name] = {"error": str(error)}
    log_event(
        logger,
        logging.INFO,
        "stream_batch_processed",
        records=len(records) if isinstance(records, list) else 0,
        messages=len(outgoing),
        channels=channels,
        failedRecords=len(failed),
        elapsedMs=round((time.monotonic() - started) * 1000, 1),
    )
    failed_in_stream_order = dict.fromkeys(
        m.sequence_number for m in outgoing if m.sequence_number in failed
    )
    return {"batchItemFailures": [{"itemIdentifier": s} for s in failed_in_stream_order]}


def _broadcast(
    channel: Channel,
    messages: Sequence[stream.Outgoing],
    credentials: ReadOnlyCredentials,
    posts: Executor,
) -> dict:
    store = ConnectionStore(DYNAMODB, channel.table)
    connections = store.scan_live()
    api = ConnectionsApi(channel.endpoint, channel.region, credentials, HTTP)
    counts = broadcast(stream.deliveries(messages, connections), api, store, posts)
    summary = {"connections": connections.count, **counts.as_dict()}
    if connections.error is None:
        return summary
    log_event(
        logger,
        logging.ERROR,
        "connections_unreadable",
        channel=channel.name,
        table=channel.table,
        connectionsRead=connections.count,
        error=repr(connections.error),
    )
    if connections.count == 0:
        raise ChannelUnreadable(repr(connections.error))
    # Some connections already have these messages: retrying the records would send them
    # twice, so the unread rest of the table misses them, as a failed post would.
    return {**summary, "error": repr(connections.error)}
