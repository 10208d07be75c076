"""Small builders shared by the unit tests."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from tests.support.emf import Datapoint, figures, read_emf
from tests.support.lambda_zip import load_module

CONNECTIONS_TABLE = "Connections"
LIMITS = load_module("stream_processor", "incident_ws.limits")  # as the zips ship it
METRICS = load_module("stream_processor", "incident_ws.metrics")
METRICS_NAMESPACE = "IncidentWebSocket/unit-tests"  # every test's (conftest.py)

Figures = dict[tuple[str, tuple[tuple[str, str], ...]], Any]


def channels_env(**channels: tuple[str, str]) -> str:
    """CHANNELS JSON from `key=(table, endpoint)`."""
    return json.dumps({n: {"table": t, "endpoint": e} for n, (t, e) in channels.items()})


def connection(connection_id: str, **attributes: Any) -> dict[str, Any]:
    """A connections-table item as `$connect` stored it a minute ago (no longer connecting)."""
    now = time.time()
    return {
        "connectionId": connection_id,
        "createdAt": int((now - 60) * 1000),
        "ttl": int(now) + 3600,
        "clientId": "dashboard",
        **attributes,
    }


def parse_log_event(caplog: pytest.LogCaptureFixture, event: str) -> list[dict[str, Any]]:
    """The fields of every `<event> {json}` log line."""
    prefix = f"{event} "
    return [
        json.loads(record.getMessage()[len(prefix) :])
        for record in caplog.records
        if record.getMessage().startswith(prefix)
    ]


def drop_table_after_first_scan_page(client, table, page_size: int) -> None:
    """Make `client`'s Scans return `page_size` items a page and delete `table` (moto) just
    before the second page is asked for: a table that stops answering mid-scan."""
    pages = []

    def limit_and_drop(params: dict[str, Any], **_: Any) -> None:
        if params.get("TableName") != table.name:
            return
        params["Limit"] = page_size
        pages.append(params)
        if len(pages) == 2:
            table.delete()

    client.meta.events.register("provide-client-params.dynamodb.Scan", limit_and_drop)


def fail_scan_pages(
    client, table_name: str, page_size: int, failing_from: int, operation: str = "Scan"
) -> None:
    """Make `client`'s Scans (or Queries, `operation`) of `table_name` return `page_size` items
    a page and answer every page from number `failing_from` (1-based) on with DynamoDB's HTTP
    500."""
    pages = []

    def limit(params: dict[str, Any], **_: Any) -> None:
        if params.get("TableName") == table_name:
            params["Limit"] = page_size

    def fail(params: dict[str, Any], **_: Any):
        if json.loads(params["body"]).get("TableName") != table_name:
            return None
        pages.append(params)
        if len(pages) < failing_from:
            return None
        error = {"Code": "InternalServerError", "Message": "Internal server error"}
        return _HttpResponse(500), {"Error": error, "ResponseMetadata": {"HTTPStatusCode": 500}}

    client.meta.events.register(f"provide-client-params.dynamodb.{operation}", limit)
    client.meta.events.register(f"before-call.dynamodb.{operation}", fail)


class _HttpResponse:
    """What botocore reads of a response that a `before-call` hook answers instead of AWS."""

    def __init__(self, status_code: int) -> None:
        self.status_code = status_code
        self.headers: dict[str, str] = {}


def emitted_points(capsys: pytest.CaptureFixture) -> list[Datapoint]:
    """The datapoints the handlers printed since the last call, each checked against the EMF
    specification and against the catalogue: a metric of its `Function`, with the unit and
    dimension names the catalogue gives it, in the tests' namespace."""
    points = read_emf(capsys.readouterr().out)
    for point in points:
        function = point.dimension("Function")
        entry = METRICS.metric(function, point.name)
        assert entry is not None, f"{function} emits {point.name}, which is not in the catalogue"
        assert (point.unit, point.dimension_names) == (entry.unit, entry.dimensions), point
        assert point.namespace == METRICS_NAMESPACE, point
    return points


def emitted(capsys: pytest.CaptureFixture) -> Figures:
    """`{metric(name, **dimensions): sum of a Count, or every value of a time}` printed since
    the last call, checked as `emitted_points` checks them."""
    return figures(emitted_points(capsys))


def metric(name: str, **dimensions: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    """The key of a metric in `emitted`: dimensions in the catalogue's order (Function first)."""
    return name, tuple(dimensions.items())
