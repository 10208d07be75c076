"""From a DynamoDB stream batch to per-channel, per-connection deliveries (SPEC §2.3)."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .broadcast import Delivery
from .connections import Connection
from .logs import log_event
from .messages import MessageTooLarge, build_message, encode
from .records import RecordError, read_change

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outgoing:
    """One encoded message and what routing and filtering need to know about it."""

    sequence_number: str
    message_type: str
    account: Any
    region: Any
    body: bytes


def outgoing_messages(records: Any) -> list[Outgoing]:
    """The batch's messages in stream order. Records that can never become a message
    (REMOVE, unreadable, unclassified, too big) are skipped and logged, not failed:
    retrying them would not help."""
    if not isinstance(records, list):
        log_event(
            logger, logging.ERROR, "stream_event_without_records", type=type(records).__name__
        )
        return []
    outgoing = []
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
        outgoing.append(
            Outgoing(
                change.sequence_number,
                message["type"],
                message.get("account"),
                message.get("region"),
                body,
            )
        )
    return outgoing


def by_channel(
    outgoing: Sequence[Outgoing], routes: Mapping[str, Sequence[str]]
) -> dict[str, list[Outgoing]]:
    """Each channel's messages, in stream order, as ROUTES sends them."""
    channels: dict[str, list[Outgoing]] = {}
    for message in outgoing:
        for channel in routes.get(message.message_type, ()):
            channels.setdefault(channel, []).append(message)
    return channels


def deliveries(
    messages: Sequence[Outgoing], connections: Iterable[Connection]
) -> Iterator[Delivery]:
    """What each connection receives: the messages its account/region filters accept."""
    return (
        Delivery(c, tuple(m.body for m in messages if c.accepts(m.account, m.region)))
        for c in connections
    )
