"""AWS clients and the @connections transport, built once per container (at cold start)."""

from __future__ import annotations

import boto3
from botocore.config import Config
from botocore.credentials import ReadOnlyCredentials

from .http_keepalive import KeepAliveHttp
from .limits import CONNECT_TIMEOUT_SECONDS, DYNAMODB_MAX_ATTEMPTS, READ_TIMEOUT_SECONDS


def dynamodb_client(max_pool_connections: int = 10):
    """A DynamoDB client; boto3 itself honours AWS_ENDPOINT_URL(_DYNAMODB)."""
    config = Config(
        connect_timeout=CONNECT_TIMEOUT_SECONDS,
        read_timeout=READ_TIMEOUT_SECONDS,
        retries={"mode": "standard", "max_attempts": DYNAMODB_MAX_ATTEMPTS},
        max_pool_connections=max_pool_connections,
    )
    return boto3.session.Session().client("dynamodb", config=config)


def keepalive_http() -> KeepAliveHttp:
    """The transport of @connections posts (connection_poster.py says why not boto3)."""
    return KeepAliveHttp(CONNECT_TIMEOUT_SECONDS, READ_TIMEOUT_SECONDS)


def frozen_credentials(session: boto3.session.Session) -> ReadOnlyCredentials:
    """The credentials to sign this invocation's posts (read per invocation: they rotate)."""
    credentials = session.get_credentials()
    if credentials is None:
        raise RuntimeError("no AWS credentials found to sign @connections posts")
    return credentials.get_frozen_credentials()
