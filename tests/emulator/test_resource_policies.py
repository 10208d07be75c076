"""Whether a function's resource-based policy lets EventBridge invoke it for a rule."""

from __future__ import annotations

from typing import Any

from dev.emulator.resource_policies import service_may_invoke

EVENTS = "events.amazonaws.com"
RULE = "arn:aws:events:us-east-1:123456789012:rule/findings-guardduty"
ACCOUNT = "123456789012"


def statement(**overrides: Any) -> dict[str, Any]:
    """What `aws_lambda_permission` with a `source_arn` writes."""
    return {
        "Sid": "AllowEvents",
        "Effect": "Allow",
        "Principal": {"Service": EVENTS},
        "Action": "lambda:InvokeFunction",
        "Resource": "arn:aws:lambda:us-east-1:123456789012:function:ingest",
        "Condition": {"ArnLike": {"AWS:SourceArn": RULE}},
        **overrides,
    }


def may_invoke(*statements: dict[str, Any], source_arn: str = RULE) -> bool:
    return service_may_invoke({"Statement": list(statements)}, EVENTS, source_arn, ACCOUNT)


def test_a_permission_for_the_rule_allows_it():
    assert may_invoke(statement())


def test_no_statement_allows_nothing():
    assert not may_invoke()


def test_a_permission_for_another_rule_or_service_does_not_allow_it():
    assert not may_invoke(statement(), source_arn=RULE.replace("guardduty", "other"))
    assert not may_invoke(statement(Principal={"Service": "s3.amazonaws.com"}))


def test_source_arn_patterns_match_part_by_part():
    wildcard = statement(Condition={"ArnLike": {"AWS:SourceArn": RULE.replace("guardduty", "*")}})

    assert may_invoke(wildcard)
    assert not may_invoke(wildcard, source_arn=RULE.replace(":rule/", ":bus/"))


def test_a_source_account_condition_is_evaluated():
    own = statement(Condition={"StringEquals": {"AWS:SourceAccount": ACCOUNT}})
    other = statement(Condition={"StringEquals": {"AWS:SourceAccount": "999999999999"}})

    assert may_invoke(own)
    assert not may_invoke(other)


def test_a_statement_without_conditions_allows_every_rule():
    assert may_invoke(statement(Condition={}), source_arn=RULE.replace("guardduty", "any"))


def test_an_explicit_deny_wins():
    assert not may_invoke(statement(), statement(Effect="Deny"))


def test_a_condition_the_emulator_cannot_evaluate_allows_nothing():
    unknown = statement(Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}})

    assert not may_invoke(unknown)
