"""From a DynamoDB stream batch to the messages each channel receives (docs/handlers.md)."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from .logs import log_event
from .messages import DataAttributes, Message, MessageTooLarge, build_message, encode
from .records import RecordError, read_change

logger = logging.getLogger(__name__)


def batch_messages(records: Any) -> list[Message]:
    """The batch's messages in stream order, each with its id (message_ids.py) and encoded with
    the whole item as `data`. Records that can never become a message (REMOVE, unreadable or
    without what an id is made of, unclassified, too big) are skipped and logged, not failed:
    retrying them would not help. Every other choice of `data` encodes to no more bytes than
    the whole item, so what encodes here encodes for every channel."""
    if not isinstance(records, list):
        log_event(
            logger, logging.ERROR, "stream_event_without_records", type=type(records).__name__
        )
        return []
    messages = []
    for position, record in enumerate(records):
        try:
            change = read_change(record)
        except RecordError as error:
            log_event(logger, logging.ERROR, "record_skipped", position=position, reason=str(error))
            continue
        if change is None:
            continue
        message = build_message(change)
        if message is None:
            log_event(logger, logging.DEBUG, "record_unclassified", sequence=change.sequence_number)
            continue
        try:
            body = encode(message)
        except ValueError as error:  # MessageTooLarge included
            log_event(
                logger,
                logging.ERROR,
                "message_too_large" if isinstance(error, MessageTooLarge) else "message_not_json",
                sequence=change.sequence_number,
                type=message["type"],
                reason=str(error),
            )
            continue
        messages.append(
            Message(
                message["type"],
                body,
                message.get("account"),
                message.get("region"),
                change.sequence_number,
                change.message_id,
                created_at=change.created_at,
                content=message,
            )
        )
    return messages


def route(
    messages: Sequence[Message],
    message_routing: Mapping[str, Sequence[str]],
    data_attributes: Mapping[str, DataAttributes],
) -> dict[str, list[Message]]:
    """Each channel key's messages, in stream order, as ROUTES sends them, with the `data` the
    channel carries: a message is encoded once for each choice its channels make, never per
    channel nor per connection."""
    routed: dict[str, list[Message]] = {}
    for message in messages:
        encodings: dict[DataAttributes, Message] = {}
        for channel in message_routing.get(message.type, ()):
            attributes = data_attributes.get(channel)
            if attributes not in encodings:
                encodings[attributes] = message.with_data(attributes)
            routed.setdefault(channel, []).append(encodings[attributes])
    return routed
