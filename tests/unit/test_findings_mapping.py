"""What each finding becomes: GuardDuty, Security Hub ASFF and OCSF findings → one incident
item shape, with stable ids, bounded strings and time-ordered timestamps."""

from __future__ import annotations

import copy

import pytest

from tests.support.finding_events import (
    GUARDDUTY_EVENTS,
    SECURITYHUB_EVENTS,
    findings_of,
    sample_event,
)
from tests.support.lambda_zip import load_module

EXPECTED_SEVERITY = {
    "guardduty/ssh-brute-force-low.json": "LOW",
    "guardduty/console-login-medium.json": "MEDIUM",
    "guardduty/bitcoin-tool-high.json": "HIGH",
    "guardduty/bitcoin-tool-high-update.json": "HIGH",
    "guardduty/bitcoin-tool-high-archived.json": "HIGH",
    "guardduty/attack-sequence-s3-critical.json": "CRITICAL",
    "securityhub/control-ec2-19-passed.json": "INFORMATIONAL",
    "securityhub/macie-sensitive-data-low.json": "LOW",
    "securityhub/guardduty-ssh-brute-force.json": "MEDIUM",
    "securityhub/inspector-vulnerability-high.json": "HIGH",
    "securityhub/control-ec2-19-critical.json": "CRITICAL",
    "securityhub/v2-compliance-s3-high.json": "HIGH",
    "securityhub/v2-guardduty-bitcoin-tool-high.json": "HIGH",
    "securityhub/v2-vulnerability-critical.json": "CRITICAL",
}
GUARDDUTY_SSH_ARN = (
    "arn:aws:guardduty:us-east-1:111122223333:detector/d4b040365221be2b54a6264dc9a4bc64"
    "/finding/46ba0ac2845071e23ccdeb2ae03bfdea"
)
TIMESTAMP = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"


@pytest.fixture(scope="module")
def findings():
    return load_module("findings", "incident_ws.findings")


@pytest.fixture(scope="module")
def ingest(findings):
    return findings.ingest


@pytest.fixture(scope="module")
def incident(findings):
    return findings.incident


def incidents_of(ingest, name: str) -> list:
    event = sample_event(name)
    source = ingest.SOURCES[(event["source"], event["detail-type"])]
    return [source.incident(finding) for finding in source.findings(event["detail"])]


def only_incident(ingest, name: str):
    [incident] = incidents_of(ingest, name)
    return incident


def test_every_sample_event_has_an_expected_severity():
    assert sorted(EXPECTED_SEVERITY) == sorted(GUARDDUTY_EVENTS + SECURITYHUB_EVENTS)


@pytest.mark.parametrize(("name", "severity"), sorted(EXPECTED_SEVERITY.items()))
def test_sample_finding_gets_its_severity(ingest, name, severity):
    assert only_incident(ingest, name).severity == severity


def test_guardduty_finding_becomes_an_incident_item(ingest):
    incident = only_incident(ingest, "guardduty/ssh-brute-force-low.json")

    assert incident.item() == {
        "incident_id": incident.incident_id,
        "finding_id": GUARDDUTY_SSH_ARN,
        "severity": "LOW",
        "title": (
            "198.51.100.197 is performing SSH brute force attacks against i-0c10c2c7863d1a356."
        ),
        "description": (
            "198.51.100.197 is performing SSH brute force attacks against i-0c10c2c7863d1a356. "
            "Brute force attacks are used to gain unauthorized access to your instance by "
            "guessing the SSH password."
        ),
        "account": "111122223333",
        "region": "us-east-1",
        "arn": "i-0c10c2c7863d1a356",
        "status": "NEW",
        "source": "guardduty",
        "type": "UnauthorizedAccess:EC2/SSHBruteForce",
        "created_at": "2026-08-22T09:34:34.146Z",
        "updated_at": "2026-09-30T12:14:00.206Z",
        "count": 74,
    }
    assert incident.incident_id.startswith("finding-")
    assert len(incident.incident_id) == len("finding-") + 24


def test_asff_finding_becomes_an_incident_item(ingest):
    incident = only_incident(ingest, "securityhub/inspector-vulnerability-high.json")

    assert incident.item() == {
        "incident_id": incident.incident_id,
        "finding_id": (
            "arn:aws:securityhub:eu-west-1::product/aws/inspector/444455556666/"
            "arn:aws:inspector2:eu-west-1:444455556666:finding/0e7d1c2b3a4f5e6d7c8b9a0f1e2d3c4b"
        ),
        "severity": "HIGH",
        "title": "CVE-2026-0001 - openssl-libs",
        "description": (
            "A flaw in openssl-libs allows a remote attacker to cause a denial of service."
        ),
        "account": "444455556666",
        "region": "eu-west-1",
        "arn": "arn:aws:ec2:eu-west-1:444455556666:instance/i-09f8e7d6c5b4a3210",
        "status": "NEW",
        "source": "inspector",
        "type": "Software and Configuration Checks/Vulnerabilities/CVE",
        "created_at": "2026-09-10T05:12:40.112Z",
        "updated_at": "2026-09-10T05:12:40.112Z",
    }


def test_ocsf_finding_becomes_an_incident_item(ingest):
    incident = only_incident(ingest, "securityhub/v2-compliance-s3-high.json")

    assert incident.item() == {
        "incident_id": incident.incident_id,
        "finding_id": (
            "arn:aws:securityhub:us-east-1::productv2/aws/securityhub/111122223333/"
            "arn:aws:securityhub:us-east-1:111122223333:security-control/S3.8/finding/"
            "5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b"
        ),
        "severity": "HIGH",
        "title": "S3 general purpose buckets should block public access",
        "description": (
            "This control checks whether an Amazon S3 general purpose bucket blocks public "
            "access at the bucket level."
        ),
        "account": "111122223333",
        "region": "us-east-1",
        "arn": "arn:aws:s3:::customer-exports-111122223333",
        "status": "NEW",
        "source": "securityhub",
        "type": (
            "Software and Configuration Checks/Industry and Regulatory Standards, "
            "Posture Management"
        ),
        "created_at": "2026-09-05T11:20:14.710Z",
        "updated_at": "2026-09-05T11:20:14.710Z",
    }


def test_guardduty_finding_has_one_incident_in_every_format(ingest):
    native = only_incident(ingest, "guardduty/bitcoin-tool-high.json")
    ocsf = only_incident(ingest, "securityhub/v2-guardduty-bitcoin-tool-high.json")
    native_ssh = only_incident(ingest, "guardduty/ssh-brute-force-low.json")
    asff_ssh = only_incident(ingest, "securityhub/guardduty-ssh-brute-force.json")

    assert native.incident_id == ocsf.incident_id
    assert native_ssh.incident_id == asff_ssh.incident_id
    assert (native.finding_id, native_ssh.finding_id) == (ocsf.finding_id, asff_ssh.finding_id)
    assert {native.source, ocsf.source, native_ssh.source, asff_ssh.source} == {"guardduty"}


def test_updates_of_a_finding_keep_its_incident_id(ingest):
    versions = [
        only_incident(ingest, f"guardduty/bitcoin-tool-high{suffix}.json")
        for suffix in ("", "-update", "-archived")
    ]
    control = [
        only_incident(ingest, f"securityhub/control-ec2-19-{state}.json")
        for state in ("critical", "passed")
    ]

    assert len({v.incident_id for v in versions}) == 1
    assert [v.updated_at for v in versions] == sorted(v.updated_at for v in versions)
    assert [(v.status, v.count) for v in versions] == [("NEW", 1), ("NEW", 23), ("ARCHIVED", 23)]
    assert control[0].incident_id == control[1].incident_id
    assert [(c.severity, c.status) for c in control] == [
        ("CRITICAL", "NEW"),
        ("INFORMATIONAL", "RESOLVED"),
    ]


@pytest.mark.parametrize(
    ("name", "arn"),
    [
        (
            "guardduty/attack-sequence-s3-critical.json",
            "arn:aws:s3:::customer-exports-111122223333",
        ),
        ("securityhub/macie-sensitive-data-low.json", "arn:aws:s3:::customer-exports-111122223333"),
        (
            "securityhub/v2-vulnerability-critical.json",
            "arn:aws:ecr:eu-west-1:444455556666:repository/payments/sha256:"
            "3f1c9d5e7b2a4c6e8f0a1b3c5d7e9f1a2b4c6d8e0f1a3b5c7d9e1f2a4b6c8d0e",
        ),
    ],
)
def test_first_of_several_resources_is_the_incident_arn(ingest, name, arn):
    assert only_incident(ingest, name).arn == arn


@pytest.mark.parametrize(
    ("name", "source"),
    [
        ("securityhub/control-ec2-19-critical.json", "securityhub"),
        ("securityhub/macie-sensitive-data-low.json", "macie"),
        ("securityhub/v2-vulnerability-critical.json", "inspector"),
    ],
)
def test_source_is_the_security_hub_product_name(ingest, name, source):
    assert only_incident(ingest, name).source == source


def test_asff_ids_are_scoped_by_product_and_account(ingest):
    [finding] = findings_of("securityhub/macie-sensitive-data-low.json")
    other_account = {**finding, "AwsAccountId": "444455556666"}
    other_product = {
        **finding,
        "ProductArn": "arn:aws:securityhub:us-east-1::product/aws/inspector",
    }
    asff = ingest.SOURCES[("aws.securityhub", "Security Hub Findings - Imported")]

    ids = {asff.incident(f).incident_id for f in (finding, other_account, other_product)}

    assert len(ids) == 3


def test_a_customer_product_cannot_take_over_a_guardduty_incident(ingest):
    """A product of the customer's own may import any `Id`, even a GuardDuty finding ARN:
    it must not land on (and overwrite) GuardDuty's incident."""
    [finding] = findings_of("securityhub/guardduty-ssh-brute-force.json")
    custom = {
        **finding,
        "ProductArn": "arn:aws:securityhub:us-east-1:111122223333:product/111122223333/default",
    }
    asff = ingest.SOURCES[("aws.securityhub", "Security Hub Findings - Imported")]

    assert asff.incident(custom).incident_id != asff.incident(finding).incident_id


@pytest.mark.parametrize(
    ("value", "normalised"),
    [
        ("2026-01-04T15:25:10Z", "2026-01-04T15:25:10.000Z"),
        ("2026-01-04T15:25:10.123456789Z", "2026-01-04T15:25:10.123Z"),
        ("2026-01-04T15:25:10+17:59", "2026-01-03T21:26:10.000Z"),
        ("2026-01-04T15:25:10-1759", "2026-01-05T09:24:10.000Z"),
        ("2026-01-04T15:25:10.5+01:00", "2026-01-04T14:25:10.500Z"),
    ],
)
def test_timestamps_are_normalised_to_utc_milliseconds(incident, value, normalised):
    assert incident.utc_timestamp(value, "UpdatedAt") == normalised


@pytest.mark.parametrize("value", ["2026-01-04T15:25:10", "2026-01-04", "yesterday", 1767540310])
def test_timestamp_without_offset_or_not_iso_is_refused(incident, value):
    with pytest.raises(incident.InvalidFinding, match="UpdatedAt"):
        incident.utc_timestamp(value, "UpdatedAt")


def test_ocsf_epoch_milliseconds_are_read_when_there_is_no_dt_field(ingest):
    [finding] = findings_of("securityhub/v2-compliance-s3-high.json")
    info = finding["finding_info"]
    del info["created_time_dt"], info["modified_time_dt"]
    info["created_time"], info["modified_time"] = 1788606014710, 1788606074000
    ocsf = ingest.SOURCES[("aws.securityhub", "Findings Imported V2")]

    incident = ocsf.incident(finding)

    assert (incident.created_at, incident.updated_at) == (
        "2026-09-05T11:00:14.710Z",
        "2026-09-05T11:01:14.000Z",
    )


def test_updated_at_more_than_a_day_ahead_is_refused(ingest, findings):
    """It would make every later real update of the finding look stale."""
    [finding] = findings_of("guardduty/bitcoin-tool-high.json")
    finding["updatedAt"] = "2999-01-01T00:00:00Z"
    guardduty = ingest.SOURCES[("aws.guardduty", "GuardDuty Finding")]

    with pytest.raises(findings.InvalidFinding, match="future") as raised:
        guardduty.incident(finding)
    assert raised.value.finding_id == finding["arn"]


def test_long_strings_are_cut_and_marked(ingest, incident):
    [finding] = findings_of("securityhub/macie-sensitive-data-low.json")
    finding["Title"] = "t" * 100_000
    finding["Description"] = "d" * 100_000
    asff = ingest.SOURCES[("aws.securityhub", "Security Hub Findings - Imported")]

    cut = asff.incident(finding)

    assert cut.title == "t" * (incident.MAX_TITLE_CHARS - 1) + "…"
    assert cut.description == "d" * (incident.MAX_DESCRIPTION_CHARS - 1) + "…"


def test_finding_id_is_never_cut(ingest, findings):
    [finding] = findings_of("securityhub/macie-sensitive-data-low.json")
    finding["Id"] = "x" * 5000
    asff = ingest.SOURCES[("aws.securityhub", "Security Hub Findings - Imported")]

    with pytest.raises(findings.InvalidFinding, match="longer than"):
        asff.incident(finding)


def test_lone_surrogates_become_question_marks(ingest):
    [finding] = findings_of("securityhub/macie-sensitive-data-low.json")
    finding["Title"] = "bad \ud800 title"
    asff = ingest.SOURCES[("aws.securityhub", "Security Hub Findings - Imported")]

    assert asff.incident(finding).title == "bad ? title"


def test_missing_workflow_status_is_new(ingest):
    [finding] = findings_of("securityhub/inspector-vulnerability-high.json")
    del finding["Workflow"], finding["WorkflowState"]
    asff = ingest.SOURCES[("aws.securityhub", "Security Hub Findings - Imported")]

    assert asff.incident(finding).status == "NEW"


def test_ocsf_status_caption_becomes_a_status_word(ingest):
    [finding] = findings_of("securityhub/v2-compliance-s3-high.json")
    finding["status"], finding["status_id"] = "In Progress", 2
    ocsf = ingest.SOURCES[("aws.securityhub", "Findings Imported V2")]

    assert ocsf.incident(finding).status == "IN_PROGRESS"


def test_item_carries_the_table_keys_and_never_an_action(ingest):
    incident = only_incident(ingest, "guardduty/bitcoin-tool-high.json")

    item = incident.item("pk", "entry_id")

    assert item["pk"] == item["incident_id"] == incident.incident_id
    assert item["entry_id"] == "incident"
    assert "action" not in item


def test_item_without_optional_values_leaves_them_out(ingest):
    [finding] = findings_of("guardduty/console-login-medium.json")
    finding = copy.deepcopy(finding)
    del finding["description"], finding["resource"], finding["service"]
    guardduty = ingest.SOURCES[("aws.guardduty", "GuardDuty Finding")]

    item = guardduty.incident(finding).item()

    assert not {"description", "arn", "count"} & set(item)
    assert item["status"] == "NEW"
