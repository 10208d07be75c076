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
