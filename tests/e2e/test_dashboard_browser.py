"""The dashboard page in headless Chromium (Debian's `chromium` package) against the local stack.

The screenshot goes to `test-artifacts/dashboard.png`; with UPDATE_DOCS_SCREENSHOT=1 it also
replaces `docs/dashboard.png`, the README's picture (kept out of ordinary runs so that `make test`
leaves the work tree clean).
"""

from __future__ import annotations

import os
import shutil
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect, sync_playwright

from dev.demo import DASHBOARD_CLIENT_ID
from dev.demo.samples import inject_samples
from dev.emulator.endpoints import management_path
from dev.harness.paths import REPO_ROOT
from tests.e2e.helpers import INCIDENT_ENTRY, eventually, rows_of, unique

pytestmark = pytest.mark.browser

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOT = REPO_ROOT / "test-artifacts" / "dashboard.png"
DOCS_SCREENSHOT = REPO_ROOT / "docs" / "dashboard.png"


def chromium_executable() -> str | None:
    debian_path = Path("/usr/bin/chromium")
    return shutil.which("chromium") or (str(debian_path) if debian_path.exists() else None)


@pytest.fixture(scope="module")
def page(stack) -> Iterator[Any]:
    executable = chromium_executable()
    if executable is None:
        pytest.skip("Chromium is not installed; install it with `apt-get install chromium`")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        page.goto(stack.dashboard_url)
        yield page
        browser.close()


def channel_pane(page, channel: str):
    return page.locator(f'.channel[data-channel="{channel}"]')


def test_dashboard_shows_every_channel_connected(stack, page):
    for channel in stack.channel_urls:
        expect(channel_pane(page, channel).locator(".state")).to_have_attribute(
            "data-state", "open", timeout=10_000
        )


def test_dashboard_shows_an_injected_incident_with_its_severity(stack, page):
    inject_samples(stack.incident_table(), pause_seconds=0)  # a backdrop for the screenshot
    item = {
        "incident_id": unique("INC-browser"),
        "entry_id": INCIDENT_ENTRY,
        "severity": "CRITICAL",
        "status": "OPEN",
        "title": "Root account used without MFA",
        "resource": "arn:aws:iam::123456789012:root",
        "account": "123456789012",
        "region": "us-east-1",
    }
    stack.incident_table().put_item(Item=item)

    shown = channel_pane(page, "history").locator(f'[data-incident-id="{item["incident_id"]}"]')
    expect(shown).to_be_visible(timeout=5_000)
    expect(shown).to_have_attribute("data-severity", "critical")
    expect(shown).to_contain_text(item["title"])
    save_screenshot(page)


def test_dashboard_reconnects_when_the_service_closes_its_socket(stack, page):
    pane_state = channel_pane(page, "events").locator(".state")
    expect(pane_state).to_have_attribute("data-state", "open", timeout=10_000)
    [before] = rows_of(stack, "events", DASHBOARD_CLIENT_ID)

    close_connection(stack, "events", before["connectionId"])

    reconnected = eventually(
        lambda: [
            row
            for row in rows_of(stack, "events", DASHBOARD_CLIENT_ID)
            if row["connectionId"] != before["connectionId"]
        ],
        timeout=10,
    )
    assert len(reconnected) == 1
    expect(pane_state).to_have_attribute("data-state", "open")


def close_connection(stack, channel: str, connection_id: str) -> None:
    """`DELETE @connections/{id}` on the emulator's management API, as a backend would."""
    deployed = stack.outputs["channels"][channel]
    path = management_path(deployed["api_id"], deployed["stage_name"]) + "/@connections/"
    request = urllib.request.Request(
        stack.emulator_url + path + urllib.parse.quote(connection_id, safe=""), method="DELETE"
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 204


def save_screenshot(page) -> None:
    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOT)
    if os.environ.get("UPDATE_DOCS_SCREENSHOT") == "1":
        DOCS_SCREENSHOT.parent.mkdir(exist_ok=True)
        shutil.copyfile(SCREENSHOT, DOCS_SCREENSHOT)


def test_dashboard_shows_who_it_is_connected_as_and_switches_persona(stack, page):
    identity = page.locator("#identity")
    expect(identity).to_have_attribute("data-persona", "analyst", timeout=10_000)
    expect(page.locator("#principal")).to_have_text("analyst")
    expect(page.locator("#scope")).to_have_text("all accounts")

    page.select_option("#persona", "tenant")

    expect(identity).to_have_attribute("data-persona", "tenant")
    expect(page.locator("#principal")).to_have_text("tenant-111122223333")
    expect(page.locator("#scope")).to_have_text("account 111122223333")
    history = channel_pane(page, "history")
    expect(history).to_have_attribute("data-persona", "tenant", timeout=10_000)
    eventually(
        lambda: (
            [row["principal"] for row in rows_of(stack, "history", DASHBOARD_CLIENT_ID)]
            == ["tenant-111122223333"]
        ),
        timeout=10,
    )
    other = {**browser_incident(), "account": "444455556666"}
    own = {**browser_incident(), "account": "111122223333"}
    stack.incident_table().put_item(Item=other)
    stack.incident_table().put_item(Item=own)

    expect(history.locator(f'[data-incident-id="{own["incident_id"]}"]')).to_be_visible(
        timeout=5_000
    )
    expect(history.locator(f'[data-incident-id="{other["incident_id"]}"]')).to_have_count(0)


def browser_incident() -> dict:
    return {
        "incident_id": unique("INC-persona"),
        "entry_id": INCIDENT_ENTRY,
        "severity": "HIGH",
        "status": "OPEN",
        "title": "CloudTrail stopped in a member account",
        "region": "us-east-1",
    }
