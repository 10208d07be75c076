"""moto's DynamoDB Scan, served for the cost of one page instead of the whole table.

moto 5.2.5's `Table.scan` sorts every item of the table, hashes every item for its segment
and compares every item before the start key, on every page; then its generic serializer
turns the page into JSON at about half a millisecond an item. A page of a 10,000-item table
took seconds, beyond the handlers' 2 s DynamoDB read timeout. Here:

- a table without a sort key keeps its keys sorted (sorted again only after a write, split
  by segment once per segment count), and a page starts where the previous one ended, by
  bisection;
- a projection of top-level attributes converts only the attributes it keeps, and the items
  are not copied first when the projection builds new ones anyway;
- a Scan answer without binary values is written with `json.dumps`.

Each page has the items, order, `Count`, `ScannedCount`, `LastEvaluatedKey` and 1 MB cut of
moto's own Scan (tests/emulator/test_moto_scan.py compares them on random tables); moto's
own Scan still serves everything else (indexes, sort keys, `ScanFilter`, keys other than
strings and numbers).
"""

import bisect
import copy
import hashlib
import itertools
import json
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import RESULT_SIZE_LIMIT, Table
from moto.dynamodb.responses import DynamoHandler

_SORTABLE_KEY_TYPES = ("S", "N")
_changes = itertools.count(1)
_sorting = threading.Lock()


@dataclass
class _ScanOrder:
    """A table's keys in moto's Scan order, as they were at `version`."""

    version: int
    key_type: str | None  # "S" or "N"; None: no keys
    keys: list[DynamoType]  # the keys of `Table.items`
    values: list[Any]  # their values (str or Decimal), to find a start key by bisection
    raw_values: list[str]  # their values as sent, which moto's segment test hashes
    segments: dict[tuple[int, int], tuple[list[DynamoType], list[Any]]] = field(
        default_factory=dict
    )


class KeyedItems(defaultdict):
    """`Table.items` that notes every write, so that the Scan's sorted keys are sorted again
    only after one."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.version = next(_changes)
        self.scan_order: _ScanOrder | None = None

    def _changed(self) -> None:
        self.version = next(_changes)  # after the change: a Scan sorting meanwhile sees it

    def __setitem__(self, key: Any, value: Any) -> None:
        super().__setitem__(key, value)
        self._changed()

    def __delitem__(self, key: Any) -> None:
        super().__delitem__(key)
        self._changed()

    def pop(self, *args: Any) -> Any:
        try:
            return super().pop(*args)
        finally:
            self._changed()

    def popitem(self) -> Any:
        try:
            return super().popitem()
        finally:
            self._changed()

    def setdefault(self, *args: Any) -> Any:
        try:
            return super().setdefault(*args)
        finally:
            self._changed()

    def update(self, *args: Any, **kwargs: Any) -> None:
        super().update(*args, **kwargs)
        self._changed()

    def clear(self) -> None:
        super().clear()
        self._changed()

    def __ior__(self, other: Any) -> "KeyedItems":
        super().__ior__(other)
        self._changed()
        return self


def keep_keys_sorted(table: Table) -> None:
    """Let the fast Scan serve `table` (every table created once `install()` ran)."""
    table.items = KeyedItems(dict, table.items)


def _init_keeping_keys_sorted(self: Table, *args: Any, **kwargs: Any) -> None:
    _moto_table_init(self, *args, **kwargs)
    keep_keys_sorted(self)


_moto_table_init = Table.__init__


def _scan_order(items: KeyedItems) -> _ScanOrder | None:
    """The keys of `items` in moto's Scan order; None when moto's own Scan is to serve them
    (keys of another type, or of several types)."""
    order = items.scan_order
    if order is not None and order.version == items.version:
        return order
    with _sorting:  # parallel segments arrive together: one of them sorts
        order = items.scan_order
        if order is not None and order.version == items.version:
            return order
        version = items.version
        hash_keys = [(key, item.hash_key) for key, item in list(dict.items(items))]
        types = {hash_key.type for _, hash_key in hash_keys}
        if len(types) > 1 or not types <= set(_SORTABLE_KEY_TYPES):
            return None
        ordered = sorted(((h.cast_value, h.value, key) for key, h in hash_keys), key=_first)
        order = _ScanOrder(
            version,
            types.pop() if types else None,
            [key for _, _, key in ordered],
            [value for value, _, _ in ordered],
            [raw for _, raw, _ in ordered],
        )
        items.scan_order = order
        return order


def _first(entry: tuple[Any, ...]) -> Any:
    return entry[0]


def _segment(order: _ScanOrder, segment: int, total: int) -> tuple[list[DynamoType], list[Any]]:
    """The keys (and their values) of one segment, in Scan order; the segment of a key is
    what moto's `Item.is_within_segment` computes."""
    part = order.segments.get((segment, total))
    if part is not None:
        return part
    with _sorting:
        positions = [
            n
            for n, raw in enumerate(order.raw_values)
            if hashlib.md5(raw.encode("utf8")).digest()[0] % total == segment
        ]
        part = [order.keys[n] for n in positions], [order.values[n] for n in positions]
        order.segments[(segment, total)] = part
        return part


def _scan(
    self: Table,
    filters: dict[str, Any],
    limit: int,
    exclusive_start_key: dict[str, Any],
    filter_expression: Any = None,
    index_name: str | None = None,
    consistent_read: bool = False,
    projection_expression: list[list[str]] | None = None,
    segments: tuple[None, None] | tuple[int, int] = (None, None),
) -> tuple[list[Item], int, dict[str, Any] | None]:
    """moto's `Table.scan`, one page's worth of work per page where it can be (see the module
    docstring); moto's own otherwise."""
    # moto copies every item it returns; a projection builds new items anyway.
    copied = not projection_expression
    page = _fast_scan_page(self, filters, limit, exclusive_start_key, index_name, segments, copied)
    if page is None:
        return _moto_scan(
            self,
            filters,
            limit,
            exclusive_start_key,
            filter_expression,
            index_name,
            consistent_read,
            projection_expression,
            segments,
        )
    results, scanned_count, last_evaluated_key = page
    if filter_expression is not None:
        results = [item for item in results if filter_expression.expr(item)]
    if projection_expression:
        names = _top_level_names(projection_expression)
        if names is None:
            results = [item.project(projection_expression) for item in results]
        else:
            results = [_project(item, names) for item in results]
    return results, scanned_count, last_evaluated_key


_moto_scan = Table.scan


def _top_level_names(projection_expression: list[list[str]]) -> list[str] | None:
    """The attribute names of a projection of top-level attributes only; None otherwise."""
    if any(len(path) != 1 or "[" in path[0] for path in projection_expression):
        return None
    return list(dict.fromkeys(path[0] for path in projection_expression))


def _project(item: Item, names: list[str]) -> Item:
    """`item.project(...)` for top-level names, converting only the attributes it keeps: moto
    turns each value into Python and back (a string stays itself; a number can change form)."""
    attributes = {}
    for name in names:
        value = item.attrs.get(name)
        if value is None:
            continue
        if value.type == "S":
            attributes[name] = {"S": value.value}
        else:
            attributes[name] = _serializer.serialize(
                _deserializer.deserialize(value.to_regular_json())
            )
    return Item(hash_key=item.hash_key, range_key=item.range_key, attrs=attributes)


_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def _fast_scan_page(
    table: Table,
    filters: dict[str, Any],
    limit: int | None,
    exclusive_start_key: dict[str, Any] | None,
    index_name: str | None,
    segments: tuple[None, None] | tuple[int, int],
    copied: bool = True,
) -> tuple[list[Item], int, dict[str, Any] | None] | None:
    """The items of the page before its filter expression and projection (copies of the
    table's, or the table's own when not `copied`), its scanned count and last evaluated key,
    as moto's Scan finds them; None for a Scan it does not serve."""
    items = table.items
    if filters or index_name or table.range_key_attr or not isinstance(items, KeyedItems):
        return None
    order = _scan_order(items)
    if order is None:
        return None
    keys, values = order.keys, order.values
    if segments != (None, None):
        keys, values = _segment(order, *segments)
    start = 0
    if exclusive_start_key is not None and keys:
        start_key = exclusive_start_key.get(table.hash_key_attr)
        if not isinstance(start_key, dict) or list(start_key) != [order.key_type]:
            return None
        start = bisect.bisect_right(values, DynamoType(start_key).cast_value)
    results: list[Item] = []
    result_size = 0
    last_evaluated_key = None
    for key in itertools.islice(keys, start, None):
        item = dict.get(items, key)
        if item is None:  # deleted while this page was read
            continue
        size = item.size()
        if len(results) == limit or result_size + size > RESULT_SIZE_LIMIT:
            last_evaluated_key = table._get_last_evaluated_key(results[-1], None)
            break
        results.append(copy.deepcopy(item) if copied else item)
        result_size += size
    return results, len(results), last_evaluated_key


def _scan_answer(self: DynamoHandler) -> Any:
    """moto's Scan answer, as JSON written directly when nothing in it is binary."""
    answer = _moto_scan_answer(self)
    body = answer.result
    if not isinstance(body, dict) or _has_binary(body.get("Items", [])):
        return answer
    try:
        return json.dumps(body)
    except TypeError:  # a value JSON cannot hold: moto's serializer decides
        return answer


_moto_scan_answer = DynamoHandler.scan


def _has_binary(value: Any) -> bool:
    if isinstance(value, dict):
        return "B" in value or "BS" in value or any(_has_binary(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_binary(v) for v in value)
    return False


def install() -> None:
    """Patches moto's Scan (every table created afterwards is served here)."""
    Table.__init__ = _init_keeping_keys_sorted
    Table.scan = _scan
    DynamoHandler.scan = _scan_answer
