"""Finding the exact zip a function was deployed with."""

from __future__ import annotations

import pytest

from dev.emulator.function_code import (
    FunctionCodeNotFound,
    code_sha256,
    fetch_function_code,
    s3_location,
)

from .conftest import zip_of

DEPLOYED = zip_of({"handler.py": "def handler(event, context):\n    return 1\n"})
REBUILT = zip_of({"handler.py": "def handler(event, context):\n    return 2\n"})
LOCATION = "https://awslambda-us-east-1-tasks.s3.us-east-1.amazonaws.com/fn-1234?X-Amz-Signature=x"


def test_code_sha256_is_the_base64_sha256_digest_lambda_reports():
    # SHA-256 of no bytes, e3b0c442…b855, in base64.
    assert code_sha256(b"") == "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="


def test_s3_location_reads_bucket_and_key_from_a_virtual_hosted_url():
    assert s3_location(LOCATION) == ("awslambda-us-east-1-tasks", "fn-1234")
    assert s3_location("https://example.com/fn.zip") is None


def test_the_object_behind_code_location_is_used_when_the_emulator_serves_it(aws_client):
    s3 = aws_client("s3")
    s3.create_bucket(Bucket="awslambda-us-east-1-tasks")
    s3.put_object(Bucket="awslambda-us-east-1-tasks", Key="fn-1234", Body=DEPLOYED)

    assert fetch_function_code("fn", code_sha256(DEPLOYED), LOCATION, s3, []) == DEPLOYED


def test_a_local_zip_with_the_deployed_hash_is_used_when_the_emulator_does_not(
    aws_client, tmp_path
):
    (tmp_path / "rebuilt.zip").write_bytes(REBUILT)
    (tmp_path / "deployed.zip").write_bytes(DEPLOYED)

    code = fetch_function_code(
        "fn", code_sha256(DEPLOYED), LOCATION, aws_client("s3"), [str(tmp_path)]
    )

    assert code == DEPLOYED


def test_a_local_zip_that_differs_from_the_deployed_code_is_never_used(aws_client, tmp_path):
    (tmp_path / "fn.zip").write_bytes(REBUILT)

    with pytest.raises(FunctionCodeNotFound, match="deploy it again"):
        fetch_function_code(
            "fn", code_sha256(DEPLOYED), LOCATION, aws_client("s3"), [str(tmp_path)]
        )
