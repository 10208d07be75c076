"""moto's DynamoDB Scan and index Query, served for the cost of one page instead of the
whole table.

moto 5.2.5's `Table.scan` sorts every item of the table, hashes every item for its segment
and compares every item before the start key, on every page; its `Table.query` on an index
sorts and tests every item of the table; then its generic serializer turns the page into
JSON at about half a millisecond an item. A page of a 10,000-item table took seconds, beyond
the handlers' 2 s DynamoDB read timeout. Here:

- a table without a sort key keeps its keys sorted (sorted again only after a write, split
  by segment once per segment count), and a page starts where the previous one ended, by
  bisection;
- a Query of a global secondary index with a partition and a sort key, by its partition key
  alone (the connections table's `audience` index), reads that partition's items, grouped
  and sorted once per write (UpdateItem, which changes an item in place, counts as one), from
  its start key on;
- a projection of top-level attributes converts only the attributes it keeps, and the items
  are not copied first when the projection builds new ones anyway;
- a Scan answer without binary values is written with `json.dumps`.

Each page has the items, order, `Count`, `ScannedCount`, `LastEvaluatedKey` and 1 MB cut of
moto's own (tests/emulator/test_moto_scan.py compares them on random tables); moto's own
Scan and Query still serve everything else (sort keys on the table, key conditions on the
sort key, `ScanFilter`/`QueryFilter`, descending order, keys other than strings and numbers).
"""

import bisect
import copy
import hashlib
import inspect
import itertools
import json
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from moto.dynamodb.models import DynamoDBBackend
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
    # index name -> partition key -> (table keys, their (sort key, table key) values), sorted
    partitions: dict[str, dict[DynamoType, tuple[list[DynamoType], list[Any]]] | None] = field(
        default_factory=dict
    )


class KeyedItems(defaultdict):
    """`Table.items` that notes every write, so that the Scan's sorted keys are sorted again
    only after one."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.version = next(_changes)
        self.scan_order: _ScanOrder | None = None

    def changed(self) -> None:
        self.version = next(_changes)  # after the change: a Scan sorting meanwhile sees it

    def __setitem__(self, key: Any, value: Any) -> None:
        super().__setitem__(key, value)
        self.changed()

    def __delitem__(self, key: Any) -> None:
        super().__delitem__(key)
        self.changed()

    def pop(self, *args: Any) -> Any:
        try:
            return super().pop(*args)
        finally:
            self.changed()

    def popitem(self) -> Any:
        try:
            return super().popitem()
        finally:
            self.changed()

    def setdefault(self, *args: Any) -> Any:
        try:
            return super().setdefault(*args)
        finally:
            self.changed()

    def update(self, *args: Any, **kwargs: Any) -> None:
        super().update(*args, **kwargs)
        self.changed()

    def clear(self) -> None:
        super().clear()
        self.changed()

    def __ior__(self, other: Any) -> "KeyedItems":
        super().__ior__(other)
        self.changed()
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
    return _as_json(_moto_scan_answer(self))


def _as_json(answer: Any) -> Any:
    body = getattr(answer, "result", None)
    if not isinstance(body, dict) or _has_binary(body):
        return answer
    try:
        return json.dumps(body)
    except TypeError:  # a value JSON cannot hold: moto's serializer decides
        return answer


_moto_scan_answer = DynamoHandler.scan


def _query_answer(self: DynamoHandler) -> Any:
    """moto's Query answer, as JSON written directly when nothing in it is binary."""
    return _as_json(_moto_query_answer(self))


_moto_query_answer = DynamoHandler.query


def _has_binary(value: Any) -> bool:
    if isinstance(value, dict):
        return "B" in value or "BS" in value or any(_has_binary(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_binary(v) for v in value)
    return False


def _query(self: Table, *args: Any, **kwargs: Any) -> tuple[list[Item], int, dict[str, Any] | None]:
    """moto's `Table.query`, one page's worth of work per page for a Query of an index by its
    partition key alone (see the module docstring); moto's own otherwise."""
    call = _QUERY_SIGNATURE.bind(self, *args, **kwargs).arguments
    page = _fast_query_page(self, call)
    if page is None:
        return _moto_query(self, *args, **kwargs)
    items, last_evaluated_key = page
    index = self.get_index(call["index_name"])
    results = [_index_project(index, item) for item in items]
    filter_expression = call.get("filter_expression")
    if filter_expression is not None:
        results = [item for item in results if filter_expression.expr(item)]
    projection_expressions = call.get("projection_expressions")
    if projection_expressions:
        names = _top_level_names(projection_expressions)
        if names is None:
            results = [item.project(projection_expressions) for item in results]
        else:
            results = [_project(item, names) for item in results]
    return results, len(items), last_evaluated_key


_moto_query = Table.query
_QUERY_SIGNATURE = inspect.signature(Table.query)


def _index_project(index: Any, item: Item) -> Item:
    """`index.project(item)`, with `_project` for the attributes it keeps."""
    projection_type = (index.projection or {}).get("ProjectionType")
    if projection_type not in ("KEYS_ONLY", "INCLUDE"):
        return index.project(item)
    names = index.table_key_attrs + [key["AttributeName"] for key in index.schema]
    if projection_type == "INCLUDE":
        names += index.projection.get("NonKeyAttributes", [])
    return _project(item, list(dict.fromkeys(names)))


def _fast_query_page(
    table: Table, call: dict[str, Any]
) -> tuple[list[Item], dict[str, Any] | None] | None:
    """The table's items of the page (copied) before the index's projection, the filter
    expression and the projection expression, and its last evaluated key, as moto's Query
    finds them; None for a Query it does not serve."""
    items = table.items
    conditions = call.get("hash_key_conditions") or []
    if (
        not call.get("index_name")
        or table.range_key_attr
        or not isinstance(items, KeyedItems)
        or call.get("range_comparison")
        or call.get("range_key_conditions")
        or call.get("filter_kwargs")
        or call.get("consistent_read")
        or call.get("scan_index_forward", True) is not True
        or len(conditions) != 1
    ):
        return None
    index = next((i for i in table.global_indexes if i.name == call["index_name"]), None)
    if index is None:
        return None
    schema = {key["KeyType"]: key["AttributeName"] for key in index.schema}
    if len(index.schema) != 2 or set(schema) != {"HASH", "RANGE"}:
        return None
    partition_attr, value = conditions[0]
    if partition_attr != schema["HASH"]:
        return None
    order = _scan_order(items)
    if order is None:
        return None
    partitions = _partitions(items, order, index.name, schema["HASH"], schema["RANGE"])
    if partitions is None:
        return None
    keys, values = partitions.get(value, ([], []))
    start = 0
    start_key = call.get("exclusive_start_key")
    if start_key is not None and keys:
        start_at = _start_after(table, start_key, value, schema, values)
        if start_at is None:
            return None
        start = start_at
    results: list[Item] = []
    result_size = 0
    last_evaluated_key = None
    copied = not call.get("projection_expressions")  # moto copies; a projection builds anew
    for key in itertools.islice(keys, start, None):
        item = dict.get(items, key)
        if item is None:
            continue
        size = item.size()
        if len(results) == call.get("limit") or result_size + size > RESULT_SIZE_LIMIT:
            last_evaluated_key = table._get_last_evaluated_key(results[-1], index.name)
            break
        results.append(copy.deepcopy(item) if copied else item)
        result_size += size
    return results, last_evaluated_key


def _partitions(
    items: "KeyedItems", order: _ScanOrder, index_name: str, partition_attr: str, sort_attr: str
) -> dict[DynamoType, tuple[list[DynamoType], list[Any]]] | None:
    """The index's partitions: for each partition key, the table keys of its items in moto's
    Query order (by sort key, then table key), with those values for bisection; None when
    moto's own Query is to serve it (sort keys of several types, or not strings or numbers)."""
    if index_name in order.partitions:
        return order.partitions[index_name]
    with _sorting:
        if index_name in order.partitions:
            return order.partitions[index_name]
        groups: dict[DynamoType, list[tuple[Any, Any, DynamoType]]] = {}
        sort_types = set()
        for key in order.keys:
            item = dict.get(items, key)
            if item is None:
                continue
            partition = item.attrs.get(partition_attr)
            sort_value = item.attrs.get(sort_attr)
            if not partition or not sort_value:  # what moto's Query tests
                continue
            sort_types.add(sort_value.type)
            groups.setdefault(partition, []).append(
                (sort_value.cast_value, item.hash_key.cast_value, key)
            )
        partitions = None
        if len(sort_types) <= 1 and sort_types <= set(_SORTABLE_KEY_TYPES):
            partitions = {}
            for partition, entries in groups.items():
                entries.sort(key=_first_two)
                partitions[partition] = (
                    [key for _, _, key in entries],
                    [(sort, table_key) for sort, table_key, _ in entries],
                )
        order.partitions[index_name] = partitions
        return partitions


def _first_two(entry: tuple[Any, ...]) -> tuple[Any, Any]:
    return entry[0], entry[1]


def _start_after(
    table: Table,
    start_key: dict[str, Any],
    partition: DynamoType,
    schema: dict[str, str],
    values: list[Any],
) -> int | None:
    """Where a page after `start_key` starts in a partition (`values`: its items' sort keys
    and table keys); None when moto's own Query is to decide (a start key of other types or
    without every key attribute)."""
    attributes = (schema["HASH"], schema["RANGE"], table.hash_key_attr)
    start = [start_key.get(name) for name in attributes]
    if any(not isinstance(value, dict) or len(value) != 1 for value in start):
        return None
    start_partition, start_sort, start_table_key = (DynamoType(value) for value in start)
    first_sort, first_table_key = values[0]
    if (
        start_partition.type != partition.type
        or start_sort.type not in _SORTABLE_KEY_TYPES
        or start_table_key.type not in _SORTABLE_KEY_TYPES
        or type(start_sort.cast_value) is not type(first_sort)
        or type(start_table_key.cast_value) is not type(first_table_key)
    ):
        return None
    if start_partition != partition:
        return 0 if partition.cast_value > start_partition.cast_value else len(values)
    return bisect.bisect_right(values, (start_sort.cast_value, start_table_key.cast_value))


def _update_item_noting_it(
    self: DynamoDBBackend, table_name: str, *args: Any, **kwargs: Any
) -> Item:
    """moto's UpdateItem changes the stored item in place: note it, as a put is noted, since
    an index's partitions depend on what it may change."""
    try:
        return _moto_update_item(self, table_name, *args, **kwargs)
    finally:
        items = self.get_table(table_name).items
        if isinstance(items, KeyedItems):
            items.changed()


_moto_update_item = DynamoDBBackend.update_item


def install() -> None:
    """Patches moto's Scan and index Query (every table created afterwards is served here)."""
    Table.__init__ = _init_keeping_keys_sorted
    Table.scan = _scan
    Table.query = _query
    DynamoDBBackend.update_item = _update_item_noting_it
    DynamoHandler.scan = _scan_answer
    DynamoHandler.query = _query_answer
