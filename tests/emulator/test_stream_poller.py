"""The stream poller against moto's DynamoDB stream, with a stub function."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from dev.emulator.control_plane import StreamMapping
from dev.emulator.stream_poller import StreamPoller

from .conftest import REGION, StubInvoker

FUNCTION = "stream-processor"


@pytest.fixture
def aws(aws_client: Callable[[str], Any]) -> dict[str, Any]:
    dynamodb = aws_client("dynamodb")
    table = dynamodb.create_table(
        TableName="Incident",
        KeySchema=[{"AttributeName": "incident_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "incident_id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )["TableDescription"]
    sqs = aws_client("sqs")
    queue_url = sqs.create_queue(QueueName="dlq")["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
    return {
        "dynamodb": dynamodb,
        "sqs": sqs,
        "streams": aws_client("dynamodbstreams"),
        "queue_url": queue_url,
        "mapping": StreamMapping(
            uuid="esm-1",
            function_name=FUNCTION,
            function_arn=f"arn:aws:lambda:{REGION}:123456789012:function:{FUNCTION}",
            stream_arn=table["LatestStreamArn"],
            starting_position="TRIM_HORIZON",
            on_failure_arn=attributes["Attributes"]["QueueArn"],
        ),
    }


def put(aws: dict[str, Any], *incident_ids: str) -> None:
    for incident_id in incident_ids:
        aws["dynamodb"].put_item(TableName="Incident", Item={"incident_id": {"S": incident_id}})


def delete(aws: dict[str, Any], incident_id: str) -> None:
    aws["dynamodb"].delete_item(TableName="Incident", Key={"incident_id": {"S": incident_id}})


def poll(
    aws: dict[str, Any],
    invoke: StubInvoker,
    clock: Callable[[], float] | None = None,
    **settings: Any,
) -> None:
    mapping = replace(aws["mapping"], **settings)
    extra = {"clock": clock} if clock else {}
    poller = StreamPoller(mapping, aws["streams"], aws["sqs"], invoke, poll_interval=0, **extra)

    async def once() -> None:
        await poller.open_shards()
        await poller.poll_once()

    asyncio.run(once())


def ids(event: dict[str, Any]) -> list[str]:
    return [r["dynamodb"]["Keys"]["incident_id"]["S"] for r in event["Records"]]


def delivered(invoke: StubInvoker) -> list[list[str]]:
    return [ids(event) for event in invoke.events_of(FUNCTION)]


def dead_letters(aws: dict[str, Any]) -> list[dict[str, Any]]:
    response = aws["sqs"].receive_message(QueueUrl=aws["queue_url"], MaxNumberOfMessages=10)
    return [json.loads(m["Body"]) for m in response.get("Messages", [])]


def failing_on(poison: str, report_items: bool = False) -> Callable[[str, Any], Any]:
    """A function that raises (or reports the record) whenever `poison` is in its batch."""

    def respond(_name: str, event: dict[str, Any]) -> Any:
        batch = ids(event)
        if poison not in batch:
            return {"batchItemFailures": []}
        if report_items:
            record = event["Records"][batch.index(poison)]
            return {"batchItemFailures": [{"itemIdentifier": record["dynamodb"]["SequenceNumber"]}]}
        raise RuntimeError(f"cannot process {poison}")

    return respond


def test_records_arrive_in_order_in_batches_of_at_most_batch_size(aws):
    put(aws, "a", "b", "c", "d", "e")
    invoke = StubInvoker()

    poll(aws, invoke, batch_size=2)

    assert delivered(invoke) == [["a", "b"], ["c", "d"], ["e"]]


def test_records_carry_lambda_fields_and_epoch_creation_time(aws):
    put(aws, "a")
    invoke = StubInvoker()

    poll(aws, invoke)

    record = invoke.events_of(FUNCTION)[0]["Records"][0]
    assert record["eventSourceARN"] == aws["mapping"].stream_arn
    assert record["eventName"] == "INSERT"
    assert isinstance(record["dynamodb"]["ApproximateCreationDateTime"], int)
    json.dumps(record)  # what the worker receives must be JSON


def test_filter_criteria_drop_records_that_match_no_pattern(aws):
    put(aws, "a")
    delete(aws, "a")
    put(aws, "b")
    invoke = StubInvoker()

    poll(aws, invoke, filter_patterns=({"eventName": ["INSERT", "MODIFY"]},))

    assert delivered(invoke) == [["a", "b"]]
    assert all(r["eventName"] == "INSERT" for r in invoke.events_of(FUNCTION)[0]["Records"])


def test_reported_item_failure_resumes_from_that_record(aws):
    put(aws, "a", "b", "c")
    attempts = iter([{"batchItemFailures": []}])

    def respond(_name: str, event: dict[str, Any]) -> Any:
        if ids(event) == ["a", "b", "c"]:
            second = event["Records"][1]["dynamodb"]["SequenceNumber"]
            return {"batchItemFailures": [{"itemIdentifier": second}]}
        return next(attempts)

    invoke = StubInvoker(respond)

    poll(aws, invoke, report_batch_item_failures=True)

    assert delivered(invoke) == [["a", "b", "c"], ["b", "c"]]


def test_item_failures_are_ignored_without_report_batch_item_failures(aws):
    put(aws, "a", "b")
    invoke = StubInvoker(failing_on("b", report_items=True))

    poll(aws, invoke, report_batch_item_failures=False, maximum_retry_attempts=2)

    assert delivered(invoke) == [["a", "b"]]
    assert dead_letters(aws) == []


def test_an_unknown_item_identifier_fails_the_whole_batch(aws):
    put(aws, "a", "b")
    answers = iter([{"batchItemFailures": [{"itemIdentifier": "not-in-batch"}]}, None])
    invoke = StubInvoker(lambda _n, _e: next(answers))

    poll(aws, invoke, report_batch_item_failures=True)

    assert delivered(invoke) == [["a", "b"], ["a", "b"]]


def test_exhausted_retries_send_the_batch_to_the_on_failure_queue(aws):
    put(aws, "a", "b")
    invoke = StubInvoker(failing_on("a"))

    poll(aws, invoke, maximum_retry_attempts=2)

    assert delivered(invoke) == [["a", "b"]] * 3
    (message,) = dead_letters(aws)
    assert message["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert message["requestContext"]["approximateInvokeCount"] == 3
    assert message["requestContext"]["functionArn"] == aws["mapping"].function_arn
    assert message["responseContext"]["functionError"] == "Unhandled"
    info = message["DDBStreamBatchInfo"]
    records = invoke.events_of(FUNCTION)[0]["Records"]
    assert info["startSequenceNumber"] == records[0]["dynamodb"]["SequenceNumber"]
    assert info["endSequenceNumber"] == records[1]["dynamodb"]["SequenceNumber"]
    assert info["batchSize"] == 2
    assert info["streamArn"] == aws["mapping"].stream_arn
    assert info["shardId"].startswith("shardId-")


def test_bisect_isolates_a_poison_record_and_delivers_the_rest(aws):
    put(aws, "a", "b", "poison", "d")
    invoke = StubInvoker(failing_on("poison"))

    poll(aws, invoke, bisect_on_error=True, maximum_retry_attempts=3)

    succeeded = [i for batch in delivered(invoke) if "poison" not in batch for i in batch]
    assert sorted(succeeded) == ["a", "b", "d"]
    (message,) = dead_letters(aws)
    assert message["DDBStreamBatchInfo"]["batchSize"] == 1
    poison_sequence = next(
        r["dynamodb"]["SequenceNumber"]
        for e in invoke.events_of(FUNCTION)
        for r in e["Records"]
        if r["dynamodb"]["Keys"]["incident_id"]["S"] == "poison"
    )
    assert message["DDBStreamBatchInfo"]["startSequenceNumber"] == poison_sequence


def test_records_after_a_reported_poison_record_are_delivered(aws):
    put(aws, "a", "poison", "c")
    invoke = StubInvoker(failing_on("poison", report_items=True))

    poll(aws, invoke, report_batch_item_failures=True, maximum_retry_attempts=1)

    assert delivered(invoke) == [["a", "poison", "c"], ["poison", "c"]]
    (message,) = dead_letters(aws)
    assert message["DDBStreamBatchInfo"]["batchSize"] == 2
    assert "functionError" not in message["responseContext"]


def test_records_older_than_the_maximum_age_are_discarded_unprocessed(aws):
    put(aws, "a")
    invoke = StubInvoker()
    an_hour_later = time.time() + 3600

    poll(aws, invoke, clock=lambda: an_hour_later, maximum_record_age_seconds=60)

    assert delivered(invoke) == []
    (message,) = dead_letters(aws)
    assert message["requestContext"]["condition"] == "RecordAgeExceeded"


def test_a_successful_batch_sends_nothing_to_the_on_failure_queue(aws):
    put(aws, "a")
    invoke = StubInvoker()

    poll(aws, invoke, maximum_retry_attempts=0)

    assert dead_letters(aws) == []


def test_a_ttl_delete_reaches_the_function_with_the_ttl_services_identity(aws):
    dynamodb = aws["dynamodb"]
    dynamodb.update_time_to_live(
        TableName="Incident", TimeToLiveSpecification={"Enabled": True, "AttributeName": "ttl"}
    )
    expired = {"incident_id": {"S": "expired"}, "ttl": {"N": str(int(time.time()) - 1)}}
    dynamodb.put_item(TableName="Incident", Item=expired)
    put(aws, "deleted")
    delete(aws, "deleted")
    deadline = time.monotonic() + 5
    while dynamodb.scan(TableName="Incident")["Items"] and time.monotonic() < deadline:
        time.sleep(0.1)
    invoke = StubInvoker()

    poll(aws, invoke, filter_patterns=({"eventName": ["REMOVE"]},))

    removed = {
        ids({"Records": [record]})[0]: record.get("userIdentity")
        for event in invoke.events_of(FUNCTION)
        for record in event["Records"]
    }
    assert removed == {
        "deleted": None,
        "expired": {"type": "Service", "principalId": "dynamodb.amazonaws.com"},
    }
