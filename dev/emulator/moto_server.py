"""moto's server, with the gaps of moto 5.2.5 closed that a WebSocket deployment hits.

- API Gateway v2 deployments: every WebSocket API needs an `aws_apigatewayv2_deployment`
  before a stage can serve it, and moto answers CreateDeployment with a 404 page. This adds
  CreateDeployment, GetDeployment, GetDeployments and DeleteDeployment (always `DEPLOYED`,
  as AWS reports them once created) and lets GetStage return the stage's `deploymentId`.
- DynamoDB streams with an event source mapping: on every write moto invokes the mapped
  function itself (it cannot: no Docker here) and, once that returns anything, drops the
  records from the shard, so nobody can read them. Here moto leaves them in the stream, as
  AWS does, for the emulator's stream pollers (or tests) to read with GetRecords.
- A repeated CreateFunction: a client that sent CreateFunction but lost the 201 (the dev
  server can drop a kept-alive connection under load) retries, and moto answers 409
  ResourceConflictException, which the Terraform provider retries until its 10-minute
  timeout. Here a repeat with the same code and role gets the 201 the first call earned;
  any other CreateFunction of an existing name still gets the 409.
- A repeated CreateEventSourceMapping: moto creates a second mapping of the same stream and
  function every time, so a retried create (same cause as above) leaves two mappings behind
  and every stream record is delivered twice. As on AWS, a mapping of a source to a function
  that already has one is a 409 ResourceConflictException; a repeat of the request that
  created it gets that mapping's 201 instead.
- Time to Live: moto stores a table's TTL setting but never deletes an expired item. Here a
  sweeper does what DynamoDB's TTL process does, every `TTL_SWEEP_SECONDS` instead of within
  days: it deletes each item whose TTL attribute is a number of epoch seconds in the past (at
  most five years), and the table's stream gets the REMOVE record with the TTL service's
  `userIdentity`.
- Scan pages: moto's Scan sorts the whole table, hashes every item for its segment and compares
  every item before the start key, on every page, so a page of a 10,000-item table takes
  seconds. Here a table without a sort key keeps its keys sorted (sorted again only after a
  write, and split by segment once per segment count) and a page starts where the previous
  one ended: same items, order, `Count`, `ScannedCount`, `LastEvaluatedKey` and 1 MB cut as
  moto's own Scan, which still serves everything else (indexes, sort keys, `ScanFilter`).
- Index ARNs: DescribeTable (and the table in CreateTable's and UpdateTable's answers) gives
  no `IndexArn` for a table's secondary indexes, which IAM policies name
  (`<table-arn>/index/<name>`). Here every index has the `IndexArn` AWS gives it.

Everything else is moto unchanged. It takes moto's server options:

    python -m dev.emulator.moto_server -H 127.0.0.1 -p 0
"""

import base64
import bisect
import copy
import hashlib
import itertools
import json
import logging
import threading
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from moto.apigatewayv2 import urls
from moto.apigatewayv2.exceptions import APIGatewayV2Error
from moto.apigatewayv2.models import Api, Stage
from moto.apigatewayv2.responses import ApiGatewayV2Response
from moto.awslambda.exceptions import UnknownFunctionException
from moto.awslambda.models import LambdaBackend
from moto.awslambda.responses import LambdaResponse
from moto.core.responses import TYPE_RESPONSE
from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import RESULT_SIZE_LIMIT, Table
from moto.server import main as moto_server_main

log = logging.getLogger("moto_server")

DEPLOYMENT_PATHS = {
    "{0}/v2/apis/(?P<api_id>[^/]+)/deployments$": ApiGatewayV2Response.dispatch,
    "{0}/v2/apis/(?P<api_id>[^/]+)/deployments/(?P<deployment_id>[^/]+)$": (
        ApiGatewayV2Response.dispatch
    ),
}


class DeploymentNotFound(APIGatewayV2Error):
    code = 404

    def __init__(self, deployment_id: str):
        super().__init__(
            "NotFoundException", f"Invalid Deployment identifier specified {deployment_id}"
        )


def _deployments(api: Api) -> dict[str, dict[str, Any]]:
    return vars(api).setdefault("deployments", {})


def _api(response: ApiGatewayV2Response) -> Api:
    api_id = response.path.split("/")[3]
    return response.apigatewayv2_backend.get_api(api_id)


def _deployment(response: ApiGatewayV2Response) -> dict[str, Any]:
    deployment_id = response.path.split("/")[-1]
    try:
        return _deployments(_api(response))[deployment_id]
    except KeyError:
        raise DeploymentNotFound(deployment_id) from None


def create_deployment(self: ApiGatewayV2Response) -> TYPE_RESPONSE:
    params = json.loads(self.body or "{}")
    deployment = {
        "deploymentId": uuid.uuid4().hex[:6],
        "deploymentStatus": "DEPLOYED",
        "autoDeployed": False,
        "createdDate": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    if params.get("description"):
        deployment["description"] = params["description"]
    _deployments(_api(self))[deployment["deploymentId"]] = deployment
    return 201, {}, json.dumps(deployment)


def get_deployment(self: ApiGatewayV2Response) -> TYPE_RESPONSE:
    return 200, {}, json.dumps(_deployment(self))


def get_deployments(self: ApiGatewayV2Response) -> TYPE_RESPONSE:
    return 200, {}, json.dumps({"items": list(_deployments(_api(self)).values())})


def delete_deployment(self: ApiGatewayV2Response) -> TYPE_RESPONSE:
    deployment = _deployment(self)
    del _deployments(_api(self))[deployment["deploymentId"]]
    return 204, {}, ""


def _stage_to_json_with_deployment(stage: Stage) -> dict[str, Any]:
    stage_json = _moto_stage_to_json(stage)
    if stage.config.get("deploymentId"):
        stage_json["deploymentId"] = stage.config["deploymentId"]
    return stage_json


_moto_stage_to_json = Stage.to_json


def _describe_with_index_arns(self: Table, *args: Any, **kwargs: Any) -> dict[str, Any]:
    description = _moto_describe_table(self, *args, **kwargs)
    for table in description.values():
        for kind in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
            for index in table.get(kind, []):
                index["IndexArn"] = f"{self.table_arn}/index/{index['IndexName']}"
    return description


_moto_describe_table = Table.describe


def _keep_stream_records(*_: Any) -> str:
    """An empty result: moto keeps the records in the shard (see the module docstring)."""
    return ""


def _create_function_once(self: LambdaResponse) -> TYPE_RESPONSE:
    spec = self.json_body
    try:
        existing = self.backend.get_function(spec["FunctionName"].rsplit(":", 1)[-1], None)
    except UnknownFunctionException:
        return _moto_create_function(self)
    if _code_sha256(spec) == existing.code_sha_256 and spec.get("Role") == existing.role:
        return 201, {"status": 201}, json.dumps(existing.get_configuration(on_create=True))
    return _moto_create_function(self)


def _code_sha256(spec: dict[str, Any]) -> str | None:
    zip_file = spec.get("Code", {}).get("ZipFile")
    if not zip_file:
        return None
    return base64.b64encode(hashlib.sha256(base64.b64decode(zip_file)).digest()).decode()


_moto_create_function = LambdaResponse.create_function


def _create_event_source_mapping_once(self: LambdaResponse) -> TYPE_RESPONSE:
    spec = self.json_body
    source = spec.get("EventSourceArn")
    try:
        function_arn = self.backend.get_function(spec.get("FunctionName", ""), None).function_arn
    except UnknownFunctionException:
        return _moto_create_event_source_mapping(self)
    for mapping in self.backend.list_event_source_mappings(source, None):
        if mapping.function_arn != function_arn:
            continue
        if _same_request(spec, mapping.get_configuration()):
            return 201, {"status": 201}, json.dumps(mapping.get_configuration())
        return (
            409,
            {"x-amzn-errortype": "ResourceConflictException", "status": 409},
            json.dumps({"Type": "User", "Message": f"a mapping of {source} already exists"}),
        )
    return _moto_create_event_source_mapping(self)


def _same_request(spec: dict[str, Any], configuration: dict[str, Any]) -> bool:
    """Every setting the request names has the value the existing mapping reports (moto does
    not report every setting it stores)."""
    settings = {k: v for k, v in spec.items() if k not in ("FunctionName", "EventSourceArn")}
    return all(configuration.get(key, value) == value for key, value in settings.items())


_moto_create_event_source_mapping = LambdaResponse.create_event_source_mapping


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
    page = _fast_scan_page(self, filters, limit, exclusive_start_key, index_name, segments)
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
        results = [item.project(projection_expression) for item in results]
    return results, scanned_count, last_evaluated_key


_moto_scan = Table.scan


def _fast_scan_page(
    table: Table,
    filters: dict[str, Any],
    limit: int | None,
    exclusive_start_key: dict[str, Any] | None,
    index_name: str | None,
    segments: tuple[None, None] | tuple[int, int],
) -> tuple[list[Item], int, dict[str, Any] | None] | None:
    """The items of the page before its filter expression and projection, its scanned count
    and last evaluated key, as moto's Scan finds them; None for a Scan it does not serve."""
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
        results.append(copy.deepcopy(item))
        result_size += size
    return results, len(results), last_evaluated_key


TTL_SWEEP_SECONDS = 1.0
TTL_SERVICE_IDENTITY = {"PrincipalId": "dynamodb.amazonaws.com", "Type": "Service"}
"""A stream record's `userIdentity` when TTL deleted the item (GetRecords' member names)."""
_TTL_OLDEST_SECONDS = 5 * 365 * 24 * 3600


def is_expired(item: Item, attribute: str, now: float) -> bool:
    """Whether DynamoDB's TTL process deletes `item`: its `attribute` is a top-level number of
    epoch seconds before `now`, and not more than five years before (such items are kept)."""
    value = item.attrs.get(attribute)
    if value is None or value.type != "N":
        return False
    try:
        expiry = float(value.value)
    except ValueError:
        return False
    return now - _TTL_OLDEST_SECONDS <= expiry < now


def sweep_expired_items(now: float | None = None) -> int:
    """Delete the expired items of every table with TTL enabled; returns how many."""
    now = time.time() if now is None else now
    deleted = 0
    for _account, _region, backend in list(dynamodb_backends.iter_backends()):
        for table in list(backend.tables.values()):
            if table.ttl.get("TimeToLiveStatus") != "ENABLED":
                continue
            attribute = table.ttl.get("AttributeName", "")
            for item in table.all_items():
                if is_expired(item, attribute, now) and _expire(table, item):
                    deleted += 1
    return deleted


def _expire(table: Table, item: Item) -> bool:
    """Delete `item` as TTL does, unless a request replaced it meanwhile."""
    if table.get_item(item.hash_key, item.range_key) is not item:
        return False
    if table.delete_item(item.hash_key, item.range_key) is None:
        return False
    shard = table.stream_shard
    if shard is not None:
        keys = {table.hash_key_attr: item.hash_key.to_json()}
        if table.range_key_attr is not None and item.range_key is not None:
            keys[table.range_key_attr] = item.range_key.to_json()
        for record in reversed(shard.items):
            if record.record["eventName"] == "REMOVE" and record.record["dynamodb"]["Keys"] == keys:
                record.record["userIdentity"] = dict(TTL_SERVICE_IDENTITY)
                break
    return True


def _sweep_forever() -> None:
    while True:
        time.sleep(TTL_SWEEP_SECONDS)
        try:
            sweep_expired_items()
        except RuntimeError:
            pass  # a request changed a table while it was read: the next sweep takes it
        except Exception:
            log.exception("TTL sweep failed; sweeping again in %s s", TTL_SWEEP_SECONDS)


def install() -> None:
    """Patches moto before the server starts (see the module docstring)."""
    urls.url_paths.update(DEPLOYMENT_PATHS)
    ApiGatewayV2Response.create_deployment = create_deployment
    ApiGatewayV2Response.get_deployment = get_deployment
    ApiGatewayV2Response.get_deployments = get_deployments
    ApiGatewayV2Response.delete_deployment = delete_deployment
    Stage.to_json = _stage_to_json_with_deployment
    Table.describe = _describe_with_index_arns
    Table.__init__ = _init_keeping_keys_sorted
    Table.scan = _scan
    LambdaBackend.send_dynamodb_items = _keep_stream_records
    LambdaResponse.create_function = _create_function_once
    LambdaResponse.create_event_source_mapping = _create_event_source_mapping_once


if __name__ == "__main__":
    install()
    threading.Thread(target=_sweep_forever, name="ttl-sweeper", daemon=True).start()
    moto_server_main()
