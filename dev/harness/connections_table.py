"""A channel's connections table as modules/websocket-channel creates it, with its `audience`
index, for the tests and benchmarks that read it on moto."""

from __future__ import annotations

AUDIENCE_INDEX = "audience"
AUDIENCE_PROJECTION = ("account", "accounts", "region", "ttl")
"""The attributes the index carries besides its keys: what delivery reads."""


def create_connections_table(client, name: str) -> None:
    client.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "connectionId", "KeyType": "HASH"}],
        AttributeDefinitions=[
            {"AttributeName": "connectionId", "AttributeType": "S"},
            {"AttributeName": "audience", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
        GlobalSecondaryIndexes=[
            {
                "IndexName": AUDIENCE_INDEX,
                "KeySchema": [
                    {"AttributeName": "audience", "KeyType": "HASH"},
                    {"AttributeName": "connectionId", "KeyType": "RANGE"},
                ],
                "Projection": {
                    "ProjectionType": "INCLUDE",
                    "NonKeyAttributes": list(AUDIENCE_PROJECTION),
                },
            }
        ],
    )
