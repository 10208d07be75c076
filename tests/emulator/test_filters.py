import pytest

from dev.emulator.filters import UnsupportedFilter, matches, matches_any

INSERT = {
    "eventName": "INSERT",
    "dynamodb": {"NewImage": {"severity": {"S": "HIGH"}, "score": {"N": "7"}}},
    "tags": ["a", "b"],
    "count": 7,
}


def test_a_value_list_matches_any_listed_value():
    assert matches({"eventName": ["INSERT", "MODIFY"]}, INSERT)
    assert not matches({"eventName": ["REMOVE"]}, INSERT)


def test_nested_objects_match_nested_fields():
    pattern = {"dynamodb": {"NewImage": {"severity": {"S": ["HIGH", "CRITICAL"]}}}}

    assert matches(pattern, INSERT)
    assert not matches({"dynamodb": {"OldImage": {"severity": {"S": ["HIGH"]}}}}, INSERT)


def test_prefix_and_suffix_match_the_start_and_end_of_strings():
    assert matches({"eventName": [{"prefix": "INS"}]}, INSERT)
    assert matches({"eventName": [{"suffix": "ERT"}]}, INSERT)
    assert not matches({"eventName": [{"prefix": "MOD"}]}, INSERT)


def test_exists_checks_presence_or_absence_of_a_field():
    assert matches({"eventName": [{"exists": True}]}, INSERT)
    assert matches({"userIdentity": [{"exists": False}]}, INSERT)
    assert not matches({"userIdentity": [{"exists": True}]}, INSERT)


def test_anything_but_excludes_the_listed_values():
    assert matches({"eventName": [{"anything-but": ["REMOVE"]}]}, INSERT)
    assert not matches({"eventName": [{"anything-but": "INSERT"}]}, INSERT)


def test_numeric_compares_numbers_within_bounds():
    assert matches({"count": [{"numeric": [">", 5, "<=", 7]}]}, INSERT)
    assert not matches({"count": [{"numeric": ["<", 5]}]}, INSERT)


def test_equals_ignore_case():
    assert matches({"eventName": [{"equals-ignore-case": "insert"}]}, INSERT)


def test_a_list_field_matches_when_any_element_matches():
    assert matches({"tags": ["b"]}, INSERT)


def test_a_missing_field_does_not_match_a_value_list():
    assert not matches({"awsRegion": ["us-east-1"]}, INSERT)


def test_records_pass_when_any_filter_matches_or_there_are_none():
    assert matches_any([{"eventName": ["REMOVE"]}, {"eventName": ["INSERT"]}], INSERT)
    assert not matches_any([{"eventName": ["REMOVE"]}], INSERT)
    assert matches_any([], INSERT)


def test_an_unknown_operator_is_an_error_not_a_silent_match():
    with pytest.raises(UnsupportedFilter, match="cidr"):
        matches({"eventName": [{"cidr": "10.0.0.0/8"}]}, INSERT)


# -- EventBridge semantics: arrays of objects, numeric ranges, leaves ------------------------

FINDINGS = {
    "source": "aws.securityhub",
    "detail": {
        "findings": [
            {"Severity": {"Label": "LOW", "Normalized": 20}, "Workflow": {"Status": "NEW"}},
            {"Severity": {"Label": "HIGH", "Normalized": 75}, "Workflow": {"Status": "RESOLVED"}},
        ]
    },
}


def severity_at_least(floor: int) -> dict:
    return {"detail": {"findings": {"Severity": {"Normalized": [{"numeric": [">=", floor]}]}}}}


def test_an_array_of_objects_matches_when_any_element_matches():
    assert matches(severity_at_least(70), FINDINGS)
    assert not matches(severity_at_least(90), FINDINGS)


def label_and_status(label: str, status: str) -> dict:
    return {
        "detail": {"findings": {"Severity": {"Label": [label]}, "Workflow": {"Status": [status]}}}
    }


def test_fields_matched_together_must_come_from_the_same_array_element():
    assert matches(label_and_status("HIGH", "RESOLVED"), FINDINGS)
    assert not matches(label_and_status("HIGH", "NEW"), FINDINGS)


def test_a_numeric_range_includes_its_bounds_and_excludes_what_lies_outside():
    in_range = {"detail": {"severity": [{"numeric": [">=", 7, "<=", 10]}]}}

    assert matches(in_range, {"detail": {"severity": 7}})
    assert matches(in_range, {"detail": {"severity": 10.0}})
    assert not matches(in_range, {"detail": {"severity": 6.9}})
    assert not matches(in_range, {"detail": {"severity": 10.1}})


def test_numeric_matches_only_json_numbers():
    in_range = {"detail": {"severity": [{"numeric": [">=", 7]}]}}

    assert not matches(in_range, {"detail": {"severity": "8"}})
    assert not matches(in_range, {"detail": {"severity": True}})


def test_exists_sees_leaves_only_not_objects():
    event = {"detail": {"resource": {"type": "Instance"}}}

    assert not matches({"detail": {"resource": [{"exists": True}]}}, event)
    assert matches({"detail": {"resource": [{"exists": False}]}}, event)


def test_exists_false_matches_a_field_under_a_missing_parent():
    assert matches({"detail": {"service": {"archived": [{"exists": False}]}}}, {"detail": {}})
    assert matches({"userIdentity": {"type": [{"exists": False}]}}, INSERT)


def test_a_nested_pattern_does_not_match_a_scalar():
    assert not matches({"eventName": {"S": ["INSERT"]}}, INSERT)


def test_anything_but_a_prefix_excludes_values_with_that_prefix():
    assert matches({"eventName": [{"anything-but": {"prefix": "MOD"}}]}, INSERT)
    assert not matches({"eventName": [{"anything-but": {"prefix": "INS"}}]}, INSERT)
