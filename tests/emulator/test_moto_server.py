"""moto with the emulator's patches (dev/emulator/moto_server.py), as the harness starts it."""

from __future__ import annotations

import io
import time
import uuid
import zipfile
from collections.abc import Iterator

import boto3
import pytest
from botocore.exceptions import ClientError

from dev.harness.moto import start_moto

ROLE_POLICY = (
    '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",'
    ' "Principal": {"Service": "lambda.amazonaws.com"}}]}'
)


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with start_moto(tmp_path_factory.mktemp("moto") / "server.log") as moto:
        yield moto.url


@pytest.fixture
def lambda_client(endpoint: str):
    return boto3.client(
        "lambda",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


@pytest.fixture(scope="module")
def role_arn(endpoint: str) -> str:
    iam = boto3.client(
        "iam",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    return iam.create_role(RoleName="fn", AssumeRolePolicyDocument=ROLE_POLICY)["Role"]["Arn"]


def code(body: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", body)
    return buffer.getvalue()


def create(client, name: str, role_arn: str, zip_file: bytes) -> dict:
    return client.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role_arn,
        Handler="handler.handler",
        Code={"ZipFile": zip_file},
    )


def test_a_repeated_create_function_gets_the_answer_the_first_one_earned(lambda_client, role_arn):
    package = code("def handler(event, context): return 1\n")
    first = create(lambda_client, "retried", role_arn, package)

    repeat = create(lambda_client, "retried", role_arn, package)

    assert repeat["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert repeat["FunctionArn"] == first["FunctionArn"]
    assert repeat["CodeSha256"] == first["CodeSha256"]


def test_creating_an_existing_name_with_other_code_is_still_a_conflict(lambda_client, role_arn):
    create(lambda_client, "taken", role_arn, code("def handler(event, context): return 1\n"))

    with pytest.raises(ClientError) as error:
        create(lambda_client, "taken", role_arn, code("def handler(event, context): return 2\n"))

    assert error.value.response["Error"]["Code"] == "ResourceConflictException"


@pytest.fixture
def stream_arn(endpoint: str) -> str:
    dynamodb = boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    table = dynamodb.create_table(
        TableName=f"streamed-{uuid.uuid4().hex[:8]}",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )
    return table["TableDescription"]["LatestStreamArn"]


def map_stream(client, stream_arn: str, function: str, batch_size: int = 10) -> dict:
    return client.create_event_source_mapping(
        EventSourceArn=stream_arn,
        FunctionName=function,
        StartingPosition="LATEST",
        BatchSize=batch_size,
    )


def test_a_repeated_event_source_mapping_is_the_first_one_not_a_second(
    lambda_client, role_arn, stream_arn
):
    create(lambda_client, "mapped", role_arn, code("def handler(event, context): return 1\n"))
    first = map_stream(lambda_client, stream_arn, "mapped")

    repeat = map_stream(lambda_client, stream_arn, "mapped")

    assert repeat["UUID"] == first["UUID"]
    mappings = lambda_client.list_event_source_mappings(EventSourceArn=stream_arn)
    assert [m["UUID"] for m in mappings["EventSourceMappings"]] == [first["UUID"]]


def test_mapping_a_mapped_stream_to_the_same_function_otherwise_is_a_conflict(
    lambda_client, role_arn, stream_arn
):
    create(lambda_client, "remapped", role_arn, code("def handler(event, context): return 1\n"))
    map_stream(lambda_client, stream_arn, "remapped", batch_size=10)

    with pytest.raises(ClientError) as error:
        map_stream(lambda_client, stream_arn, "remapped", batch_size=20)

    assert error.value.response["Error"]["Code"] == "ResourceConflictException"


# -- Time to Live ----------------------------------------------------------------------------


@pytest.fixture
def dynamodb(endpoint: str):
    return boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


@pytest.fixture
def ttl_table(dynamodb) -> str:
    """A table with TTL on `expires` and a stream of old images."""
    name = f"expiring-{uuid.uuid4().hex[:8]}"
    dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "OLD_IMAGE"},
    )
    dynamodb.update_time_to_live(
        TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires"}
    )
    return name


def put_expiring(dynamodb, table: str, item_id: str, expires: dict | None) -> None:
    item = {"id": {"S": item_id}}
    if expires is not None:
        item["expires"] = expires
    dynamodb.put_item(TableName=table, Item=item)


def stored_ids(dynamodb, table: str) -> set[str]:
    items = dynamodb.scan(TableName=table, ConsistentRead=True)["Items"]
    return {item["id"]["S"] for item in items}


def stream_records(endpoint: str, dynamodb, table: str) -> list[dict]:
    streams = boto3.client(
        "dynamodbstreams",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    arn = dynamodb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    [shard] = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    iterator = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    return streams.get_records(ShardIterator=iterator)["Records"]


def until(check, timeout: float = 5.0):
    deadline = time.monotonic() + timeout
    while not (result := check()) and time.monotonic() < deadline:
        time.sleep(0.1)
    return result


def test_an_expired_item_is_deleted_with_the_ttl_services_identity_on_its_stream_record(
    endpoint, dynamodb, ttl_table
):
    put_expiring(dynamodb, ttl_table, "expired", {"N": str(int(time.time()) - 1)})

    assert until(lambda: stored_ids(dynamodb, ttl_table) == set())
    insert, remove = stream_records(endpoint, dynamodb, ttl_table)
    assert (insert["eventName"], remove["eventName"]) == ("INSERT", "REMOVE")
    assert remove["userIdentity"] == {"PrincipalId": "dynamodb.amazonaws.com", "Type": "Service"}
    assert remove["dynamodb"]["OldImage"]["id"] == {"S": "expired"}
    assert "userIdentity" not in insert


@pytest.mark.parametrize(
    "expires",
    [
        None,
        {"N": str(int(time.time()) + 3600)},
        {"S": "1000000000"},
        {"N": str(int(time.time()) - 6 * 365 * 24 * 3600)},
    ],
    ids=["no-attribute", "in-the-future", "not-a-number", "over-five-years-ago"],
)
def test_an_item_that_dynamodb_ttl_would_keep_stays(dynamodb, ttl_table, expires):
    put_expiring(dynamodb, ttl_table, "kept", expires)

    for marker in ("first-sweep", "a-whole-sweep-later"):
        put_expiring(dynamodb, ttl_table, marker, {"N": str(int(time.time()) - 1)})
        assert until(lambda: stored_ids(dynamodb, ttl_table) == {"kept"})


def test_a_user_delete_has_no_user_identity(endpoint, dynamodb, ttl_table):
    put_expiring(dynamodb, ttl_table, "deleted", {"N": str(int(time.time()) + 3600)})
    dynamodb.delete_item(TableName=ttl_table, Key={"id": {"S": "deleted"}})

    remove = stream_records(endpoint, dynamodb, ttl_table)[-1]

    assert remove["eventName"] == "REMOVE"
    assert "userIdentity" not in remove


def test_a_table_without_ttl_enabled_keeps_its_expired_items(dynamodb, ttl_table):
    plain = f"plain-{uuid.uuid4().hex[:8]}"
    dynamodb.create_table(
        TableName=plain,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    put_expiring(dynamodb, plain, "kept", {"N": str(int(time.time()) - 1)})

    for marker in ("first-sweep", "a-whole-sweep-later"):
        put_expiring(dynamodb, ttl_table, marker, {"N": str(int(time.time()) - 1)})
        assert until(lambda: stored_ids(dynamodb, ttl_table) == set())
    assert stored_ids(dynamodb, plain) == {"kept"}


def test_a_tables_indexes_are_described_with_the_arns_iam_policies_name(dynamodb):
    name = f"indexed-{uuid.uuid4().hex[:8]}"
    created = dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "connectionId", "KeyType": "HASH"}],
        AttributeDefinitions=[
            {"AttributeName": "connectionId", "AttributeType": "S"},
            {"AttributeName": "audience", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
        GlobalSecondaryIndexes=[
            {
                "IndexName": "audience",
                "KeySchema": [{"AttributeName": "audience", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            }
        ],
    )["TableDescription"]

    described = dynamodb.describe_table(TableName=name)["Table"]

    for table in (created, described):
        [index] = table["GlobalSecondaryIndexes"]
        assert index["IndexArn"] == f"{table['TableArn']}/index/audience"
