"""Incident table writes → DynamoDB stream → deployed stream_processor → WebSocket clients."""

from __future__ import annotations

import contextlib
import json
import re
import time
from collections.abc import Callable, Iterator

from tests.e2e.helpers import INCIDENT_ENTRY, eventually, unique

ACCOUNT_A = "111111111111"
ACCOUNT_B = "222222222222"


def incident(account: str = ACCOUNT_A) -> dict:
    return {
        "incident_id": unique("e2e-inc"),
        "entry_id": INCIDENT_ENTRY,
        "severity": "HIGH",
        "status": "OPEN",
        "title": "Security group opens SSH to the world",
        "arn": "arn:aws:ec2:us-east-1:111111111111:security-group/sg-0123456789abcdef0",
        "sg": "sg-0123456789abcdef0",
        "account": account,
        "region": "us-east-1",
        "timestamp": 1_767_225_600,
        "evidence": {"ports": [22, 3389], "cidr": "0.0.0.0/0"},
    }


def about(item: dict) -> Callable[[dict], bool]:
    return lambda message: message.get("incident_id") == item["incident_id"]


def test_incident_reaches_the_history_client_within_two_seconds_in_the_spec_shape(
    stack, open_client
):
    client = open_client("history")
    # The budget is for a warm function: the first invocation also starts its worker process.
    warm_up = incident()
    stack.incident_table().put_item(Item=warm_up)
    client.wait_for(about(warm_up), timeout=10)
    item = incident()

    started = time.monotonic()
    stack.incident_table().put_item(Item=item)
    message = client.wait_for(about(item), timeout=5)
    elapsed = time.monotonic() - started

    assert elapsed < 2.0
    assert re.fullmatch(r"[0-9]{10}-[0-9]{40}", message.pop("id"))
    assert message == {
        "type": "incident",
        "event": "created",
        "incident_id": item["incident_id"],
        "resource": item["arn"],
        "severity": item["severity"],
        "status": item["status"],
        "title": item["title"],
        "account": item["account"],
        "region": item["region"],
        "timestamp": item["timestamp"],
        "data": item,
    }


def test_account_filtered_client_receives_only_its_accounts_messages(stack, open_client):
    filtered = open_client("history", account=ACCOUNT_A)
    unfiltered = open_client("history")
    other_account, own_account = incident(ACCOUNT_B), incident(ACCOUNT_A)

    stack.incident_table().put_item(Item=other_account)
    stack.incident_table().put_item(Item=own_account)

    unfiltered.wait_for(about(other_account))
    unfiltered.wait_for(about(own_account))
    # Each connection receives messages in stream order, so had the filtered client been sent
    # the other account's incident, it would have arrived before its own.
    either = {other_account["incident_id"], own_account["incident_id"]}
    first = filtered.wait_for(lambda message: message.get("incident_id") in either)
    assert first["incident_id"] == own_account["incident_id"]


@contextlib.contextmanager
def unreadable_connections_table(stack, channel: str) -> Iterator[None]:
    """The channel's connections table is gone (deleted, or a wrong name deployed) until exit,
    then recreated empty with its key schema, indexes, stream and TTL."""
    dynamodb = stack.client("dynamodb")
    name = stack.outputs["channels"][channel]["connections_table_name"]
    table = dynamodb.describe_table(TableName=name)["Table"]
    ttl = dynamodb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
    dynamodb.delete_table(TableName=name)
    try:
        yield
    finally:
        indexes = [
            {key: index[key] for key in ("IndexName", "KeySchema", "Projection")}
            for index in table.get("GlobalSecondaryIndexes", [])
        ]
        dynamodb.create_table(
            TableName=name,
            KeySchema=table["KeySchema"],
            AttributeDefinitions=table["AttributeDefinitions"],
            BillingMode="PAY_PER_REQUEST",
            **({"GlobalSecondaryIndexes": indexes} if indexes else {}),
            **(
                {"StreamSpecification": table["StreamSpecification"]}
                if "StreamSpecification" in table
                else {}
            ),
        )
        if ttl.get("TimeToLiveStatus") == "ENABLED":
            dynamodb.update_time_to_live(
                TableName=name,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]},
            )


def sequence_number_of(stack, incident_id: str) -> str:
    """The stream sequence number of the first change to `incident_id` (read like a poller)."""
    streams = stack.client("dynamodbstreams")
    arn = stack.outputs["incident_stream_arn"]
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        for record in streams.get_records(ShardIterator=iterator, Limit=1000)["Records"]:
            if record["dynamodb"]["Keys"]["incident_id"]["S"] == incident_id:
                return record["dynamodb"]["SequenceNumber"]
    raise AssertionError(f"{incident_id} is not in the stream")


def dead_letters(stack) -> list[dict]:
    sqs = stack.client("sqs")
    response = sqs.receive_message(
        QueueUrl=stack.outputs["dead_letter_queue_url"], MaxNumberOfMessages=10, WaitTimeSeconds=1
    )
    return [json.loads(message["Body"]) for message in response.get("Messages", [])]


def test_poison_record_ends_in_the_dead_letter_queue_and_later_records_still_flow(
    stack, open_client
):
    """While history's connections table is unreadable, a record routed there cannot be
    delivered: the stream processor reports it in batchItemFailures on every attempt, until the
    mapping's retries are exhausted and it goes to the on-failure destination (the handlers
    skip records that are merely malformed or too big, so a table failure is the genuine way)."""
    poison, later = incident(), incident()
    with unreadable_connections_table(stack, "history"):
        stack.incident_table().put_item(Item=poison)
        poison_sequence = sequence_number_of(stack, poison["incident_id"])
        [dead_letter] = eventually(
            lambda: [
                letter
                for letter in dead_letters(stack)
                if letter["DDBStreamBatchInfo"]["startSequenceNumber"] == poison_sequence
            ],
            timeout=15,
        )
    client = open_client("history")
    stack.incident_table().put_item(Item=later)

    assert dead_letter["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert dead_letter["DDBStreamBatchInfo"]["batchSize"] == 1
    client.wait_for(about(later))
