"""examples/complete as deployed: read back through boto3 and checked against the contract."""

from __future__ import annotations

import base64
import hashlib
import json
import time
from datetime import datetime

import pytest

from dev.bench.sizing.model import memory_sizes
from tests.integration.deployment import (
    ACCESS_LOG_RETENTION_DAYS,
    COMPLETE_AUTHORIZATION,
    COMPLETE_CHANNEL_TABLES,
    COMPLETE_CHANNELS,
    COMPLETE_ROUTES,
    HISTORY_AUTHORIZER_ENVIRONMENT,
    HISTORY_THROTTLING,
    JWT_CHANNELS,
    LOG_RETENTION_DAYS,
    MESSAGE_RETENTION_SECONDS,
    MESSAGES_KEY_SCHEMA,
    METRICS_NAMESPACE,
    PRESENCE_CHANNELS,
    REPLAY_MAX_MESSAGES,
    RESERVED_CONCURRENCY,
    ROUTED_CHANNELS,
    Deployment,
)
from tests.support.lambda_zip import DIST_DIR

# The first test to run also waits for the apply (about a minute, more on a busy machine).
pytestmark = [pytest.mark.terraform, pytest.mark.timeout(600)]

STREAM_EVENT_FILTER = {"eventName": ["INSERT", "MODIFY"]}
# Connects and disconnects (and TTL expiries) reach the presence function; the gone marker does not.
PRESENCE_EVENT_FILTER = {"eventName": ["INSERT", "REMOVE"]}
# The presence mappings give up after 3 retries or 10 minutes: a later announcement is stale.
PRESENCE_RETRIES = {"MaximumRetryAttempts": 3, "MaximumRecordAgeInSeconds": 600}
# examples/complete keeps the channel defaults: 3 h TTL, source IP stored.
CONNECTION_DEFAULTS = {"CONNECTION_TTL_SECONDS": "10800", "STORE_SOURCE_IP": "true"}
CONNECT_ROUTE_AUTHORIZATION = {"jwt": "CUSTOM", "iam": "AWS_IAM", "none": "NONE"}
# The stage's access log line, as the module's contract gives it.
ACCESS_LOG_FIELDS = {
    "requestId": "$context.requestId",
    "time": "$context.requestTime",
    "epochMs": "$context.requestTimeEpoch",
    "eventType": "$context.eventType",
    "routeKey": "$context.routeKey",
    "connectionId": "$context.connectionId",
    "sourceIp": "$context.identity.sourceIp",
    "userAgent": "$context.identity.userAgent",
    "principal": "$context.authorizer.principalId",
    "accounts": "$context.authorizer.accounts",
    "userArn": "$context.identity.userArn",
    "status": "$context.status",
    "error": "$context.error.message",
    "authorizerError": "$context.authorizer.error",
}


def _zip_sha256(name: str) -> str:
    return base64.b64encode(
        hashlib.sha256((DIST_DIR / f"{name}.zip").read_bytes()).digest()
    ).decode()


def _channels_env(deployment: Deployment, function_name: str) -> dict[str, dict[str, str]]:
    channels = json.loads(deployment.environment(function_name)["CHANNELS"])
    return {key: {"table": c["table"], "endpoint": c["endpoint"]} for key, c in channels.items()}


def _expected_channels_env(deployment: Deployment, keys: tuple[str, ...]) -> dict:
    return {
        key: {
            "table": deployment.channels[key]["connections_table_name"],
            "endpoint": deployment.management_endpoint(key),
        }
        for key in keys
    }


def _routes(deployment: Deployment, channel: str) -> dict[str, dict]:
    apigateway = deployment.client("apigatewayv2")
    api_id = deployment.channels[channel]["api_id"]
    integrations = {
        i["IntegrationId"]: i for i in apigateway.get_integrations(ApiId=api_id)["Items"]
    }
    return {
        route["RouteKey"]: integrations[route["Target"].removeprefix("integrations/")]
        for route in apigateway.get_routes(ApiId=api_id)["Items"]
    }


# -- tables ----------------------------------------------------------------------------


def test_example_deploys_the_original_channels_with_their_table_names(deployment):
    tables = {key: c["connections_table_name"] for key, c in deployment.channels.items()}
    assert tables == COMPLETE_CHANNEL_TABLES


@pytest.mark.parametrize("table", ["connections_table_name", "messages_table_name"])
@pytest.mark.parametrize("channel", COMPLETE_CHANNELS)
def test_connections_table_and_message_log_expire_items_through_the_ttl_attribute(
    deployment, channel, table
):
    ttl = deployment.client("dynamodb").describe_time_to_live(
        TableName=deployment.channels[channel][table]
    )["TimeToLiveDescription"]
    assert (ttl["TimeToLiveStatus"], ttl["AttributeName"]) == ("ENABLED", "ttl")


@pytest.mark.parametrize("channel", COMPLETE_CHANNELS)
def test_connections_table_is_encrypted(deployment, channel):
    table = deployment.client("dynamodb").describe_table(
        TableName=deployment.channels[channel]["connections_table_name"]
    )["Table"]
    assert table["SSEDescription"]["Status"] == "ENABLED"


@pytest.mark.parametrize("channel", COMPLETE_CHANNELS)
def test_connections_table_is_indexed_by_audience_with_what_delivery_reads(deployment, channel):
    table = deployment.client("dynamodb").describe_table(
        TableName=deployment.channels[channel]["connections_table_name"]
    )["Table"]
    [index] = table["GlobalSecondaryIndexes"]
    projection = index["Projection"]
    assert index["IndexName"] == "audience"
    assert index["KeySchema"] == [
        {"AttributeName": "audience", "KeyType": "HASH"},
        {"AttributeName": "connectionId", "KeyType": "RANGE"},
    ]
    assert projection["ProjectionType"] == "INCLUDE"
    assert sorted(projection["NonKeyAttributes"]) == ["account", "accounts", "region", "ttl"]
    assert index["IndexStatus"] == "ACTIVE"
    assert index["IndexArn"] == f"{table['TableArn']}/index/audience"


def test_stream_processor_queries_the_routed_channels_indexes_two_hours_after_the_apply(
    deployment,
):
    environment = deployment.environment(deployment.functions["stream_processor"])
    indexes = json.loads(environment["AUDIENCE_INDEXES"])
    assert sorted(indexes) == sorted(ROUTED_CHANNELS)
    assert {index["index"] for index in indexes.values()} == {"audience"}
    # 2 h of API Gateway's longest connection, the 10 s `$connect` timeout and 5 minutes for
    # clocks after the apply, which the first test waited for (well within 30 minutes).
    for index in indexes.values():
        ahead = datetime.fromisoformat(index["query_from"].replace("Z", "+00:00")).timestamp()
        assert 7510 - 1800 <= ahead - time.time() <= 7510


def test_incident_table_streams_new_and_old_images(deployment):
    table = deployment.client("dynamodb").describe_table(
        TableName=deployment.outputs["incident_table_name"]
    )["Table"]
    assert table["StreamSpecification"] == {
        "StreamEnabled": True,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    assert table["LatestStreamArn"] == deployment.outputs["incident_stream_arn"]


# -- functions -------------------------------------------------------------------------


def test_every_function_runs_its_committed_handler_zip(deployment):
    deployed = {
        name: (deployment.function(name)["Handler"], deployment.function(name)["CodeSha256"])
        for _, name in deployment.all_functions()
    }
    expected = {
        name: ("handler.handler", _zip_sha256(kind)) for kind, name in deployment.all_functions()
    }
    assert deployed == expected


def test_every_function_has_the_memory_the_sizing_model_chose_for_it(deployment):
    deployed = {
        name: deployment.function(name)["MemorySize"] for _, name in deployment.all_functions()
    }
    expected = {name: memory_sizes()[kind] for kind, name in deployment.all_functions()}
    assert deployed == expected


@pytest.mark.parametrize("kind", ["connect", "disconnect"])
@pytest.mark.parametrize("channel", COMPLETE_CHANNELS)
def test_channel_function_uses_its_channel_table(deployment, channel, kind):
    environment = deployment.environment(deployment.functions[kind][channel])
    assert (
        environment["CONNECTIONS_TABLE"] == deployment.channels[channel]["connections_table_name"]
    )
    assert environment["CHANNEL_NAME"] == channel


@pytest.mark.parametrize("channel", COMPLETE_CHANNELS)
def test_connect_function_gets_the_channels_connection_options(deployment, channel):
    environment = deployment.environment(deployment.functions["connect"][channel])
    options = {key: environment[key] for key in ("CONNECTION_TTL_SECONDS", "STORE_SOURCE_IP")}
    assert options == CONNECTION_DEFAULTS


def test_stream_processor_broadcasts_to_the_routed_channels_tables_and_stages(deployment):
    function_name = deployment.functions["stream_processor"]
    assert _channels_env(deployment, function_name) == _expected_channels_env(
        deployment, ROUTED_CHANNELS
    )


def test_fanout_worker_posts_to_the_stream_processors_channels(deployment):
    function_name = deployment.functions["fanout_worker"]
    assert function_name == "incident-ws-fanout-worker"
    assert _channels_env(deployment, function_name) == _expected_channels_env(
        deployment, ROUTED_CHANNELS
    )


def test_stream_processor_may_invoke_its_fanout_worker_and_is_told_its_name(deployment):
    environment = deployment.environment(deployment.functions["stream_processor"])
    sharding = {key: environment[key] for key in environment if key.startswith("FAN_OUT_")}
    assert sharding == {
        "FAN_OUT_WORKER_FUNCTION": deployment.functions["fanout_worker"],
        "FAN_OUT_CONNECTIONS_PER_WORKER": "113000",
        "FAN_OUT_MAX_WORKERS": "2",
    }


def test_fanout_worker_stops_ten_seconds_before_the_stream_processor(deployment):
    worker = deployment.function(deployment.functions["fanout_worker"])
    processor = deployment.function(deployment.functions["stream_processor"])
    assert worker["Timeout"] + 10 <= processor["Timeout"]


def test_every_channels_messages_carry_the_whole_item_unless_the_channel_chooses(deployment):
    for function in ("stream_processor", "heartbeat"):
        channels = json.loads(deployment.environment(deployment.functions[function])["CHANNELS"])
        assert {key: c["data_attributes"] for key, c in channels.items()} == dict.fromkeys(channels)


def test_stream_processor_routes_are_the_examples_stream_routes(deployment):
    routes = deployment.environment(deployment.functions["stream_processor"])["ROUTES"]
    assert json.loads(routes) == COMPLETE_ROUTES


def test_heartbeat_pings_every_channels_table_and_stage(deployment):
    function_name = deployment.functions["heartbeat"]
    assert _channels_env(deployment, function_name) == _expected_channels_env(
        deployment, COMPLETE_CHANNELS
    )


def test_channel_outputs_give_the_deployed_management_endpoints(deployment):
    outputs = {key: c["management_endpoint"] for key, c in deployment.channels.items()}
    assert outputs == {key: deployment.management_endpoint(key) for key in COMPLETE_CHANNELS}


def test_every_function_logs_to_its_own_group_with_retention(deployment):
    logs = deployment.client("logs")
    retention = {
        name: [
            group.get("retentionInDays")
            for group in logs.describe_log_groups(logGroupNamePrefix=f"/aws/lambda/{name}")[
                "logGroups"
            ]
            if group["logGroupName"] == f"/aws/lambda/{name}"
        ]
        for _, name in deployment.all_functions()
    }
    assert retention == {name: [LOG_RETENTION_DAYS] for name in retention}


# -- WebSocket APIs --------------------------------------------------------------------


@pytest.mark.parametrize("channel", COMPLETE_CHANNELS)
def test_api_is_a_websocket_api_selecting_routes_by_body_action(deployment, channel):
    api = deployment.client("apigatewayv2").get_api(ApiId=deployment.channels[channel]["api_id"])
    assert (api["ProtocolType"], api["RouteSelectionExpression"]) == (
        "WEBSOCKET",
        "$request.body.action",
    )


@pytest.mark.parametrize(
    ("route_key", "kind"), [("$connect", "connect"), ("$disconnect", "disconnect")]
)
@pytest.mark.parametrize("channel", COMPLETE_CHANNELS)
def test_route_proxies_to_the_channels_function(deployment, channel, route_key, kind):
    integration = _routes(deployment, channel)[route_key]
    function_arn = deployment.function_arn(deployment.functions[kind][channel])
    assert integration["IntegrationType"] == "AWS_PROXY"
    assert integration["IntegrationUri"].endswith(f"/functions/{function_arn}/invocations")


@pytest.mark.parametrize("channel", COMPLETE_CHANNELS)
def test_stage_is_throttled_and_never_logs_message_bodies(deployment, channel):
    api = deployment.channels[channel]
    stage = deployment.client("apigatewayv2").get_stage(
        ApiId=api["api_id"], StageName=api["stage_name"]
    )
    settings = stage["DefaultRouteSettings"]
    assert settings["ThrottlingBurstLimit"] > 0
    assert settings["ThrottlingRateLimit"] > 0
    assert settings["DataTraceEnabled"] is False


def test_history_channels_own_throttling_reaches_its_stage(deployment):
    api = deployment.channels["history"]
    stage = deployment.client("apigatewayv2").get_stage(
        ApiId=api["api_id"], StageName=api["stage_name"]
    )
    settings = stage["DefaultRouteSettings"]
    assert {key: settings[key] for key in HISTORY_THROTTLING} == HISTORY_THROTTLING


@pytest.mark.parametrize("channel", COMPLETE_CHANNELS)
def test_stage_serves_a_deployment_of_the_api(deployment, channel):
    api = deployment.channels[channel]
    apigateway = deployment.client("apigatewayv2")
    stage = apigateway.get_stage(ApiId=api["api_id"], StageName=api["stage_name"])
    deployed = apigateway.get_deployment(ApiId=api["api_id"], DeploymentId=stage["DeploymentId"])
    assert deployed["DeploymentStatus"] == "DEPLOYED"


@pytest.mark.parametrize("kind", ["connect", "disconnect"])
@pytest.mark.parametrize("channel", COMPLETE_CHANNELS)
def test_channel_function_may_be_invoked_only_by_its_channels_api(deployment, channel, kind):
    statements = deployment.permission_statements(deployment.functions[kind][channel])
    invokers = {(s["Principal"]["Service"], _source_arn(s)) for s in statements}
    assert invokers
    for principal, source_arn in invokers:
        assert principal == "apigateway.amazonaws.com"
        assert source_arn.startswith(f"{deployment.execution_arn(channel)}/")


def _source_arn(statement: dict) -> str:
    conditions = statement.get("Condition", {})
    return conditions.get("ArnLike", conditions.get("ArnEquals", {})).get("AWS:SourceArn", "")


# -- access control --------------------------------------------------------------------


def test_each_channel_outputs_its_authorization_type(deployment):
    types = {key: c["authorization_type"] for key, c in deployment.channels.items()}
    assert types == COMPLETE_AUTHORIZATION


@pytest.mark.parametrize("channel", COMPLETE_CHANNELS)
def test_connect_route_is_authorized_as_the_channel_chooses(deployment, channel):
    route = deployment.route(channel, "$connect")
    expected = CONNECT_ROUTE_AUTHORIZATION[COMPLETE_AUTHORIZATION[channel]]
    assert route["AuthorizationType"] == expected


@pytest.mark.parametrize("channel", COMPLETE_CHANNELS)
def test_disconnect_route_needs_no_authorization(deployment, channel):
    route = deployment.route(channel, "$disconnect")
    assert route.get("AuthorizationType", "NONE") == "NONE"
    assert "AuthorizerId" not in route


@pytest.mark.parametrize("channel", JWT_CHANNELS)
def test_jwt_channel_connect_is_authorized_by_its_request_authorizer_function(deployment, channel):
    authorizer = deployment.connect_authorizer(channel)
    function_arn = deployment.function_arn(deployment.functions["authorizer"][channel])
    assert authorizer["AuthorizerType"] == "REQUEST"
    assert authorizer["AuthorizerUri"].endswith(f"/functions/{function_arn}/invocations")


@pytest.mark.parametrize("channel", JWT_CHANNELS)
def test_authorizer_lists_no_identity_source_and_no_payload_version(deployment, channel):
    authorizer = deployment.connect_authorizer(channel)
    assert not authorizer.get("IdentitySource")
    assert "AuthorizerPayloadFormatVersion" not in authorizer


@pytest.mark.parametrize("channel", [key for key in COMPLETE_CHANNELS if key not in JWT_CHANNELS])
def test_iam_channel_has_no_authorizer(deployment, channel):
    assert "AuthorizerId" not in deployment.route(channel, "$connect")
    assert channel not in deployment.functions["authorizer"]


@pytest.mark.parametrize("channel", JWT_CHANNELS)
def test_authorizer_may_be_invoked_only_as_its_apis_authorizer(deployment, channel):
    authorizer = deployment.connect_authorizer(channel)
    statements = deployment.permission_statements(deployment.functions["authorizer"][channel])
    invokers = {(s["Principal"]["Service"], _source_arn(s)) for s in statements}
    expected = f"{deployment.execution_arn(channel)}/authorizers/{authorizer['AuthorizerId']}"
    assert invokers == {("apigateway.amazonaws.com", expected)}


def test_history_authorizer_verifies_the_examples_issuer_and_audience(deployment):
    environment = deployment.environment(deployment.functions["authorizer"]["history"])
    assert environment == HISTORY_AUTHORIZER_ENVIRONMENT


@pytest.mark.parametrize("channel", COMPLETE_CHANNELS)
def test_connect_function_is_told_its_channels_authorization_type(deployment, channel):
    environment = deployment.environment(deployment.functions["connect"][channel])
    assert environment["AUTHORIZATION_TYPE"] == COMPLETE_AUTHORIZATION[channel]


@pytest.mark.parametrize("kind", ["connect", "authorizer"])
def test_functions_a_connection_storm_hits_have_reserved_concurrency(deployment, kind):
    reserved = {
        name: deployment.client("lambda")
        .get_function_concurrency(FunctionName=name)
        .get("ReservedConcurrentExecutions")
        for name in deployment.functions[kind].values()
    }
    assert reserved == dict.fromkeys(reserved, RESERVED_CONCURRENCY[kind])


def test_other_functions_are_not_reserved(deployment):
    names = [*deployment.functions["disconnect"].values(), deployment.functions["heartbeat"]]
    lambda_ = deployment.client("lambda")
    reserved = [lambda_.get_function_concurrency(FunctionName=name) for name in names]
    assert [r.get("ReservedConcurrentExecutions") for r in reserved] == [None] * len(names)


# -- audit trail ---------------------------------------------------------------------------


@pytest.mark.parametrize("channel", COMPLETE_CHANNELS)
def test_stage_writes_a_json_access_log_line_to_the_channels_log_group(deployment, channel):
    settings = deployment.stage(channel)["AccessLogSettings"]
    group = deployment.log_group(deployment.channels[channel]["access_log_group_name"])
    assert settings["DestinationArn"] == group["arn"].removesuffix(":*")
    assert json.loads(settings["Format"]) == ACCESS_LOG_FIELDS


@pytest.mark.parametrize("channel", COMPLETE_CHANNELS)
def test_access_log_group_is_the_channels_own_and_kept_a_year(deployment, channel):
    name = deployment.channels[channel]["access_log_group_name"]
    assert name == f"/aws/apigateway/incident-ws-{channel}"
    assert deployment.log_group(name)["retentionInDays"] == ACCESS_LOG_RETENTION_DAYS


def test_every_log_group_is_encrypted_with_the_customer_managed_key(deployment):
    names = [
        *(f"/aws/lambda/{name}" for _, name in deployment.all_functions()),
        *(channel["access_log_group_name"] for channel in deployment.channels.values()),
    ]
    keys = {name: deployment.log_group(name).get("kmsKeyId") for name in names}
    assert keys == dict.fromkeys(names, deployment.kms_key_arn())


def test_account_logs_api_gateway_with_the_created_role(deployment):
    account = deployment.client("apigateway").get_account()
    assert account["cloudwatchRoleArn"] == deployment.outputs["api_gateway_cloudwatch_role_arn"]


# -- incident stream -------------------------------------------------------------------


def test_stream_mapping_feeds_inserts_and_modifies_of_the_incident_stream(deployment):
    mapping = deployment.stream_mapping()
    patterns = [json.loads(f["Pattern"]) for f in mapping["FilterCriteria"]["Filters"]]
    assert mapping["EventSourceArn"] == deployment.outputs["incident_stream_arn"]
    assert mapping["FunctionArn"] == deployment.function_arn(
        deployment.functions["stream_processor"]
    )
    assert patterns == [STREAM_EVENT_FILTER]


def test_stream_mapping_batches_within_the_dynamodb_stream_limits(deployment):
    mapping = deployment.stream_mapping()
    assert 1 <= mapping["BatchSize"] <= 10_000
    # moto leaves out a window that was not set; AWS reports it as 0.
    assert 0 <= mapping.get("MaximumBatchingWindowInSeconds", 0) <= 300


def test_stream_mapping_reports_partial_batch_failures_and_bisects(deployment):
    mapping = deployment.stream_mapping()
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["BisectBatchOnFunctionError"] is True


def test_stream_mapping_bounds_retries_and_record_age(deployment):
    mapping = deployment.stream_mapping()
    assert 0 <= mapping["MaximumRetryAttempts"] <= 10_000
    assert 60 <= mapping["MaximumRecordAgeInSeconds"] <= 604_800


def test_stream_mapping_sends_failed_batches_to_the_dead_letter_queue(deployment):
    destination = deployment.stream_mapping()["DestinationConfig"]["OnFailure"]["Destination"]
    assert destination == deployment.dead_letter_queue_arn()


def test_dead_letter_queue_is_encrypted(deployment):
    attributes = deployment.client("sqs").get_queue_attributes(
        QueueUrl=deployment.outputs["dead_letter_queue_url"], AttributeNames=["All"]
    )["Attributes"]
    assert attributes.get("SqsManagedSseEnabled") == "true" or attributes.get("KmsMasterKeyId")


# -- message log and replay ------------------------------------------------------------


def _table(deployment: Deployment, name: str) -> dict:
    return deployment.client("dynamodb").describe_table(TableName=name)["Table"]


def _invokers(deployment: Deployment, function_name: str) -> set[tuple[str, str]]:
    statements = deployment.permission_statements(function_name)
    return {(s["Principal"]["Service"], _source_arn(s)) for s in statements}


def _route_arn(deployment: Deployment, channel: str, route_key: str) -> str:
    stage = deployment.channels[channel]["stage_name"]
    return f"{deployment.execution_arn(channel)}/{stage}/{route_key}"


@pytest.mark.parametrize("channel", COMPLETE_CHANNELS)
def test_every_channel_logs_its_messages_in_a_table_keyed_by_channel_and_id(deployment, channel):
    table = _table(deployment, deployment.channels[channel]["messages_table_name"])
    assert table["TableName"] == f"incident-ws-{channel}-messages"
    assert table["KeySchema"] == MESSAGES_KEY_SCHEMA
    assert {(a["AttributeName"], a["AttributeType"]) for a in table["AttributeDefinitions"]} == {
        ("channel", "S"),
        ("id", "S"),
    }
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"


@pytest.mark.parametrize("channel", COMPLETE_CHANNELS)
def test_message_log_is_encrypted_with_the_customer_managed_key(deployment, channel):
    sse = _table(deployment, deployment.channels[channel]["messages_table_name"])["SSEDescription"]
    assert (sse["Status"], sse["SSEType"]) == ("ENABLED", "KMS")
    assert sse["KMSMasterKeyArn"] == deployment.kms_key_arn()


def test_stream_processor_logs_the_routed_channels_messages_for_the_retention(deployment):
    environment = deployment.environment(deployment.functions["stream_processor"])
    logs = {key: c["messages_table"] for key, c in json.loads(environment["CHANNELS"]).items()}
    assert logs == {key: deployment.channels[key]["messages_table_name"] for key in ROUTED_CHANNELS}
    assert environment["MESSAGE_RETENTION_SECONDS"] == str(MESSAGE_RETENTION_SECONDS)


@pytest.mark.parametrize("channel", COMPLETE_CHANNELS)
def test_replay_route_proxies_to_the_channels_replay_function(deployment, channel):
    integration = _routes(deployment, channel)["replay"]
    function_arn = deployment.function_arn(deployment.functions["replay"][channel])
    assert integration["IntegrationType"] == "AWS_PROXY"
    assert integration["IntegrationUri"].endswith(f"/functions/{function_arn}/invocations")


@pytest.mark.parametrize("channel", COMPLETE_CHANNELS)
def test_no_channel_answers_unknown_actions_itself(deployment, channel):
    assert "$default" not in _routes(deployment, channel)


@pytest.mark.parametrize("channel", COMPLETE_CHANNELS)
def test_replay_function_may_be_invoked_only_by_its_channels_replay_route(deployment, channel):
    invokers = _invokers(deployment, deployment.functions["replay"][channel])
    assert invokers == {("apigateway.amazonaws.com", _route_arn(deployment, channel, "replay"))}


@pytest.mark.parametrize("channel", COMPLETE_CHANNELS)
def test_replay_function_reads_its_channels_tables_and_posts_to_its_stage(deployment, channel):
    environment = deployment.environment(deployment.functions["replay"][channel])
    assert environment == {
        "CHANNEL_NAME": channel,
        "CONNECTIONS_TABLE": deployment.channels[channel]["connections_table_name"],
        "MESSAGES_TABLE": deployment.channels[channel]["messages_table_name"],
        "MANAGEMENT_ENDPOINT": deployment.management_endpoint(channel),
        "REPLAY_MAX_MESSAGES": str(REPLAY_MAX_MESSAGES),
        "METRICS_NAMESPACE": METRICS_NAMESPACE,
    }


# -- presence --------------------------------------------------------------------------


@pytest.mark.parametrize("channel", PRESENCE_CHANNELS)
def test_presence_channel_streams_its_connections_with_both_images(deployment, channel):
    table = _table(deployment, deployment.channels[channel]["connections_table_name"])
    assert table["StreamSpecification"] == {
        "StreamEnabled": True,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }


@pytest.mark.parametrize("channel", [c for c in COMPLETE_CHANNELS if c not in PRESENCE_CHANNELS])
def test_channel_without_presence_streams_nothing_and_routes_no_presence(deployment, channel):
    assert deployment.connections_stream_arn(channel) is None
    assert "presence" not in _routes(deployment, channel)
    assert deployment.channels[channel]["presence"] is False


@pytest.mark.parametrize("channel", PRESENCE_CHANNELS)
def test_presence_route_proxies_to_the_shared_presence_function(deployment, channel):
    integration = _routes(deployment, channel)["presence"]
    function_arn = deployment.function_arn(deployment.functions["presence"])
    assert integration["IntegrationType"] == "AWS_PROXY"
    assert integration["IntegrationUri"].endswith(f"/functions/{function_arn}/invocations")


def test_presence_function_may_be_invoked_only_by_the_presence_routes(deployment):
    invokers = _invokers(deployment, deployment.functions["presence"])
    assert invokers == {
        ("apigateway.amazonaws.com", _route_arn(deployment, channel, "presence"))
        for channel in PRESENCE_CHANNELS
    }


@pytest.mark.parametrize("channel", PRESENCE_CHANNELS)
def test_presence_mapping_feeds_the_channels_connects_and_disconnects(deployment, channel):
    mapping = deployment.presence_mapping(channel)
    patterns = [json.loads(f["Pattern"]) for f in mapping["FilterCriteria"]["Filters"]]
    assert mapping["FunctionArn"] == deployment.function_arn(deployment.functions["presence"])
    assert patterns == [PRESENCE_EVENT_FILTER]


@pytest.mark.parametrize("channel", PRESENCE_CHANNELS)
def test_presence_mapping_reports_partial_failures_and_gives_up_on_stale_records(
    deployment, channel
):
    mapping = deployment.presence_mapping(channel)
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["BisectBatchOnFunctionError"] is True
    assert {key: mapping[key] for key in PRESENCE_RETRIES} == PRESENCE_RETRIES
    destination = mapping["DestinationConfig"]["OnFailure"]["Destination"]
    assert destination == deployment.queue_arn(deployment.outputs["presence_dead_letter_queue_url"])


def test_presence_function_reaches_the_presence_channels_only(deployment):
    environment = deployment.environment(deployment.functions["presence"])
    channels = json.loads(environment["CHANNELS"])
    assert {key: (c["table"], c["endpoint"], c["presence"]) for key, c in channels.items()} == {
        key: (
            deployment.channels[key]["connections_table_name"],
            deployment.management_endpoint(key),
            True,
        )
        for key in PRESENCE_CHANNELS
    }


def test_presence_dead_letter_queue_is_encrypted_with_the_customer_managed_key(deployment):
    attributes = deployment.client("sqs").get_queue_attributes(
        QueueUrl=deployment.outputs["presence_dead_letter_queue_url"], AttributeNames=["All"]
    )["Attributes"]
    assert attributes["KmsMasterKeyId"] == deployment.kms_key_arn()


# -- heartbeat -------------------------------------------------------------------------


def _heartbeat_rules(deployment: Deployment) -> list[dict]:
    events = deployment.client("events")
    heartbeat_arn = deployment.function_arn(deployment.functions["heartbeat"])
    return [
        rule
        for rule in events.list_rules()["Rules"]
        if any(
            target["Arn"] == heartbeat_arn
            for target in events.list_targets_by_rule(Rule=rule["Name"])["Targets"]
        )
    ]


def test_heartbeat_runs_every_five_minutes(deployment):
    (rule,) = _heartbeat_rules(deployment)
    assert (rule["ScheduleExpression"], rule["State"]) == ("rate(5 minutes)", "ENABLED")


def test_heartbeat_may_be_invoked_only_by_its_rule(deployment):
    (rule,) = _heartbeat_rules(deployment)
    statements = deployment.permission_statements(deployment.functions["heartbeat"])
    invokers = {(s["Principal"]["Service"], _source_arn(s)) for s in statements}
    assert invokers == {("events.amazonaws.com", rule["Arn"])}
