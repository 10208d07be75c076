"""The dashboard page in headless Chromium (Debian's `chromium` package) against the local stack.

The page is opened only after the demo's samples were written: it shows them because it replays
each channel's log when it connects, and a reload shows each of them once again, never twice.

The screenshot goes to `test-artifacts/dashboard.png`; with UPDATE_DOCS_SCREENSHOT=1 it also
replaces `docs/dashboard.png`, the README's picture (kept out of ordinary runs so that `make test`
leaves the work tree clean).
"""

from __future__ import annotations

import os
import re
import shutil
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect, sync_playwright
from websockets.sync.client import connect

from dev.demo import DASHBOARD_CLIENT_ID
from dev.demo.samples import inject_samples, iso, sample_items
from dev.emulator.endpoints import management_path
from dev.harness.paths import REPO_ROOT
from tests.e2e.helpers import INCIDENT_ENTRY, Client, eventually, rows_of, unique

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
TIMEOUT_MS = 10_000


def chromium_executable() -> str | None:
    debian_path = Path("/usr/bin/chromium")
    return shutil.which("chromium") or (str(debian_path) if debian_path.exists() else None)


@pytest.fixture(scope="module")
def samples(stack) -> list[dict[str, Any]]:
    """The demo's samples, written before any page is open, as the history channel sent them
    live to a client of its own (so they are logged)."""
    expected = len(list(sample_items()))
    url = f"{stack.channel_urls['history']}?token={stack.token('analyst')}&clientId=e2e-samples"
    with connect(url, proxy=None, open_timeout=10) as connection:
        client = Client(connection, "e2e-samples")
        inject_samples(stack.incident_table(), pause_seconds=0)
        sample_ids = {item["incident_id"] for item in sample_items()}
        received: list[dict[str, Any]] = []

        def all_samples(message: dict[str, Any]) -> bool:
            if message.get("incident_id") in sample_ids and message.get("id"):
                received.append(message)
            return len(received) == expected

        client.wait_for(all_samples, timeout=20)
    return received


@pytest.fixture(scope="module")
def page(stack, samples) -> Iterator[Any]:
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


def card(page, channel: str, incident_id: str):
    return channel_pane(page, channel).locator(f'.incident[data-incident-id="{incident_id}"]')


def expect_each_sample_once(page, samples: list[dict[str, Any]]) -> None:
    history = channel_pane(page, "history")
    for message in samples:
        entry = history.locator(f'.history-entry[data-message-id="{message["id"]}"]')
        expect(entry).to_have_count(1, timeout=TIMEOUT_MS)
    for incident_id in {message["incident_id"] for message in samples}:
        expect(card(page, "history", incident_id)).to_have_count(1)


def test_dashboard_shows_every_channel_connected(stack, page):
    for channel in stack.channel_urls:
        expect(channel_pane(page, channel).locator(".state")).to_have_attribute(
            "data-state", "open", timeout=TIMEOUT_MS
        )


def test_samples_written_before_the_page_opened_are_shown_once_each(page, samples):
    expect_each_sample_once(page, samples)


def test_an_incident_shows_its_newest_state_with_its_remediation_log_and_history(page, samples):
    incident = card(page, "history", "INC-0001")

    expect(incident).to_have_attribute("data-severity", "critical", timeout=TIMEOUT_MS)
    expect(incident).to_have_attribute("data-status", "resolved")
    expect(incident.locator(".headline .title").first).to_have_text(
        "Security group opens SSH to 0.0.0.0/0"
    )
    log = incident.locator('.remediation[data-action="revoke_security_group_ingress"]')
    expect(log).to_have_count(1)
    expect(log).to_have_attribute("data-status", "succeeded")
    history = incident.locator(".history")
    expect(history.locator(".history-entry")).to_have_count(
        len([m for m in samples if m["incident_id"] == "INC-0001"])
    )
    history.locator("summary").click()
    expect(history.locator(".history-entry").first).to_be_visible()
    expect(incident.locator(".latency").first).to_contain_text("replayed")
    expect(incident.locator("time").first).to_have_text(
        re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$")
    )
    for channel in ("events", "remediation", "history"):
        expect(channel_pane(page, channel).locator(".replayed")).to_have_text(
            re.compile(r"^replayed "), timeout=TIMEOUT_MS
        )
    save_screenshot(page)


def test_a_reload_shows_the_samples_again_once_each(page, samples):
    page.reload()

    expect_each_sample_once(page, samples)


def test_a_live_incident_shows_its_delivery_latency(stack, page):
    item = browser_incident(account="123456789012")
    stack.incident_table().put_item(Item=item)

    shown = card(page, "history", item["incident_id"])
    expect(shown).to_be_visible(timeout=TIMEOUT_MS)
    expect(shown).to_have_attribute("data-severity", "high")
    expect(shown.locator(".latency").first).to_contain_text("delivered in")


def test_the_filters_hide_the_incidents_that_do_not_match(page, samples):
    critical, high = card(page, "history", "INC-0001"), card(page, "history", "INC-0002")
    expect(high).to_be_visible(timeout=TIMEOUT_MS)

    page.select_option("#filter-severity", "critical")
    expect(critical).to_be_visible()
    expect(high).to_be_hidden()

    page.select_option("#filter-severity", "")
    page.fill("#filter-text", "payroll")
    expect(high).to_be_visible()
    expect(critical).to_be_hidden()

    page.fill("#filter-text", "")
    page.select_option("#filter-account", "444455556666")
    expect(critical).to_be_visible()
    expect(high).to_be_hidden()
    page.select_option("#filter-account", "")
    expect(high).to_be_visible()


def test_pause_holds_new_messages_back_until_resume(stack, page):
    page.click("#pause")
    expect(page.locator("#pause")).to_have_attribute("aria-pressed", "true")
    item = browser_incident(account="123456789012")
    stack.incident_table().put_item(Item=item)

    # Incidents go to the events and history channels: one waits in each pane.
    expect(page.locator("#pause")).to_have_text("Resume (2 waiting)", timeout=TIMEOUT_MS)
    expect(card(page, "history", item["incident_id"])).to_have_count(0)
    page.click("#pause")
    expect(card(page, "history", item["incident_id"])).to_be_visible()


def test_dashboard_lists_who_is_online_and_sees_a_client_join_and_leave(stack, page):
    members = channel_pane(page, "remediation").locator(".members")
    expect(members.locator(f'[data-client-id="{DASHBOARD_CLIENT_ID}"]').first).to_be_visible(
        timeout=TIMEOUT_MS
    )
    client_id = unique("e2e-visitor")
    url = f"{stack.channel_urls['remediation']}?token={stack.token()}&clientId={client_id}"

    with connect(url, proxy=None, open_timeout=10):
        expect(members.locator(f'[data-client-id="{client_id}"]')).to_have_count(
            1, timeout=TIMEOUT_MS
        )

    expect(members.locator(f'[data-client-id="{client_id}"]')).to_have_count(0, timeout=TIMEOUT_MS)


def test_clear_empties_every_pane(page):
    expect(card(page, "history", "INC-0001")).to_have_count(1, timeout=TIMEOUT_MS)

    page.click("#clear")

    for channel in ("events", "remediation", "history"):
        expect(channel_pane(page, channel).locator(".incident")).to_have_count(0)
    expect(channel_pane(page, "history").locator(".incident-count")).to_have_text("0")


def test_dashboard_reconnects_when_the_service_closes_its_socket(stack, page):
    pane_state = channel_pane(page, "events").locator(".state")
    expect(pane_state).to_have_attribute("data-state", "open", timeout=TIMEOUT_MS)
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


def test_a_cleared_pane_gets_only_new_messages_after_a_reconnect(stack, page):
    item = browser_incident(account="123456789012")
    stack.incident_table().put_item(Item=item)

    expect(card(page, "events", item["incident_id"])).to_have_count(1, timeout=TIMEOUT_MS)
    expect(card(page, "events", "INC-0001")).to_have_count(0)


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
    expect(identity).to_have_attribute("data-persona", "analyst", timeout=TIMEOUT_MS)
    expect(page.locator("#principal")).to_have_text("analyst")
    expect(page.locator("#scope")).to_have_text("all accounts")

    page.select_option("#persona", "tenant")

    expect(identity).to_have_attribute("data-persona", "tenant")
    expect(page.locator("#principal")).to_have_text("tenant-111122223333")
    expect(page.locator("#scope")).to_have_text("account 111122223333")
    history = channel_pane(page, "history")
    expect(history).to_have_attribute("data-persona", "tenant", timeout=TIMEOUT_MS)
    eventually(
        lambda: (
            [row["principal"] for row in rows_of(stack, "history", DASHBOARD_CLIENT_ID)]
            == ["tenant-111122223333"]
        ),
        timeout=10,
    )
    other = browser_incident(account="444455556666")
    own = browser_incident(account="111122223333")
    stack.incident_table().put_item(Item=other)
    stack.incident_table().put_item(Item=own)

    expect(card(page, "history", own["incident_id"])).to_be_visible(timeout=TIMEOUT_MS)
    expect(card(page, "history", other["incident_id"])).to_have_count(0)
    # What the tenant replayed on switching is its account's alone.
    accounts = history.locator(".incident").evaluate_all(
        "cards => cards.map(c => c.dataset.account)"
    )
    assert set(accounts) == {"111122223333"}


def browser_incident(account: str) -> dict:
    return {
        "incident_id": unique("INC-browser"),
        "entry_id": INCIDENT_ENTRY,
        "severity": "HIGH",
        "status": "OPEN",
        "title": "CloudTrail stopped in a member account",
        "account": account,
        "region": "us-east-1",
        "timestamp": iso(time.time()),
    }


def test_the_metrics_panel_lists_what_the_functions_emitted(page, samples, deployed_environment):
    assert deployed_environment("stream_processor")["METRICS_NAMESPACE"]
    panel = page.locator("#metrics")
    panel.locator("summary").click()
    delivered = panel.locator(
        'tr[data-metric="Delivered"][data-dimensions="Function=stream_processor Channel=history"]'
    )

    expect(delivered).to_have_count(1, timeout=TIMEOUT_MS)
    expect(panel.locator(".metrics-summary")).to_contain_text("series moved")
    panel.locator("summary").click()
