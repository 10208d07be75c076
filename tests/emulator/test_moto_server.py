"""moto with the emulator's patches (dev/emulator/moto_server.py), as the harness starts it."""

from __future__ import annotations

import io
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
