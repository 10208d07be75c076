"""Who signed a handshake: the SigV4 credential, its scope, and the IAM user behind the key."""

from __future__ import annotations

import asyncio

import pytest

from dev.emulator.signatures import Credential, IamCallers, scope_error, signed_credential

from .conftest import REGION

SCOPE = f"AKIAEXAMPLE/20261201/{REGION}/execute-api/aws4_request"
HEADER = f"AWS4-HMAC-SHA256 Credential={SCOPE}, SignedHeaders=host, Signature={'0f' * 32}"


def test_the_credential_is_read_from_the_authorization_header_whatever_its_case():
    credential = signed_credential({"authorization": HEADER}, {})

    assert credential == Credential(
        "AKIAEXAMPLE", "20261201", REGION, "execute-api", "aws4_request"
    )


def test_the_credential_is_read_from_a_presigned_query():
    query = {
        "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
        "X-Amz-Credential": SCOPE,
        "X-Amz-Signature": "0f" * 32,
    }

    assert signed_credential({}, query).access_key == "AKIAEXAMPLE"


@pytest.mark.parametrize(
    "headers, query",
    [
        ({}, {}),
        ({"Authorization": "Bearer a.b.c"}, {}),
        ({"Authorization": f"AWS4-HMAC-SHA256 Credential={SCOPE}"}, {}),  # no signature
        ({}, {"X-Amz-Algorithm": "AWS4-HMAC-SHA256", "X-Amz-Credential": SCOPE}),
    ],
    ids=["nothing", "bearer token", "header without signature", "query without signature"],
)
def test_a_request_without_a_complete_signature_has_no_credential(headers, query):
    assert signed_credential(headers, query) is None


def test_the_scope_must_name_the_apis_region_and_execute_api():
    credential = Credential.parse(SCOPE)

    assert scope_error(credential, REGION) is None
    assert "region" in scope_error(credential, "eu-west-1")
    assert "service" in scope_error(Credential.parse(SCOPE.replace("execute-api", "s3")), REGION)


def test_an_access_key_is_resolved_to_its_iam_user(aws_client):
    iam = aws_client("iam")
    user = iam.create_user(UserName="agent")["User"]
    key = iam.create_access_key(UserName="agent")["AccessKey"]["AccessKeyId"]
    callers = IamCallers(lambda: iam)

    identity = asyncio.run(callers.identity(key))

    assert identity == {
        "accountId": user["Arn"].split(":")[4],
        "caller": user["UserId"],
        "user": user["UserId"],
        "userArn": user["Arn"],
        "accessKey": key,
    }


def test_an_access_key_of_no_iam_user_has_no_identity(aws_client):
    callers = IamCallers(lambda: aws_client("iam"))

    assert asyncio.run(callers.identity("AKIANOBODY0000000000")) is None
