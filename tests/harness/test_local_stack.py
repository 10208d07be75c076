"""The local stack's identity pieces, on a stub Terraform root that deploys nothing: the local
OIDC issuer's URL reaches Terraform, persona tokens are handed to the served page's origin."""

from __future__ import annotations

import json
import shutil
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from dev.harness.local_stack import LocalStack, TrustedIssuer
from dev.harness.personas import PERSONAS

STUB_ROOT = """
variable "aws_endpoint" { type = string }
variable "region" { type = string }
variable "oidc_issuer" { type = string }

output "incident_ws" {
  value = { channels = {}, oidc_issuer = var.oidc_issuer }
}
"""


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory):
    if shutil.which("terraform") is None:
        pytest.skip("terraform is not installed")
    root = tmp_path_factory.mktemp("stub-root")
    (root / "main.tf").write_text(STUB_ROOT)
    static = tmp_path_factory.mktemp("static")
    (static / "index.html").write_text("<!doctype html><title>stub</title>")
    work_dir = tmp_path_factory.mktemp("stack")
    with LocalStack(work_dir, static_dir=static, module_dir=root) as local_stack:
        yield local_stack


def get(url: str, origin: str | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers={"Origin": origin} if origin else {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_terraform_is_given_the_local_issuers_url(stack):
    assert stack.outputs["oidc_issuer"] == stack.issuer.url
    assert stack.issuer.url.startswith("http://127.0.0.1:")


def test_the_served_page_learns_the_personas_from_identity_json(stack):
    status, _, body = get(stack.dashboard_url + "identity.json")

    identity = json.loads(body)
    assert status == 200
    assert identity["issuer"] == stack.issuer.url
    assert [p["name"] for p in identity["personas"]] == list(PERSONAS)


def test_a_persona_token_is_handed_to_the_emulators_origin_only(stack):
    url = stack.issuer.persona_token_url + "?persona=tenant"

    status, headers, body = get(url, origin=stack.emulator_url)
    _, foreign_headers, _ = get(url, origin="https://elsewhere.example")

    assert status == 200
    assert json.loads(body)["token"].count(".") == 2
    assert headers["Access-Control-Allow-Origin"] == stack.emulator_url
    assert "Access-Control-Allow-Origin" not in foreign_headers


def test_an_unknown_persona_is_a_404(stack):
    status, _, body = get(stack.issuer.persona_token_url + "?persona=root")

    assert status == 404
    assert "root" in json.loads(body)["message"]


def test_without_an_authorizer_that_trusts_it_no_token_url_is_offered(stack):
    assert not stack.uses_issuer
    assert stack.identity()["tokenUrl"] is None


def test_the_static_files_are_served_next_to_identity_json(stack):
    status, _, body = get(stack.dashboard_url)

    assert status == 200
    assert b"stub" in body
    assert not (Path(stack.static_dir) / "identity.json").exists()


def test_the_events_client_publishes_to_the_emulator_and_reads_rules_from_moto(stack):
    stack.client("events").put_rule(Name="probe", EventPattern='{"source": ["probe"]}')
    events = stack.events_client()

    answer = events.put_events(Entries=[{"Source": "probe", "DetailType": "Probe", "Detail": "{}"}])

    assert events.meta.endpoint_url == stack.emulator_url
    assert answer["FailedEntryCount"] == 0
    assert [rule["Name"] for rule in events.list_rules()["Rules"]] == ["probe"]


def test_trusted_audiences_and_accounts_claims_come_from_the_authorizers_environment():
    trusted = TrustedIssuer.of(
        [
            {"OIDC_AUDIENCES": "dashboard, cli", "ACCOUNTS_CLAIM": "custom:accounts"},
            {"OIDC_AUDIENCES": "dashboard"},
        ]
    )

    assert trusted.audiences == ("cli", "dashboard")
    assert trusted.accounts_claims == ("custom:accounts",)
    assert trusted.audience_claim == ["cli", "dashboard"]


def test_a_persona_puts_its_accounts_under_every_accounts_claim():
    claims = PERSONAS["tenant"].claims(("accounts", "custom:accounts"))

    assert claims["accounts"] == claims["custom:accounts"] == ["111122223333"]
    assert claims["sub"] == "tenant-111122223333"
