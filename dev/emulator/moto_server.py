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
- Index ARNs: DescribeTable (and the table in CreateTable's and UpdateTable's answers) gives
  no `IndexArn` for a table's secondary indexes, which IAM policies name
  (`<table-arn>/index/<name>`). Here every index has the `IndexArn` AWS gives it.

Everything else is moto unchanged. It takes moto's server options:

    python -m dev.emulator.moto_server -H 127.0.0.1 -p 0
"""

import base64
import hashlib
import json
import logging
import threading
import time
import uuid
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
from moto.dynamodb.models.dynamo_type import Item
from moto.dynamodb.models.table import Table
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
    LambdaBackend.send_dynamodb_items = _keep_stream_records
    LambdaResponse.create_function = _create_function_once
    LambdaResponse.create_event_source_mapping = _create_event_source_mapping_once


if __name__ == "__main__":
    install()
    threading.Thread(target=_sweep_forever, name="ttl-sweeper", daemon=True).start()
    moto_server_main()
