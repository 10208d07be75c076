"""AWS clients and the @connections sender, built once per container (at cold start)."""

from __future__ import annotations

import boto3
from botocore.config import Config
from botocore.credentials import ReadOnlyCredentials

from .connections_sender import ConnectionsSender
from .http_nonblocking import Timeouts
from .limits import (
    DYNAMODB_CONNECT_TIMEOUT_SECONDS,
    DYNAMODB_MAX_ATTEMPTS,
    DYNAMODB_READ_TIMEOUT_SECONDS,
    FAN_OUT_DYNAMODB_CONNECT_TIMEOUT_SECONDS,
    FAN_OUT_DYNAMODB_MAX_ATTEMPTS,
    FAN_OUT_DYNAMODB_READ_TIMEOUT_SECONDS,
    POST_CONNECT_TIMEOUT_SECONDS,
    POST_READ_TIMEOUT_SECONDS,
)


def dynamodb_client():
    """The DynamoDB client of connect and disconnect; boto3 itself honours
    AWS_ENDPOINT_URL(_DYNAMODB)."""
    return _dynamodb_client(
        DYNAMODB_CONNECT_TIMEOUT_SECONDS, DYNAMODB_READ_TIMEOUT_SECONDS, DYNAMODB_MAX_ATTEMPTS, 10
    )


def fan_out_dynamodb_client(max_pool_connections: int):
    """The DynamoDB client of the stream processor, the heartbeat, replay and presence: every
    call, retries included, ends within the deadline's margin (limits.py)."""
    return _dynamodb_client(
        FAN_OUT_DYNAMODB_CONNECT_TIMEOUT_SECONDS,
        FAN_OUT_DYNAMODB_READ_TIMEOUT_SECONDS,
        FAN_OUT_DYNAMODB_MAX_ATTEMPTS,
        max_pool_connections,
    )


def _dynamodb_client(
    connect_timeout: float, read_timeout: float, max_attempts: int, max_pool_connections: int
):
    config = Config(
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        retries={"mode": "standard", "total_max_attempts": max_attempts},
        max_pool_connections=max_pool_connections,
    )
    return boto3.session.Session().client("dynamodb", config=config)


def connections_sender(max_in_flight: int) -> ConnectionsSender:
    """The sender of @connections posts, not boto3's `apigatewaymanagementapi` client: its
    request pipeline costs about 1.6 ms of CPU per post, the sender's event loop a thirtieth
    of that (dev/bench/profile.md). Its kept-alive HTTP connections serve the next invocation."""
    return ConnectionsSender(
        max_in_flight, Timeouts(POST_CONNECT_TIMEOUT_SECONDS, POST_READ_TIMEOUT_SECONDS)
    )


def frozen_credentials(session: boto3.session.Session) -> ReadOnlyCredentials:
    """The credentials to sign this invocation's posts (read per invocation: they rotate)."""
    credentials = session.get_credentials()
    if credentials is None:
        raise RuntimeError("no AWS credentials found to sign @connections posts")
    return credentials.get_frozen_credentials()
