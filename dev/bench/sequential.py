"""The original function's broadcast, the baseline: scan every connection, then post to each.

Kept as naive as the original on purpose; only what the benchmark compares is here.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import boto3
from boto3.dynamodb.types import TypeDeserializer

_deserializer = TypeDeserializer()


class SequentialBroadcaster:
    """Clients are built once, as at the original's module scope, so only the broadcast is timed."""

    def __init__(self, table_name: str, endpoint_url: str) -> None:
        self.table_name = table_name
        self.dynamodb = boto3.client("dynamodb")
        self.management_api = boto3.client("apigatewaymanagementapi", endpoint_url=endpoint_url)

    def __call__(self, event: dict[str, Any]) -> dict[str, int]:
        delivered = gone = 0
        for record in event["Records"]:
            if record["eventName"] not in ("INSERT", "MODIFY"):
                continue
            message = _message(record)
            for connection_id in self._connection_ids():
                try:
                    self.management_api.post_to_connection(ConnectionId=connection_id, Data=message)
                    delivered += 1
                except self.management_api.exceptions.GoneException:
                    self.dynamodb.delete_item(
                        TableName=self.table_name, Key={"connectionId": {"S": connection_id}}
                    )
                    gone += 1
        return {"delivered": delivered, "gone": gone}

    def _connection_ids(self) -> list[str]:
        pages = self.dynamodb.get_paginator("scan").paginate(
            TableName=self.table_name, ProjectionExpression="connectionId"
        )
        return [item["connectionId"]["S"] for page in pages for item in page["Items"]]


def _message(record: dict[str, Any]) -> bytes:
    image = record["dynamodb"]["NewImage"]
    item = {name: _deserializer.deserialize(value) for name, value in image.items()}
    kind = "remediation" if "action" in item else "incident"
    event = "created" if record["eventName"] == "INSERT" else "updated"
    return json.dumps({"type": kind, "event": event, "data": item}, default=_plain).encode()


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, set):
        return sorted(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
