"""AWS clients and the HTTP session, built once per container (at cold start)."""

from __future__ import annotations

import socket

import boto3
from botocore.config import Config
from botocore.credentials import ReadOnlyCredentials
from botocore.httpsession import URLLib3Session

CONNECT_TIMEOUT_SECONDS = 2
READ_TIMEOUT_SECONDS = 5


def dynamodb_client(max_pool_connections: int = 10):
    """A DynamoDB client; boto3 itself honours AWS_ENDPOINT_URL(_DYNAMODB)."""
    config = Config(
        connect_timeout=CONNECT_TIMEOUT_SECONDS,
        read_timeout=READ_TIMEOUT_SECONDS,
        retries={"mode": "standard", "max_attempts": 3},
        max_pool_connections=max_pool_connections,
    )
    return boto3.session.Session().client("dynamodb", config=config)


def http_session(max_pool_connections: int) -> URLLib3Session:
    """The HTTP session for @connections posts (see management_api for why not boto3)."""
    return URLLib3Session(
        max_pool_connections=max_pool_connections,
        timeout=(CONNECT_TIMEOUT_SECONDS, READ_TIMEOUT_SECONDS),
        # Without TCP_NODELAY each small POST waits ~40 ms for the delayed ACK.
        socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)],
    )


def frozen_credentials(session: boto3.session.Session) -> ReadOnlyCredentials:
    """The credentials to sign this invocation's posts (read per invocation: they rotate)."""
    credentials = session.get_credentials()
    if credentials is None:
        raise RuntimeError("no AWS credentials found to sign @connections posts")
    return credentials.get_frozen_credentials()
