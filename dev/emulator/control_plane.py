"""Read what `terraform apply` deployed into the emulator: APIs, functions, mappings, schedules.

`read_deployment` reads what the emulator serves from the start; the event rules of a bus, a
function's asynchronous invocation settings and its resource policy are read when they are
needed (`read_event_bus`, `read_async_invoke_config`, `read_resource_policy`), so that changes
made after the start take effect as they would on AWS.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from botocore.config import Config
from botocore.exceptions import ClientError

from dev.emulator.aws_clients import aws_clients
from dev.emulator.function_code import fetch_function_code


@dataclass(frozen=True)
class DeployedFunction:
    name: str
    arn: str
    handler: str
    runtime: str
    timeout_seconds: int
    memory_mb: int
    environment: dict[str, str]
    code_sha256: str
    zip_bytes: bytes = field(repr=False)
    log_level: str | None = None
    reserved_concurrency: int | None = None


@dataclass(frozen=True)
class RequestAuthorizer:
    """A Lambda REQUEST authorizer; `function_name` is None when its URI names no function."""

    authorizer_id: str
    name: str
    function_name: str | None
    identity_sources: tuple[str, ...] = ()


@dataclass(frozen=True)
class RouteAuthorization:
    """A route's `AuthorizationType` (`NONE`, `AWS_IAM`, `CUSTOM`) and its authorizer."""

    type: str = "NONE"
    authorizer: RequestAuthorizer | None = None


@dataclass(frozen=True)
class AccessLogSettings:
    destination_arn: str
    format: str

    @property
    def log_group(self) -> str:
        """`arn:aws:logs:<region>:<account>:log-group:<name>[:*]` → `<name>`."""
        return self.destination_arn.split(":log-group:", 1)[-1].removesuffix(":*")


@dataclass(frozen=True)
class WebSocketStage:
    """One stage of a WebSocket API, with its routes resolved to function names."""

    api_id: str
    api_name: str
    stage: str
    route_selection_expression: str
    routes: dict[str, str]
    tags: dict[str, str] = field(default_factory=dict)
    region: str = "us-east-1"
    account_id: str = "123456789012"
    connect_authorization: RouteAuthorization = field(default_factory=RouteAuthorization)
    stage_variables: dict[str, str] = field(default_factory=dict)
    access_log: AccessLogSettings | None = None

    @property
    def connect_method_arn(self) -> str:
        """The `methodArn` a `$connect` authorizer is asked about."""
        api = f"{self.api_id}/{self.stage}/$connect"
        return f"arn:aws:execute-api:{self.region}:{self.account_id}:{api}"


@dataclass(frozen=True)
class StreamMapping:
    """A DynamoDB stream event source mapping (only the settings Lambda applies to streams)."""

    uuid: str
    function_name: str
    function_arn: str
    stream_arn: str
    batch_size: int = 100
    starting_position: str = "LATEST"
    filter_patterns: tuple[dict[str, Any], ...] = ()
    report_batch_item_failures: bool = False
    bisect_on_error: bool = False
    maximum_retry_attempts: int = -1
    maximum_record_age_seconds: int = -1
    on_failure_arn: str | None = None


@dataclass(frozen=True)
class Schedule:
    rule_name: str
    rule_arn: str
    expression: str
    function_name: str
    target_input: str | None = None


@dataclass(frozen=True)
class RuleTarget:
    """A target of an event rule: what it receives, and where undeliverable events go."""

    target_id: str
    arn: str
    input: str | None = None
    input_path: str | None = None
    input_transformer: dict[str, Any] | None = None
    dead_letter_arn: str | None = None

    @property
    def function_name(self) -> str | None:
        """The Lambda function this target invokes, or None for another kind of target."""
        return function_name_from_arn(self.arn) if ":lambda:" in self.arn else None


@dataclass(frozen=True)
class EventRule:
    name: str
    arn: str
    pattern: dict[str, Any]
    targets: tuple[RuleTarget, ...] = ()


@dataclass(frozen=True)
class EventBus:
    """An event bus and its enabled rules that have an event pattern."""

    name: str
    arn: str
    rules: tuple[EventRule, ...] = ()

    @property
    def account(self) -> str:
        return account_of_arn(self.arn) or "123456789012"


DEFAULT_RETRY_ATTEMPTS = 2
DEFAULT_MAXIMUM_EVENT_AGE_SECONDS = 21600


@dataclass(frozen=True)
class AsyncInvokeConfig:
    """A function's settings for asynchronous invocations (AWS's defaults when it has none)."""

    maximum_retry_attempts: int = DEFAULT_RETRY_ATTEMPTS
    maximum_event_age_seconds: int = DEFAULT_MAXIMUM_EVENT_AGE_SECONDS
    on_success: str | None = None
    on_failure: str | None = None


@dataclass(frozen=True)
class Deployment:
    region: str
    stages: list[WebSocketStage]
    functions: dict[str, DeployedFunction]
    stream_mappings: list[StreamMapping]
    schedules: list[Schedule]


def function_name_from_arn(arn: str) -> str:
    """`arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]` → `<name>`."""
    parts = arn.split(":")
    if len(parts) < 7 or parts[5] != "function":
        return arn
    return parts[6]


def function_arn_from_invocation_uri(uri: str) -> str | None:
    """An integration's or authorizer's Lambda invocation URI → the function ARN it invokes."""
    marker = "/functions/"
    if marker not in uri:
        return None
    return uri.split(marker, 1)[1].removesuffix("/invocations")


def function_name_from_integration_uri(uri: str) -> str | None:
    """AWS_PROXY integration URI → the Lambda function name it invokes."""
    function_arn = function_arn_from_invocation_uri(uri)
    return function_name_from_arn(function_arn) if function_arn else None


def account_of_arn(arn: str) -> str | None:
    parts = arn.split(":")
    return parts[4] if len(parts) > 5 and parts[4].isdigit() else None


def read_deployment(aws_endpoint: str, region: str, code_dirs: Iterable[str]) -> Deployment:
    config = Config(connect_timeout=5, retries={"mode": "standard", "max_attempts": 2})
    client = aws_clients(aws_endpoint, region, config)
    functions = {
        f.name: f for f in _read_functions(client("lambda"), client("s3"), list(code_dirs))
    }
    return Deployment(
        region=region,
        stages=list(_read_stages(client("apigatewayv2"), region)),
        functions=functions,
        stream_mappings=list(_read_stream_mappings(client("lambda"))),
        schedules=list(_read_schedules(client("events"))),
    )


def _paginate(client: Any, operation: str, key: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
    if client.can_paginate(operation):
        for page in client.get_paginator(operation).paginate(**kwargs):
            yield from page.get(key, [])
        return
    # apigatewayv2 and some events calls have NextToken but no botocore paginator.
    while True:
        page = getattr(client, operation)(**kwargs)
        yield from page.get(key, [])
        if not page.get("NextToken"):
            return
        kwargs["NextToken"] = page["NextToken"]


def _read_functions(
    lambda_client: Any, s3_client: Any, code_dirs: list[str]
) -> Iterator[DeployedFunction]:
    for summary in _paginate(lambda_client, "list_functions", "Functions"):
        if summary.get("PackageType", "Zip") != "Zip":
            continue
        response = lambda_client.get_function(FunctionName=summary["FunctionName"])
        config = response["Configuration"]
        yield DeployedFunction(
            name=config["FunctionName"],
            arn=config["FunctionArn"],
            handler=config["Handler"],
            runtime=config.get("Runtime", "python3.12"),
            timeout_seconds=int(config.get("Timeout", 3)),
            memory_mb=int(config.get("MemorySize", 128)),
            environment=dict(config.get("Environment", {}).get("Variables", {})),
            code_sha256=config["CodeSha256"],
            log_level=_application_log_level(config.get("LoggingConfig", {})),
            reserved_concurrency=_reserved_concurrency(response),
            zip_bytes=fetch_function_code(
                config["FunctionName"],
                config["CodeSha256"],
                response.get("Code", {}).get("Location"),
                s3_client,
                code_dirs,
            ),
        )


def _reserved_concurrency(get_function: dict[str, Any]) -> int | None:
    reserved = (get_function.get("Concurrency") or {}).get("ReservedConcurrentExecutions")
    return None if reserved is None else int(reserved)


def _application_log_level(logging_config: dict[str, Any]) -> str | None:
    """Lambda filters application logs only in JSON format, at INFO unless configured.

    moto does not return `LoggingConfig`, so a function without one is taken as JSON at INFO:
    locally it logs no more than a JSON-configured function would on AWS.
    """
    if logging_config.get("LogFormat", "JSON") != "JSON":
        return None
    return logging_config.get("ApplicationLogLevel", "INFO")


def _read_stages(client: Any, region: str) -> Iterator[WebSocketStage]:
    for api in _paginate(client, "get_apis", "Items"):
        if api.get("ProtocolType") != "WEBSOCKET":
            continue
        api_id = api["ApiId"]
        integrations = {
            i["IntegrationId"]: i
            for i in _paginate(client, "get_integrations", "Items", ApiId=api_id)
        }
        routes: dict[str, str] = {}
        connect_authorization = RouteAuthorization()
        function_arns = []
        for route in _paginate(client, "get_routes", "Items", ApiId=api_id):
            integration_id = route.get("Target", "").removeprefix("integrations/")
            uri = integrations.get(integration_id, {}).get("IntegrationUri", "")
            function_arn = function_arn_from_invocation_uri(uri)
            if function_arn:
                routes[route["RouteKey"]] = function_name_from_arn(function_arn)
                function_arns.append(function_arn)
            if route["RouteKey"] == "$connect":
                connect_authorization = _route_authorization(client, api_id, route)
        tags = api.get("Tags") or {}
        account_id = next(filter(None, map(account_of_arn, function_arns)), "123456789012")
        for stage in _paginate(client, "get_stages", "Items", ApiId=api_id):
            access_log = stage.get("AccessLogSettings") or {}
            yield WebSocketStage(
                api_id=api_id,
                api_name=api["Name"],
                stage=stage["StageName"],
                route_selection_expression=api.get(
                    "RouteSelectionExpression", "$request.body.action"
                ),
                routes=routes,
                tags=dict(tags),
                region=region,
                account_id=account_id,
                connect_authorization=connect_authorization,
                stage_variables=dict(stage.get("StageVariables") or {}),
                access_log=(
                    AccessLogSettings(access_log["DestinationArn"], access_log["Format"])
                    if access_log.get("DestinationArn") and access_log.get("Format")
                    else None
                ),
            )


def _route_authorization(client: Any, api_id: str, route: dict[str, Any]) -> RouteAuthorization:
    """A route's authorization; a CUSTOM one whose authorizer cannot be read or names no
    function keeps `function_name` None, and then refuses every request (as a broken
    authorizer does on AWS) rather than letting anyone in."""
    authorization_type = route.get("AuthorizationType") or "NONE"
    if authorization_type != "CUSTOM":
        return RouteAuthorization(authorization_type)
    authorizer_id = route.get("AuthorizerId") or ""
    try:
        authorizer = client.get_authorizer(ApiId=api_id, AuthorizerId=authorizer_id)
    except ClientError:
        return RouteAuthorization("CUSTOM", RequestAuthorizer(authorizer_id, "", None))
    function_arn = function_arn_from_invocation_uri(authorizer.get("AuthorizerUri", ""))
    return RouteAuthorization(
        "CUSTOM",
        RequestAuthorizer(
            authorizer_id=authorizer_id,
            name=authorizer.get("Name", ""),
            function_name=function_name_from_arn(function_arn) if function_arn else None,
            identity_sources=tuple(authorizer.get("IdentitySource") or ()),
        ),
    )


def _read_stream_mappings(client: Any) -> Iterator[StreamMapping]:
    for mapping in _paginate(client, "list_event_source_mappings", "EventSourceMappings"):
        source = mapping.get("EventSourceArn", "")
        if ":dynamodb:" not in source or mapping.get("State") in ("Disabled", "Disabling"):
            continue
        filters = mapping.get("FilterCriteria", {}).get("Filters", [])
        destination = mapping.get("DestinationConfig", {}).get("OnFailure", {})
        yield StreamMapping(
            uuid=mapping["UUID"],
            function_name=function_name_from_arn(mapping["FunctionArn"]),
            function_arn=mapping["FunctionArn"],
            stream_arn=source,
            batch_size=int(mapping.get("BatchSize", 100)),
            starting_position=mapping.get("StartingPosition", "LATEST"),
            filter_patterns=tuple(json.loads(f["Pattern"]) for f in filters if f.get("Pattern")),
            report_batch_item_failures="ReportBatchItemFailures"
            in mapping.get("FunctionResponseTypes", []),
            bisect_on_error=bool(mapping.get("BisectBatchOnFunctionError", False)),
            maximum_retry_attempts=int(mapping.get("MaximumRetryAttempts", -1)),
            maximum_record_age_seconds=int(mapping.get("MaximumRecordAgeInSeconds", -1)),
            on_failure_arn=destination.get("Destination"),
        )


def _read_schedules(client: Any) -> Iterator[Schedule]:
    for rule in _paginate(client, "list_rules", "Rules"):
        if not rule.get("ScheduleExpression") or rule.get("State") != "ENABLED":
            continue
        for target in _paginate(client, "list_targets_by_rule", "Targets", Rule=rule["Name"]):
            if ":lambda:" not in target["Arn"]:
                continue
            yield Schedule(
                rule_name=rule["Name"],
                rule_arn=rule["Arn"],
                expression=rule["ScheduleExpression"],
                function_name=function_name_from_arn(target["Arn"]),
                target_input=target.get("Input"),
            )


def event_bus_name(name_or_arn: str | None) -> str:
    """`EventBusName` as PutEvents accepts it (a name, an ARN, or nothing) → the bus name."""
    if not name_or_arn:
        return "default"
    return name_or_arn.split(":event-bus/", 1)[-1]


def read_event_bus(events_client: Any, name: str = "default") -> EventBus:
    """The bus and its enabled pattern rules with their targets (ResourceNotFoundException
    when there is no such bus)."""
    arn = events_client.describe_event_bus(Name=name)["Arn"]
    rules = []
    for rule in _paginate(events_client, "list_rules", "Rules", EventBusName=name):
        if not rule.get("EventPattern") or rule.get("State") != "ENABLED":
            continue
        targets = _paginate(
            events_client, "list_targets_by_rule", "Targets", Rule=rule["Name"], EventBusName=name
        )
        rules.append(
            EventRule(
                name=rule["Name"],
                arn=rule["Arn"],
                pattern=json.loads(rule["EventPattern"]),
                targets=tuple(_rule_target(target) for target in targets),
            )
        )
    return EventBus(name, arn, tuple(rules))


def _rule_target(target: dict[str, Any]) -> RuleTarget:
    return RuleTarget(
        target_id=target["Id"],
        arn=target["Arn"],
        input=target.get("Input"),
        input_path=target.get("InputPath"),
        input_transformer=target.get("InputTransformer"),
        dead_letter_arn=(target.get("DeadLetterConfig") or {}).get("Arn"),
    )


def read_async_invoke_config(lambda_client: Any, function_name: str) -> AsyncInvokeConfig:
    try:
        config = lambda_client.get_function_event_invoke_config(FunctionName=function_name)
    except lambda_client.exceptions.ResourceNotFoundException:
        return AsyncInvokeConfig()
    destinations = config.get("DestinationConfig") or {}
    return AsyncInvokeConfig(
        maximum_retry_attempts=int(config.get("MaximumRetryAttempts", DEFAULT_RETRY_ATTEMPTS)),
        maximum_event_age_seconds=int(
            config.get("MaximumEventAgeInSeconds", DEFAULT_MAXIMUM_EVENT_AGE_SECONDS)
        ),
        on_success=(destinations.get("OnSuccess") or {}).get("Destination") or None,
        on_failure=(destinations.get("OnFailure") or {}).get("Destination") or None,
    )


def read_resource_policy(lambda_client: Any, function_name: str) -> dict[str, Any]:
    """The function's resource-based policy document; an empty one when it has none."""
    try:
        policy = lambda_client.get_policy(FunctionName=function_name)["Policy"]
    except lambda_client.exceptions.ResourceNotFoundException:
        return {"Statement": []}
    return json.loads(policy) if isinstance(policy, str) else policy
