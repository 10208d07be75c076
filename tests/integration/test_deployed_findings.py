"""examples/complete's findings path as deployed: the incident table's keys, the EventBridge
rules and their targets, who may invoke the findings function and send to its queue, and where
a failed invocation goes."""

from __future__ import annotations

import json

import pytest

from tests.integration.deployment import (
    COMPLETE_FINDING_PATTERNS,
    INCIDENT_KEY_SCHEMA,
    METRICS_NAMESPACE,
    Deployment,
)

# The first test to run also waits for the apply (about a minute, more on a busy machine).
pytestmark = [pytest.mark.terraform, pytest.mark.timeout(600)]

# examples/complete keeps the module's delivery settings: an hour for EventBridge and Lambda to
# retry an event, EventBridge's 185 delivery attempts at most and Lambda's 2 retries.
MAXIMUM_EVENT_AGE_SECONDS = 3600
TARGET_RETRY_POLICY = {"MaximumRetryAttempts": 185, "MaximumEventAgeInSeconds": 3600}
INVOKE_RETRY_ATTEMPTS = 2


def _rule(deployment: Deployment, key: str) -> dict:
    rule_name = deployment.outputs["finding_rule_arns"][key].rsplit("/", 1)[-1]
    return deployment.client("events").describe_rule(Name=rule_name)


def _targets(deployment: Deployment, key: str) -> list[dict]:
    rule_name = _rule(deployment, key)["Name"]
    return deployment.client("events").list_targets_by_rule(Rule=rule_name)["Targets"]


def _findings_function(deployment: Deployment) -> str:
    return deployment.functions["findings"]


def test_incident_table_keeps_entries_beside_their_incident(deployment):
    table = deployment.client("dynamodb").describe_table(
        TableName=deployment.outputs["incident_table_name"]
    )["Table"]
    assert table["KeySchema"] == INCIDENT_KEY_SCHEMA
    assert {a["AttributeName"]: a["AttributeType"] for a in table["AttributeDefinitions"]} == {
        "incident_id": "S",
        "entry_id": "S",
    }


def test_findings_function_writes_the_incident_table_with_its_key_names(deployment):
    environment = deployment.environment(_findings_function(deployment))
    assert environment == {
        "INCIDENT_TABLE": deployment.outputs["incident_table_name"],
        "INCIDENT_HASH_KEY": "incident_id",
        "INCIDENT_RANGE_KEY": "entry_id",
        "METRICS_NAMESPACE": METRICS_NAMESPACE,
    }


def test_each_source_and_format_has_a_rule_from_the_minimum_severity_up(deployment):
    rules = {key: _rule(deployment, key) for key in deployment.outputs["finding_rule_arns"]}
    patterns = {key: json.loads(rule["EventPattern"]) for key, rule in rules.items()}
    assert patterns == COMPLETE_FINDING_PATTERNS
    assert {rule["State"] for rule in rules.values()} == {"ENABLED"}


@pytest.mark.parametrize("key", COMPLETE_FINDING_PATTERNS)
def test_rule_targets_the_findings_function_with_retries_and_dead_letter_queue(deployment, key):
    (target,) = _targets(deployment, key)
    assert target["Arn"] == deployment.function_arn(_findings_function(deployment))
    assert target["RetryPolicy"] == TARGET_RETRY_POLICY
    assert target["DeadLetterConfig"] == {"Arn": deployment.findings_dead_letter_queue_arn()}


def test_findings_function_may_be_invoked_only_by_the_findings_rules(deployment):
    statements = deployment.permission_statements(_findings_function(deployment))
    conditions = [s.get("Condition", {}) for s in statements]
    invokers = {
        (s["Principal"]["Service"], c.get("ArnLike", c.get("ArnEquals", {})).get("AWS:SourceArn"))
        for s, c in zip(statements, conditions, strict=True)
    }
    rules = set(deployment.outputs["finding_rule_arns"].values())
    assert invokers == {("events.amazonaws.com", rule) for rule in rules}


def test_failed_invocations_are_retried_then_sent_to_the_findings_queue(deployment):
    config = deployment.client("lambda").get_function_event_invoke_config(
        FunctionName=_findings_function(deployment)
    )
    assert config["MaximumRetryAttempts"] == INVOKE_RETRY_ATTEMPTS
    assert config["MaximumEventAgeInSeconds"] == MAXIMUM_EVENT_AGE_SECONDS
    assert config["DestinationConfig"]["OnFailure"] == {
        "Destination": deployment.findings_dead_letter_queue_arn()
    }


def test_findings_queue_accepts_eventbridge_only_from_the_findings_rules(deployment):
    policy = deployment.client("sqs").get_queue_attributes(
        QueueUrl=deployment.outputs["findings_dead_letter_queue_url"], AttributeNames=["Policy"]
    )["Attributes"]["Policy"]
    (statement,) = json.loads(policy)["Statement"]
    assert (statement["Effect"], statement["Principal"], statement["Action"]) == (
        "Allow",
        {"Service": "events.amazonaws.com"},
        "sqs:SendMessage",
    )
    assert statement["Resource"] == deployment.findings_dead_letter_queue_arn()
    source_arns = statement["Condition"]["ArnEquals"]["aws:SourceArn"]
    assert sorted(source_arns) == sorted(deployment.outputs["finding_rule_arns"].values())


def test_findings_queue_is_encrypted(deployment):
    attributes = deployment.client("sqs").get_queue_attributes(
        QueueUrl=deployment.outputs["findings_dead_letter_queue_url"], AttributeNames=["All"]
    )["Attributes"]
    assert attributes.get("SqsManagedSseEnabled") == "true" or attributes.get("KmsMasterKeyId")
