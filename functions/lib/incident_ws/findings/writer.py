"""One conditional PutItem per incident: a finding only ever replaces an older version."""

from __future__ import annotations

from dataclasses import dataclass

import boto3
from boto3.dynamodb.types import TypeSerializer
from botocore.config import Config

from .config import FindingsConfig
from .incident import Incident

CONNECT_TIMEOUT_SECONDS = 2
READ_TIMEOUT_SECONDS = 5
MAX_ATTEMPTS = 3

# No item yet, or one that is older (or carries no update time to compare).
NEWER_THAN_STORED = (
    "attribute_not_exists(#key) OR attribute_not_exists(#updated) OR #updated < :updated"
)


@dataclass(frozen=True)
class Outcome:
    written: bool
    stored_updated_at: str | None = None  # of the newer or identical item, when not written


def dynamodb_client():
    """Created once per container; boto3 itself honours AWS_ENDPOINT_URL(_DYNAMODB)."""
    config = Config(
        connect_timeout=CONNECT_TIMEOUT_SECONDS,
        read_timeout=READ_TIMEOUT_SECONDS,
        retries={"mode": "standard", "max_attempts": MAX_ATTEMPTS},
    )
    return boto3.session.Session().client("dynamodb", config=config)


class IncidentWriter:
    def __init__(self, client, config: FindingsConfig) -> None:
        self._client = client
        self._config = config
        self._serializer = TypeSerializer()

    def write(self, incident: Incident) -> Outcome:
        """Raises the client's error for anything but an older-or-identical replay."""
        item = incident.item(self._config.hash_key, self._config.range_key)
        try:
            self._client.put_item(
                TableName=self._config.table,
                Item={name: self._serializer.serialize(v) for name, v in item.items()},
                ConditionExpression=NEWER_THAN_STORED,
                ExpressionAttributeNames={"#key": self._config.hash_key, "#updated": "updated_at"},
                ExpressionAttributeValues={":updated": {"S": incident.updated_at}},
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except self._client.exceptions.ConditionalCheckFailedException as error:
            stored = error.response.get("Item", {}).get("updated_at", {}).get("S")
            return Outcome(written=False, stored_updated_at=stored)
        return Outcome(written=True)
