"""What the benchmark broadcasts, and to whom: connection rows and a real stream event."""

from __future__ import annotations

import base64
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

FILL_THREADS = 8
BATCH_ITEMS = 25  # DynamoDB's largest BatchWriteItem

INCIDENT_ACCOUNT = "111122223333"
INCIDENT_REGION = "us-east-1"
INCIDENT_TABLE = "Incident"

INCIDENT: dict[str, Any] = {
    "incident_id": "inc-20261123-0001",
    "arn": f"arn:aws:ec2:{INCIDENT_REGION}:{INCIDENT_ACCOUNT}:security-group/sg-0a1b2c3d4e5f67890",
    "sg": "sg-0a1b2c3d4e5f67890",
    "severity": "HIGH",
    "status": "OPEN",
    "title": "Security group allows 0.0.0.0/0 on 22/tcp",
    "account": INCIDENT_ACCOUNT,
    "region": INCIDENT_REGION,
    "timestamp": "2026-11-23T15:00:00Z",
    "risk_score": Decimal("8.7"),
    "finding_count": Decimal(3),
    "tags": {"ssh", "internet-exposed", "prod"},
    "findings": [
        {"rule": "ingress-open-to-world", "port": Decimal(22), "cidr": "0.0.0.0/0"},
        {"rule": "no-flow-logs", "vpc": "vpc-0123456789abcdef0"},
        {"rule": "default-sg-in-use", "count": Decimal(4)},
    ],
}


def connection_id(index: int) -> str:
    """A connection id shaped like API Gateway's (16 characters of base64, `=` included)."""
    return base64.b64encode(index.to_bytes(11, "big")).decode()


def connection_rows(count: int) -> list[dict[str, Any]]:
    """`count` live connections as `connect` stores them.

    A quarter filter on the incident's account and a quarter on its region, so the filtering
    path runs, yet every connection is a recipient: both implementations must reach all of them.
    """
    now = time.time()
    rows = []
    for index in range(count):
        row = {
            "connectionId": connection_id(index),
            "createdAt": int(now * 1000),
            "ttl": int(now) + 3 * 3600,
            "clientId": f"dashboard-{index}",
            "sourceIp": f"198.51.100.{index % 250 + 1}",
            "userAgent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131.0",
        }
        if index % 4 == 1:
            row["account"] = INCIDENT_ACCOUNT
        elif index % 4 == 2:
            row["region"] = INCIDENT_REGION
        rows.append(row)
    return rows


def create_connections_table(dynamodb, name: str, rows: list[dict[str, Any]]) -> None:
    """Create a connections table (PK `connectionId`) holding `rows`; `dynamodb` is a resource."""
    table = dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "connectionId", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "connectionId", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    table.wait_until_exists()
    client = dynamodb.meta.client  # a resource's client: it takes plain Python values
    requests = [{"PutRequest": {"Item": row}} for row in rows]
    batches = [requests[n : n + BATCH_ITEMS] for n in range(0, len(requests), BATCH_ITEMS)]
    # 100,000 rows one batch at a time take minutes; moto answers several at once.
    with ThreadPoolExecutor(FILL_THREADS) as writers:
        for _ in writers.map(lambda batch: _write(client, name, batch), batches):
            pass


def _write(client, table: str, batch: list[dict[str, Any]]) -> None:
    while batch:
        answer = client.batch_write_item(RequestItems={table: batch})
        batch = answer.get("UnprocessedItems", {}).get(table, [])


def incident_insert_event(dynamodb, streams) -> dict[str, Any]:
    """The Lambda event for one INSERT of INCIDENT, read back from a real table stream.

    `dynamodb` is a resource and `streams` a `dynamodbstreams` client, both on the same endpoint.
    """
    table = dynamodb.create_table(
        TableName=INCIDENT_TABLE,
        KeySchema=[{"AttributeName": "incident_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "incident_id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    table.wait_until_exists()
    table.put_item(Item=INCIDENT)
    stream_arn = table.latest_stream_arn
    shard = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"][0]
    iterator = streams.get_shard_iterator(
        StreamArn=stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    records = streams.get_records(ShardIterator=iterator)["Records"]
    return {"Records": [_as_lambda_record(record, stream_arn) for record in records]}


def _as_lambda_record(record: dict[str, Any], stream_arn: str) -> dict[str, Any]:
    # GetRecords returns the creation time as a datetime; Lambda delivers epoch seconds.
    change = dict(record["dynamodb"])
    if "ApproximateCreationDateTime" in change:
        change["ApproximateCreationDateTime"] = int(
            change["ApproximateCreationDateTime"].timestamp()
        )
    return {**record, "dynamodb": change, "eventSourceARN": stream_arn}
