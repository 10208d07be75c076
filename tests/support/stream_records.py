"""DynamoDB stream records in the real low-level format, produced by moto.

Items are written to a moto table with a NEW_AND_OLD_IMAGES stream; the records read
back from the stream are wrapped the way the Lambda event source mapping delivers them.
Use inside `moto.mock_aws`.
"""

from __future__ import annotations

import base64
import datetime
from typing import Any

import boto3

REGION = "us-east-1"


# The `userIdentity` DynamoDB gives the REMOVE record of an item its TTL process deleted.
TTL_SERVICE_IDENTITY = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}


def as_deleted_by_ttl(record: dict[str, Any]) -> dict[str, Any]:
    """A REMOVE record as DynamoDB writes it when its TTL process deleted the item (moto never
    expires items): the same record with the TTL service's `userIdentity`."""
    assert record["eventName"] == "REMOVE"
    return {**record, "userIdentity": dict(TTL_SERVICE_IDENTITY)}


class IncidentTable:
    """A moto table with a stream; `records()` returns what changed since the last call."""

    def __init__(self, name: str = "Incident", hash_key: str = "incident_id") -> None:
        self.name = name
        dynamodb = boto3.resource("dynamodb", region_name=REGION)
        self.table = dynamodb.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": hash_key, "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": hash_key, "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )
        self.stream_arn = self.table.latest_stream_arn
        # botocore now resolves account-based `{account}.streams-ddb.{region}` hosts, which
        # moto does not route; the classic regional endpoint is the same service.
        self._streams = boto3.client(
            "dynamodbstreams",
            region_name=REGION,
            endpoint_url=f"https://streams.dynamodb.{REGION}.amazonaws.com",
        )
        shard = self._streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"][
            "Shards"
        ][0]
        self._iterator = self._streams.get_shard_iterator(
            StreamArn=self.stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]

    def put(self, item: dict[str, Any]) -> None:
        self.table.put_item(Item=item)

    def delete(self, key: dict[str, Any]) -> None:
        self.table.delete_item(Key=key)

    def records(self) -> list[dict[str, Any]]:
        response = self._streams.get_records(ShardIterator=self._iterator)
        self._iterator = response["NextShardIterator"]
        return [self._as_lambda_record(record) for record in response["Records"]]

    def event(self) -> dict[str, Any]:
        """The Lambda event for everything that changed since the last read."""
        return {"Records": self.records()}

    def _as_lambda_record(self, record: dict[str, Any]) -> dict[str, Any]:
        record = dict(record, eventSourceARN=self.stream_arn, awsRegion=REGION)
        dynamodb = dict(record["dynamodb"])
        created = dynamodb.get("ApproximateCreationDateTime")
        if isinstance(created, datetime.datetime):
            dynamodb["ApproximateCreationDateTime"] = int(created.timestamp())
        record["dynamodb"] = _as_json(dynamodb)
        return record


def _as_json(value: Any) -> Any:
    """boto3 parsed binary values to bytes; the Lambda event (JSON) carries base64 text."""
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, dict):
        return {key: _as_json(member) for key, member in value.items()}
    if isinstance(value, list):
        return [_as_json(member) for member in value]
    return value


class ConnectionsTable(IncidentTable):
    """A channel's connections table with the stream that presence reads."""

    def __init__(self, name: str) -> None:
        super().__init__(name, hash_key="connectionId")
