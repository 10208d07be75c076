"""The findings handler on a moto-backed incident table: one conditional write per finding,
newer wins, replays are no-ops, bad findings are skipped, table failures are raised after
the other findings were written."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
from botocore.awsrequest import AWSResponse

from tests.support.finding_events import (
    GUARDDUTY_EVENTS,
    SECURITYHUB_EVENTS,
    findings_of,
    sample_event,
    with_findings,
)
from tests.support.lambda_zip import load_module
from tests.unit.helpers import parse_log_event

FINDINGS_VARIABLES = ("INCIDENT_TABLE", "INCIDENT_HASH_KEY", "INCIDENT_RANGE_KEY")


@dataclass(frozen=True)
class Layout:
    hash_key: str
    range_key: str | None = None

    def key(self, incident_id: str) -> dict[str, str]:
        key = {self.hash_key: incident_id}
        if self.range_key:
            key[self.range_key] = "incident"
        return key


INCIDENT_ONLY = Layout("incident_id")
WITH_ENTRIES = Layout("incident_id", "entry_id")  # the module's default incident table
CUSTOM_KEYS = Layout("pk", "sk")
LAYOUTS = [INCIDENT_ONLY, WITH_ENTRIES, CUSTOM_KEYS]


@pytest.fixture(autouse=True)
def no_findings_variables(monkeypatch):
    for name in FINDINGS_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(params=LAYOUTS, ids=lambda layout: "+".join(filter(None, vars(layout).values())))
def layout(request) -> Layout:
    return request.param


@pytest.fixture
def table(dynamodb, layout):
    keys = [(layout.hash_key, "HASH"), (layout.range_key, "RANGE")]
    return dynamodb.create_table(
        TableName="Incident",
        KeySchema=[{"AttributeName": n, "KeyType": t} for n, t in keys if n],
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n, _ in keys if n],
        BillingMode="PAY_PER_REQUEST",
    )


@pytest.fixture
def findings(load, table, layout):
    env = {"INCIDENT_TABLE": table.name, "INCIDENT_HASH_KEY": layout.hash_key}
    if layout.range_key:
        env["INCIDENT_RANGE_KEY"] = layout.range_key
    return load("findings", **env)


def stored(table) -> list[dict]:
    return table.scan()["Items"]


def fail_writes_of(client, incident_ids: set[str]) -> list[str]:
    """Make DynamoDB answer HTTP 500 to every PutItem of these incidents (each of the
    client's retries too), as a struggling table would; returns the incident ids as attempted.

    moto cannot fail on demand: the request is answered here and sent to a host that moto
    does not serve, so that moto does not store the item behind the failure's back."""
    attempted: list[str] = []

    def internal_error(request, **_):
        written = json.loads(request.body)["Item"]["incident_id"]["S"]
        attempted.append(written)
        if written not in incident_ids:
            return None
        request.url = "https://dynamodb.unreachable.invalid/"
        body = json.dumps({"__type": "com.amazonaws.dynamodb.v20120810#InternalServerError"})
        return AWSResponse(request.url, 500, {}, _RawBody(body.encode()))

    client.meta.events.register_first("before-send.dynamodb.PutItem", internal_error)
    return attempted


class _RawBody:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_) -> list[bytes]:
        return [self._body]


# -- writing -----------------------------------------------------------------------------


def test_guardduty_finding_is_written_as_the_incident_item(findings, table, layout):
    summary = findings.handler(sample_event("guardduty/bitcoin-tool-high.json"), None)

    [item] = stored(table)
    assert summary == {
        "source": "guardduty",
        "findings": 1,
        "written": 1,
        "stale": 0,
        "skipped": 0,
        "failed": 0,
    }
    assert item[layout.hash_key] == item["incident_id"]
    assert item["incident_id"].startswith("finding-")
    assert item.get(layout.range_key) == ("incident" if layout.range_key else None)
    assert (item["severity"], item["status"], item["source"]) == ("HIGH", "NEW", "guardduty")
    assert item["count"] == 1
    assert "action" not in item


@pytest.mark.parametrize("name", GUARDDUTY_EVENTS + SECURITYHUB_EVENTS)
def test_every_sample_event_writes_its_finding(load, dynamodb, name):
    table = dynamodb.create_table(
        TableName="Incident",
        KeySchema=[{"AttributeName": "incident_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "incident_id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    handler = load("findings", INCIDENT_TABLE="Incident")

    summary = handler.handler(sample_event(name), None)

    assert (summary["written"], len(stored(table))) == (1, 1)


def test_update_of_a_finding_replaces_its_incident(findings, table):
    findings.handler(sample_event("guardduty/bitcoin-tool-high.json"), None)
    findings.handler(sample_event("guardduty/bitcoin-tool-high-update.json"), None)

    [item] = stored(table)
    assert (item["updated_at"], item["count"]) == ("2026-09-14T08:15:02.450Z", 23)


def test_older_replay_does_not_overwrite_and_is_logged_stale(findings, table, caplog):
    findings.handler(sample_event("guardduty/bitcoin-tool-high-update.json"), None)

    summary = findings.handler(sample_event("guardduty/bitcoin-tool-high.json"), None)

    [item] = stored(table)
    assert item["updated_at"] == "2026-09-14T08:15:02.450Z"
    assert (summary["written"], summary["stale"]) == (0, 1)
    [stale] = parse_log_event(caplog, "finding_stale")
    assert stale["updatedAt"] == "2026-09-14T02:17:45.811Z"
    assert stale["storedUpdatedAt"] == "2026-09-14T08:15:02.450Z"
    assert all(r.levelname == "INFO" for r in caplog.records if "finding_stale" in r.message)


def test_identical_replay_is_a_no_op(findings, table):
    event = sample_event("securityhub/control-ec2-19-critical.json")
    findings.handler(event, None)
    before = stored(table)

    summary = findings.handler(event, None)

    assert stored(table) == before
    assert (summary["written"], summary["stale"]) == (0, 1)


def test_guardduty_finding_via_guardduty_and_security_hub_is_one_incident(findings, table):
    for name in (
        "guardduty/ssh-brute-force-low.json",
        "securityhub/guardduty-ssh-brute-force.json",
        "guardduty/bitcoin-tool-high.json",
        "securityhub/v2-guardduty-bitcoin-tool-high.json",
        "guardduty/bitcoin-tool-high-update.json",
    ):
        findings.handler(sample_event(name), None)

    assert sorted((i["type"], i["updated_at"]) for i in stored(table)) == [
        ("Threats, CryptoCurrency:EC2/BitcoinTool.B!DNS", "2026-09-14T08:15:02.450Z"),
        ("UnauthorizedAccess:EC2/SSHBruteForce", "2026-09-30T12:14:00.206Z"),
    ]


def test_archived_finding_updates_the_incident_status(findings, table):
    for suffix in ("", "-update", "-archived"):
        findings.handler(sample_event(f"guardduty/bitcoin-tool-high{suffix}.json"), None)

    [item] = stored(table)
    assert item["status"] == "ARCHIVED"


def test_remediation_log_beside_the_incident_is_untouched(load, dynamodb):
    table = dynamodb.create_table(
        TableName="Incident",
        KeySchema=[
            {"AttributeName": "incident_id", "KeyType": "HASH"},
            {"AttributeName": "entry_id", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "incident_id", "AttributeType": "S"},
            {"AttributeName": "entry_id", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    handler = load("findings", INCIDENT_TABLE="Incident", INCIDENT_RANGE_KEY="entry_id")
    handler.handler(sample_event("securityhub/control-ec2-19-critical.json"), None)
    [incident] = stored(table)
    remediation = {
        "incident_id": incident["incident_id"],
        "entry_id": "remediation#2026-09-03T08:40:00.000Z#revoke_security_group_ingress",
        "action": "revoke_security_group_ingress",
        "target": "sg-0d5a2a3c7e1f4b9a8",
        "status": "SUCCEEDED",
    }
    table.put_item(Item=remediation)

    handler.handler(sample_event("securityhub/control-ec2-19-passed.json"), None)

    entries = {i["entry_id"]: i for i in stored(table)}
    assert entries[remediation["entry_id"]] == remediation
    assert entries["incident"]["status"] == "RESOLVED"


# -- bad input ---------------------------------------------------------------------------


def test_bad_finding_is_skipped_and_the_others_are_written(findings, table, caplog):
    good = findings_of("securityhub/control-ec2-19-critical.json")
    other = findings_of("securityhub/macie-sensitive-data-low.json")
    bad = findings_of("securityhub/control-ec2-19-passed.json")[0]
    bad = {**bad, "Id": "bad-finding-1", "AwsAccountId": None}
    event = with_findings("securityhub/control-ec2-19-critical.json", [*good, bad, *other])

    summary = findings.handler(event, None)

    assert (summary["written"], summary["skipped"]) == (2, 1)
    assert {i["source"] for i in stored(table)} == {"securityhub", "macie"}
    [skipped] = parse_log_event(caplog, "finding_skipped")
    assert skipped["reason"] == "account is not a 12-digit AWS account id"
    assert skipped["findingId"].endswith("/None/bad-finding-1")


@pytest.mark.parametrize(
    "event",
    [
        {"source": "aws.health", "detail-type": "AWS Health Event", "detail": {}},
        {"source": "aws.securityhub", "detail-type": "Security Hub Findings - Imported"},
        {"source": "aws.securityhub", "detail-type": "Findings Imported V2", "detail": []},
        "not an event",
        None,
    ],
    ids=["other-source", "no-detail", "findings-not-a-list", "string", "none"],
)
def test_event_without_findings_is_logged_not_raised(findings, table, caplog, event):
    summary = findings.handler(event, None)

    assert (summary["findings"], summary["skipped"], stored(table)) == (0, 1, [])
    assert len(parse_log_event(caplog, "finding_skipped")) == 1


def test_summary_is_logged_once_per_invocation(findings, table, caplog):
    findings.handler(sample_event("securityhub/v2-vulnerability-critical.json"), None)

    [summary] = parse_log_event(caplog, "findings_processed")
    assert summary == {
        "eventId": "8f7e6d5c-4b3a-4291-c8d7-e6f5a4b3c2d1",
        "source": "securityhub-ocsf",
        "findings": 1,
        "written": 1,
        "stale": 0,
        "skipped": 0,
        "failed": 0,
    }


# -- table failures ----------------------------------------------------------------------


def three_finding_event() -> dict:
    names = [
        "securityhub/control-ec2-19-critical.json",
        "securityhub/macie-sensitive-data-low.json",
        "securityhub/guardduty-ssh-brute-force.json",
    ]
    return with_findings(names[0], [f for name in names for f in findings_of(name)])


def test_table_failure_is_raised_after_the_other_findings_were_written(findings, table, caplog):
    event = three_finding_event()
    asff = load_module("findings", "incident_ws.findings.asff")
    ids = [asff.asff_incident(f).incident_id for f in event["detail"]["findings"]]
    attempted = fail_writes_of(findings.DYNAMODB, {ids[1]})

    with pytest.raises(Exception, match="1 of 3 findings not written") as raised:
        findings.handler(event, None)

    assert type(raised.value).__name__ == "FindingsNotWritten"
    assert {i["incident_id"] for i in stored(table)} == {ids[0], ids[2]}
    assert attempted.count(ids[1]) == 4  # the first attempt and the client's 3 retries
    assert attempted[-1] == ids[2]
    [failed] = parse_log_event(caplog, "finding_write_failed")
    assert failed["incidentId"] == ids[1]
    assert "InternalServerError" in failed["error"]
    [summary] = parse_log_event(caplog, "findings_processed")
    assert (summary["written"], summary["failed"]) == (2, 1)


def test_retried_event_writes_only_what_was_missing(findings, load, table):
    event = three_finding_event()
    asff = load_module("findings", "incident_ws.findings.asff")
    failing = asff.asff_incident(event["detail"]["findings"][1]).incident_id
    fail_writes_of(findings.DYNAMODB, {failing})
    with pytest.raises(Exception, match="not written"):
        findings.handler(event, None)
    healthy = load("findings")  # EventBridge's retry, with the table answering again

    summary = healthy.handler(event, None)

    assert (summary["written"], summary["stale"], len(stored(table))) == (1, 2, 3)


def test_missing_table_is_raised(load, dynamodb):
    handler = load("findings", INCIDENT_TABLE="NoSuchTable")

    with pytest.raises(Exception, match="ResourceNotFoundException"):
        handler.handler(sample_event("guardduty/bitcoin-tool-high.json"), None)


def test_dynamodb_client_has_timeouts_and_standard_retries():
    writer = load_module("findings", "incident_ws.findings.writer")

    config = writer.dynamodb_client().meta.config

    assert (config.connect_timeout, config.read_timeout) == (2, 5)
    assert config.retries == {"mode": "standard", "total_max_attempts": 4}


# -- configuration -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({}, "INCIDENT_TABLE"),
        ({"INCIDENT_TABLE": "  "}, "INCIDENT_TABLE"),
        ({"INCIDENT_TABLE": "t", "INCIDENT_HASH_KEY": "severity"}, "INCIDENT_HASH_KEY"),
        ({"INCIDENT_TABLE": "t", "INCIDENT_HASH_KEY": " pk"}, "INCIDENT_HASH_KEY"),
        ({"INCIDENT_TABLE": "t", "INCIDENT_RANGE_KEY": "incident_id"}, "INCIDENT_RANGE_KEY"),
        ({"INCIDENT_TABLE": "t", "INCIDENT_RANGE_KEY": "action"}, "INCIDENT_RANGE_KEY"),
        (
            {"INCIDENT_TABLE": "t", "INCIDENT_HASH_KEY": "pk", "INCIDENT_RANGE_KEY": "pk"},
            "INCIDENT_RANGE_KEY",
        ),
        ({"INCIDENT_TABLE": "t", "INCIDENT_RANGE_KEY": "x" * 256}, "INCIDENT_RANGE_KEY"),
    ],
)
def test_cold_start_fails_naming_the_variable(load, env, variable):
    with pytest.raises(Exception, match=variable) as raised:
        load("findings", **env)
    assert type(raised.value).__name__ == "ConfigError"


def test_keys_default_to_incident_id_without_sort_key(load):
    handler = load("findings", INCIDENT_TABLE="Incident")

    assert (handler.CONFIG.hash_key, handler.CONFIG.range_key) == ("incident_id", None)
