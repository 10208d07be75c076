"""Message ids: where a message stands in its channel's stream, as text that sorts in order.

`<ApproximateCreationDateTime, epoch seconds, 10 digits>-<SequenceNumber, 40 digits>`, both
read from the DynamoDB stream record the message is built from, so a retried delivery of a
record carries the same id. Within a shard sequence numbers grow, so ids sort in stream order;
across shards they sort by time, and records of different shards within the same second by
sequence number, which DynamoDB does not promise to order across shards.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

MESSAGE_ID = re.compile(r"[0-9]{10}-[0-9]{40}")
# DynamoDB's sequence numbers are 21 to 40 digits.
_SEQUENCE_NUMBER = re.compile(r"[0-9]{1,40}")
_LATEST_SECOND = 10**10 - 1


class NoMessageId(ValueError):
    """The stream record lacks the creation time or sequence number an id is made of."""


def message_id(dynamodb: Mapping[str, Any]) -> str:
    """The id of the message built from a stream record's `dynamodb` section."""
    created = dynamodb.get("ApproximateCreationDateTime")
    sequence = dynamodb.get("SequenceNumber")
    if (
        not isinstance(created, int | float)
        or isinstance(created, bool)
        or not 0 <= created <= _LATEST_SECOND
    ):
        raise NoMessageId(f"ApproximateCreationDateTime {created!r} is not epoch seconds")
    if not isinstance(sequence, str) or not _SEQUENCE_NUMBER.fullmatch(sequence):
        raise NoMessageId(f"SequenceNumber {sequence!r} is not 1 to 40 digits")
    return f"{int(created):010d}-{sequence:0>40}"


def is_message_id(value: Any) -> bool:
    return isinstance(value, str) and MESSAGE_ID.fullmatch(value) is not None
