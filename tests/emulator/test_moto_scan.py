"""The emulator's Scan (dev/emulator/moto_server.py) answers every page exactly as moto's own
`Table.scan` does: same items in the same order, same counts, same `LastEvaluatedKey`, same
1 MB cut, for random tables, pages, segments and start keys."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from moto.dynamodb.comparisons import get_filter_expression
from moto.dynamodb.models.table import Table

from dev.emulator import moto_server

PROPERTY_SETTINGS = settings(max_examples=150, deadline=None)

ODD_TEXT = st.text(
    st.characters(exclude_categories=["Cs"]),  # UTF-8 cannot encode lone surrogates
    min_size=1,
    max_size=12,
)
NUMBERS = st.one_of(
    st.integers(-(10**6), 10**6).map(str),
    st.decimals(-1000, 1000, places=3, allow_nan=False).map(str),
)
# Three items of about 333,300 bytes end near 1 MB: some pages end just under the cut, some over.
PADDING = st.one_of(st.sampled_from([0, 40, 2_000, 150_000]), st.integers(333_000, 333_400))
PROJECTION = [["connectionId"], ["account"]]


def table_of(key_type: str, rows: list[tuple[str, int, bool]], range_key: bool = False) -> Table:
    schema = [{"AttributeName": "connectionId", "KeyType": "HASH"}]
    attributes = [{"AttributeName": "connectionId", "AttributeType": key_type}]
    if range_key:
        schema.append({"AttributeName": "createdAt", "KeyType": "RANGE"})
        attributes.append({"AttributeName": "createdAt", "AttributeType": "N"})
    table = Table("Connections", "123456789012", "us-east-1", schema, attributes)
    moto_server.keep_keys_sorted(table)
    for key, padding, scoped in rows:
        table.put_item(item(key_type, key, padding, scoped))
    return table


def item(key_type: str, key: str, padding: int, scoped: bool) -> dict[str, Any]:
    attributes = {
        "connectionId": {key_type: key},
        "createdAt": {"N": str(len(key))},
        "padding": {"S": "x" * padding},
    }
    if scoped:
        attributes["account"] = {"S": "111122223333"}
    return attributes


def as_json(value: Any) -> Any:
    if isinstance(value, dict):
        return {name: as_json(member) for name, member in value.items()}
    return value.to_json()


def page(scan, table: Table, request: dict[str, Any]) -> tuple[list, int, Any]:
    filter_expression = (
        get_filter_expression("attribute_exists(account)", {}, {}) if request["filtered"] else None
    )
    items, scanned, last_key = scan(
        table,
        {},
        request["limit"],
        request["start"],
        filter_expression,
        None,
        False,
        PROJECTION if request["projected"] else None,
        request["segments"],
    )
    return [i.to_json() for i in items], scanned, None if last_key is None else as_json(last_key)


def assert_same_pages(table: Table, request: dict[str, Any], writes: list) -> None:
    """Page after page until the last one, both Scans from the same start key; `writes` change
    the table between pages."""
    for number in range(100):
        ours = page(moto_server._scan, table, request)
        assert ours == page(moto_server._moto_scan, table, request)
        if ours[2] is None:
            return
        request = {**request, "start": ours[2]}
        if number < len(writes):
            writes[number](table)
    raise AssertionError("more than 100 pages")


@st.composite
def tables(draw, key_type: str | None = None) -> tuple[str, list[tuple[str, int, bool]]]:
    key_type = key_type or draw(st.sampled_from(["S", "N"]))
    keys = draw(st.lists(ODD_TEXT if key_type == "S" else NUMBERS, max_size=25))
    distinct = list({Decimal(k) if key_type == "N" else k: k for k in keys}.values())
    rows = [(key, draw(PADDING), draw(st.booleans())) for key in distinct]
    return key_type, rows


@st.composite
def requests(draw, key_type: str, keys: list[str]) -> dict[str, Any]:
    total = draw(st.integers(1, 8))
    segments = draw(st.sampled_from([(None, None), (draw(st.integers(0, total - 1)), total)]))
    start_value = draw(
        st.one_of(
            st.none(),
            st.sampled_from(keys) if keys else st.none(),
            ODD_TEXT if key_type == "S" else NUMBERS,
        )
    )
    return {
        "limit": draw(st.one_of(st.none(), st.integers(1, 7))),
        "start": None if start_value is None else {"connectionId": {key_type: start_value}},
        "segments": segments,
        "filtered": draw(st.booleans()),
        "projected": draw(st.booleans()),
    }


@PROPERTY_SETTINGS
@given(st.data())
def test_every_page_is_the_page_moto_answers(data):
    key_type, rows = data.draw(tables())
    table = table_of(key_type, rows)

    assert_same_pages(table, data.draw(requests(key_type, [k for k, _, _ in rows])), [])


@PROPERTY_SETTINGS
@given(st.data())
def test_pages_after_a_write_are_the_pages_moto_answers(data):
    key_type, rows = data.draw(tables("S"))
    table = table_of(key_type, rows)
    added = data.draw(st.lists(ODD_TEXT, min_size=1, max_size=3))
    removed = data.draw(st.lists(st.sampled_from([k for k, _, _ in rows] or ["absent"])))

    def add(table: Table) -> None:
        for key in added:
            table.put_item(item("S", key, 0, True))

    def remove(table: Table) -> None:
        for key in removed:
            table.delete_item(moto_server.DynamoType({"S": key}), None)

    request = {**data.draw(requests("S", [])), "limit": 2}
    assert_same_pages(table, request, [add, remove])


def test_a_table_without_a_sort_key_is_scanned_without_moto_s_own_scan():
    table = table_of("S", [(f"c{n}", 0, False) for n in range(5)])

    page = moto_server._fast_scan_page(table, {}, 2, None, None, (None, None))

    assert page is not None
    assert [i.hash_key.value for i in page[0]] == ["c0", "c1"]


def test_a_table_with_a_sort_key_is_scanned_by_moto_s_own_scan():
    table = table_of("S", [(f"c{n}", 0, False) for n in range(5)], range_key=True)

    assert moto_server._fast_scan_page(table, {}, 2, None, None, (None, None)) is None
    assert_same_pages(
        table,
        {
            "limit": 2,
            "start": None,
            "segments": (None, None),
            "filtered": False,
            "projected": False,
        },
        [],
    )
