"""Fixtures: moto-backed AWS, connections tables, the fake @connections API, and handlers
imported from the built zips with a given environment — metrics on, and checked."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import boto3
import pytest
from moto import mock_aws

from dev.harness.fake_connections_api import FakeConnectionsApi
from tests.support.lambda_zip import load_handler
from tests.unit.helpers import CONNECTIONS_TABLE, METRICS_NAMESPACE

REGION = "us-east-1"
HANDLER_VARIABLES = (
    "CONNECTIONS_TABLE",
    "CONNECTION_TTL_SECONDS",
    "STORE_SOURCE_IP",
    "AUTHORIZATION_TYPE",
    "CHANNEL_NAME",
    "CHANNELS",
    "ROUTES",
    "MAX_CONCURRENCY",
    "WS_ENDPOINT",
    "MESSAGE_RETENTION_SECONDS",
    "MESSAGES_TABLE",
    "AUDIENCE_INDEXES",
    "MANAGEMENT_ENDPOINT",
    "REPLAY_MAX_MESSAGES",
    "METRICS_NAMESPACE",
    *(
        f"{p}_{s}"
        for p in ("EVENT", "REMED", "HISTORY")
        for s in ("API_GW_ENDPOINT", "CONNECTIONS_TABLE")
    ),
)


@pytest.fixture(autouse=True)
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every test runs against moto, with nothing of the host's AWS set-up leaking in."""
    for name in (
        "AWS_PROFILE",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_DYNAMODB",
        *HANDLER_VARIABLES,
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("METRICS_NAMESPACE", METRICS_NAMESPACE)
    with mock_aws():
        yield


class _ErrorLines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture(autouse=True)
def metric_errors() -> Iterator[list[str]]:
    """Every handler runs with metrics on (METRICS_NAMESPACE), so every test of every path
    checks its metric calls: an error of the metrics (`metric_rejected`: a call the catalogue
    does not allow; `metrics_not_written`) fails the test. A test that provokes one on purpose
    reads and clears this list."""
    collected = _ErrorLines()
    metrics_logger = logging.getLogger("incident_ws.metrics")
    metrics_logger.addHandler(collected)
    try:
        yield collected.lines
    finally:
        metrics_logger.removeHandler(collected)
    assert collected.lines == [], collected.lines


@pytest.fixture(autouse=True)
def info_logs(caplog: pytest.LogCaptureFixture) -> None:
    """Handlers log their summaries at INFO, as Lambda's default log level shows them."""
    caplog.set_level(logging.INFO)


@pytest.fixture
def dynamodb():
    return boto3.resource("dynamodb", region_name=REGION)


@pytest.fixture
def make_connections_table(dynamodb) -> Callable[[str], Any]:
    def make(name: str):
        return dynamodb.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": "connectionId", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "connectionId", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )

    return make


@pytest.fixture
def make_messages_table(dynamodb) -> Callable[[str], Any]:
    """A channel's message log table: partition key `channel`, sort key `id`."""

    def make(name: str):
        return dynamodb.create_table(
            TableName=name,
            KeySchema=[
                {"AttributeName": "channel", "KeyType": "HASH"},
                {"AttributeName": "id", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "channel", "AttributeType": "S"},
                {"AttributeName": "id", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )

    return make


@pytest.fixture
def table(make_connections_table):
    """The connections table of the one channel a test configures (`CONNECTIONS_TABLE`)."""
    return make_connections_table(CONNECTIONS_TABLE)


@pytest.fixture
def load(monkeypatch: pytest.MonkeyPatch) -> Callable[..., ModuleType]:
    """`load("connect", CONNECTIONS_TABLE="t")`: the handler from its zip, cold-started with
    exactly these handler variables set."""

    def load_with(name: str, **env: str) -> ModuleType:
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        return load_handler(name)

    return load_with


@pytest.fixture
def fake_api() -> Iterator[FakeConnectionsApi]:
    with FakeConnectionsApi() as api:
        yield api
