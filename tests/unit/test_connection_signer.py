"""The @connections signer gives exactly the headers botocore's SigV4Auth gives the same post."""

from __future__ import annotations

import datetime
from unittest import mock
from urllib.parse import quote, urlsplit

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import ReadOnlyCredentials
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.lambda_zip import load_module

# API Gateway connection ids are base64-like; `%`, `.` and `~` are in on purpose.
ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789=+/%-_.~"
HOSTS = ["abc123defg.execute-api.eu-west-1.amazonaws.com", "127.0.0.1", "LocalHost"]
PORTS = [None, 80, 443, 8443]
STAGE_PATHS = ["", "/prod", "/v1/prod", "/my-stage_1", "/a%20b"]

connection_ids = st.one_of(
    st.text(ID_ALPHABET, min_size=1, max_size=24), st.sampled_from([".", "..", "Qp4L/Ze+q=", "%"])
)
endpoints = st.builds(
    lambda scheme, host, port, stage: f"{scheme}://{host}{f':{port}' if port else ''}{stage}",
    st.sampled_from(["http", "https"]),
    st.sampled_from(HOSTS),
    st.sampled_from(PORTS),
    st.sampled_from(STAGE_PATHS),
)
credentials = st.builds(
    ReadOnlyCredentials,
    st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=16, max_size=20),
    st.text("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/+", min_size=40),
    st.one_of(st.none(), st.just(""), st.text(ID_ALPHABET, min_size=1, max_size=400)),
)
signing_times = st.datetimes(
    min_value=datetime.datetime(2020, 1, 1), max_value=datetime.datetime(2040, 1, 1)
).map(lambda t: t.replace(tzinfo=datetime.UTC))


@pytest.fixture(scope="module")
def signer_module():
    return load_module("stream_processor", "incident_ws.connection_signer")


def botocore_signed(endpoint, region, creds, connection_id, body, signed_at) -> AWSRequest:
    """The post as botocore's SigV4Auth signs it."""
    request = AWSRequest(
        method="POST",
        url=f"{endpoint}/@connections/{quote(connection_id, safe='')}",
        data=body,
        headers={"Content-Type": "application/json"},
    )
    with mock.patch("botocore.auth.get_current_datetime", return_value=signed_at):
        SigV4Auth(creds, "execute-api", region).add_auth(request)
    return request


@settings(max_examples=400, deadline=None)
@given(
    endpoint=endpoints,
    region=st.sampled_from(["us-east-1", "eu-west-1", "ap-southeast-2"]),
    creds=credentials,
    connection_id=connection_ids,
    body=st.binary(max_size=300),
    signed_at=signing_times,
)
def test_signature_and_headers_equal_botocores(
    signer_module, endpoint, region, creds, connection_id, body, signed_at
):
    expected = botocore_signed(endpoint, region, creds, connection_id, body, signed_at)
    signer = signer_module.ConnectionSigner(endpoint, region, creds)
    timestamp = signer_module.amz_date(signed_at.timestamp())

    path, authorization = signer.sign(connection_id, signer_module.body_hash(body), timestamp)

    assert authorization == expected.headers["Authorization"]
    assert timestamp == expected.headers["X-Amz-Date"]
    assert signer.security_token == expected.headers.get("X-Amz-Security-Token")
    assert path == urlsplit(expected.url).path
    assert signer.host == urlsplit(endpoint).netloc.lower().removesuffix(
        {"http": ":80", "https": ":443"}[urlsplit(endpoint).scheme]
    )
    # Every header botocore signs is one the sender sends: nothing else is verified.
    sent = {"Content-Type", "X-Amz-Date", "Authorization"}
    if signer.security_token is not None:
        sent.add("X-Amz-Security-Token")
    assert set(expected.headers.keys()) == sent


def test_one_signer_signs_across_midnight_utc_with_each_days_key(signer_module):
    creds = ReadOnlyCredentials("AKIDEXAMPLE", "secret", "token")
    endpoint = "https://abc.execute-api.us-east-1.amazonaws.com/prod"
    signer = signer_module.ConnectionSigner(endpoint, "us-east-1", creds)
    payload_hash = signer_module.body_hash(b"{}")

    for signed_at in (
        datetime.datetime(2026, 3, 1, 23, 59, 59, tzinfo=datetime.UTC),
        datetime.datetime(2026, 3, 2, 0, 0, 0, tzinfo=datetime.UTC),
    ):
        expected = botocore_signed(endpoint, "us-east-1", creds, "c1=", b"{}", signed_at)
        timestamp = signer_module.amz_date(signed_at.timestamp())

        assert signer.sign("c1=", payload_hash, timestamp)[1] == expected.headers["Authorization"]
