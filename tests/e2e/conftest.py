"""The local stack, applied once per session from examples/local, and real WebSocket clients.

Every test here runs against what `terraform apply` deployed into a moto server, run by the
emulator: the same `LocalStack` (dev/harness) that `make demo` starts, dashboard included.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from websockets.sync.client import connect

from dev.demo import DASHBOARD_DIR
from dev.harness.local_stack import LocalStack
from dev.harness.paths import BUILD_DIR
from dev.harness.personas import ANALYST
from tests.e2e.helpers import TIME_SCALE, Client, latency_report, unique

SIGNED_IN = object()  # open_client's default: a token of the persona

# Per test, including the session's terraform apply (about a minute on 2 busy cores).
TIMEOUT_SECONDS = 300


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.e2e)
            item.add_marker(pytest.mark.timeout(TIMEOUT_SECONDS))


@pytest.fixture(scope="session")
def stack(request: pytest.FixtureRequest) -> Iterator[LocalStack]:
    if shutil.which("terraform") is None:
        pytest.skip("terraform is not installed")
    # Not pytest's tmp_path: concurrent pytest sessions prune each other's base temp dirs.
    (BUILD_DIR / "e2e").mkdir(parents=True, exist_ok=True)
    work_dir = Path(tempfile.mkdtemp(prefix="stack-", dir=BUILD_DIR / "e2e"))
    with LocalStack(
        work_dir, static_dir=DASHBOARD_DIR, emulator_args=["--time-scale", str(TIME_SCALE)]
    ) as local_stack:
        yield local_stack
    if request.session.testsfailed:
        print(f"\nlocal stack logs kept in {work_dir}")
    else:
        shutil.rmtree(work_dir, ignore_errors=True)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """On failure, show the end of the emulator's log (the Lambdas' logs and errors)."""
    report = yield
    stack_fixture = getattr(item, "funcargs", {}).get("stack")
    if report.failed and isinstance(stack_fixture, LocalStack):
        log = stack_fixture.work_dir / "emulator.log"
        if log.exists():
            tail = log.read_text(errors="replace").splitlines()[-60:]
            report.sections.append(("emulator log (last 60 lines)", "\n".join(tail)))
    return report


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """The time from PutEvents to a WebSocket client's receipt, as measured by the tests."""
    lines = latency_report()
    if lines:
        terminalreporter.section("PutEvents → WebSocket client (measured, not asserted)")
        for line in lines:
            terminalreporter.write_line(line)


@pytest.fixture
def open_client(stack: LocalStack) -> Iterator[Callable[..., Client]]:
    """Connect to a channel with query parameters (`clientId` unique unless given), signed in
    as a persona (the analyst unless given) with a `token` query parameter, unless `token` is
    given (None: no token at all) or the stack's channels trust no issuer."""
    with contextlib.ExitStack() as connections:

        def open_(
            channel: str,
            user_agent: str = "incident-websocket-e2e",
            persona: str = ANALYST.name,
            token: str | object | None = SIGNED_IN,
            headers: dict[str, str] | None = None,
            subprotocols: list[str] | None = None,
            **query: str,
        ) -> Client:
            query.setdefault("clientId", unique("e2e"))
            if token is SIGNED_IN:
                token = stack.token(persona) if stack.uses_issuer else None
            if token is not None:
                query["token"] = str(token)
            url = f"{stack.channel_urls[channel]}?{urlencode(query)}"
            opening = connect(
                url,
                user_agent_header=user_agent,
                additional_headers=headers,
                subprotocols=subprotocols,
                proxy=None,
                open_timeout=10,
            )
            return Client(connections.enter_context(opening), query["clientId"])

        yield open_


@pytest.fixture(scope="session")
def deployed_environment(stack: LocalStack) -> Callable[..., dict[str, str]]:
    """The environment Terraform gave a function: `("connect", "history")`, `("heartbeat",)`."""
    lambda_client = stack.client("lambda")

    def environment(function: str, channel: str | None = None) -> dict[str, str]:
        name = stack.outputs["function_names"][function]
        if channel is not None:
            name = name[channel]
        configuration = lambda_client.get_function_configuration(FunctionName=name)
        return configuration["Environment"]["Variables"]

    return environment
