"""docs/handlers.md, the handlers' contract, names what the code reads and logs, and quotes its
limits as limits.py defines them."""

from __future__ import annotations

import ast
import re

import pytest

from tests.support.lambda_zip import REPO_ROOT
from tests.unit.helpers import LIMITS, METRICS

DOC = (REPO_ROOT / "docs" / "handlers.md").read_text(encoding="utf-8")
FUNCTIONS = REPO_ROOT / "functions"
SOURCES = sorted(p for p in FUNCTIONS.rglob("*.py") if "dist" not in p.relative_to(FUNCTIONS).parts)


def logged_events() -> set[str]:
    """Every event name a `log_event(logger, level, <event>, ...)` call can write."""
    events = set()
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "log_event":
                events.update(
                    n.value for n in ast.walk(node.args[2]) if isinstance(n, ast.Constant)
                )
    return events


def read_variables() -> set[str]:
    config = (FUNCTIONS / "lib" / "incident_ws" / "config.py").read_text(encoding="utf-8")
    return set(re.findall(r'"([A-Z][A-Z0-9_]+)"', config))


@pytest.mark.parametrize("event", sorted(logged_events()))
def test_every_log_line_is_documented(event):
    assert f"`{event}`" in DOC


@pytest.mark.parametrize("variable", sorted(read_variables()))
def test_every_environment_variable_is_documented(variable):
    assert variable in DOC


def documented_metrics() -> dict[tuple[str, str], tuple[str, str]]:
    """`(function, metric) → (unit, dimension names)` of the rows of the Metrics table."""
    rows = re.findall(r"^\| (\w+) \| `(\w+)` \| (\w+) \| ([^|]+) \|", DOC, re.MULTILINE)
    return {
        (function, name): (unit, ", ".join(re.sub(r" \([^)]*\)", "", dimensions).split(", ")))
        for function, name, unit, dimensions in rows
    }


def test_the_metrics_table_is_the_catalogue():
    catalogue = {(m.function, m.name): (m.unit, ", ".join(m.dimensions)) for m in METRICS.CATALOGUE}

    assert documented_metrics() == catalogue


@pytest.mark.parametrize(
    "quoted",
    [
        f"{LIMITS.MAX_MESSAGE_BYTES:,} bytes",
        f"cut to {LIMITS.MAX_USER_AGENT_CHARS} characters",
        f"`{LIMITS.DEFAULT_CONNECTION_TTL_SECONDS}`",
        f"`{LIMITS.DEFAULT_MAX_CONCURRENCY}`",
        f"text over {LIMITS.MAX_SOURCE_IP_CHARS} characters",
        f"DynamoDB's {LIMITS.MAX_NESTING_LEVELS} levels",
        f"posts {LIMITS.POST_CONNECT_TIMEOUT_SECONDS} s to connect and"
        f" {LIMITS.POST_READ_TIMEOUT_SECONDS} s to read",
        f"{LIMITS.FAN_OUT_DYNAMODB_CONNECT_TIMEOUT_SECONDS} s to connect and"
        f" {LIMITS.FAN_OUT_DYNAMODB_READ_TIMEOUT_SECONDS} s to read,"
        f" {LIMITS.FAN_OUT_DYNAMODB_MAX_ATTEMPTS} attempts",
        f"{LIMITS.DYNAMODB_CONNECT_TIMEOUT_SECONDS} s to connect and"
        f" {LIMITS.DYNAMODB_READ_TIMEOUT_SECONDS} s to read,"
        f" {LIMITS.DYNAMODB_MAX_ATTEMPTS} attempts",
        f"up to {LIMITS.POST_MAX_RETRIES} retries",
        f"min({LIMITS.POST_BACKOFF_CAP_SECONDS:g} s,"
        f" {LIMITS.POST_BACKOFF_BASE_SECONDS * 1000:g} ms",
        f"its deadline {LIMITS.DEADLINE_MARGIN_SECONDS:g} s before the end",
        f"{LIMITS.LONGEST_POST_ATTEMPT_SECONDS:g} s; a DynamoDB call",
        f"= {LIMITS.LONGEST_DYNAMODB_CALL_SECONDS:g} s",
        f"When {LIMITS.BREAKER_FAILED_POSTS} posts of a channel in a row",
        f"`{LIMITS.DEFAULT_MESSAGE_RETENTION_SECONDS}` (24 h)",
        f"whole seconds ≥ {LIMITS.MIN_MESSAGE_RETENTION_SECONDS} that a message log",
        f"`{LIMITS.DEFAULT_REPLAY_MAX_MESSAGES}`",
        f"| `{LIMITS.DEFAULT_CONNECTIONS_PER_WORKER}` |",
        f"| `{LIMITS.DEFAULT_MAX_WORKERS}` |",
        f"asked again after {LIMITS.ITEM_COUNT_REFRESH_SECONDS} s",
        f"(at most 6 MB - {(6 * 1024 * 1024 - LIMITS.MAX_WORKER_REQUEST_BYTES) // 1024} KB)",
        f"at most {LIMITS.LOG_WRITE_BATCH_ITEMS} of one channel per request, up to"
        f" {LIMITS.LOG_WRITE_CONCURRENCY} requests",
        f"up to {LIMITS.LOG_WRITE_MAX_RETRIES} times",
        f"pages of at least {LIMITS.REPLAY_MIN_PAGE_ITEMS} items",
        f"later than {LIMITS.REPLY_DEADLINE_MARGIN_SECONDS:g} s before Lambda's timeout",
        f"until {LIMITS.CLOSING_FRAME_MARGIN_SECONDS:g} s before it",
        f"At most {LIMITS.MAX_PRESENCE_MEMBERS:,} members and {LIMITS.MAX_MESSAGE_BYTES:,} bytes",
    ],
)
def test_the_limits_quoted_are_those_of_limits_py(quoted):
    assert quoted in " ".join(DOC.split())  # wherever the lines break
