"""Reading what was deployed from the emulator's control plane (a moto server)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from dev.emulator.control_plane import (
    AsyncInvokeConfig,
    read_async_invoke_config,
    read_deployment,
    read_event_bus,
    read_resource_policy,
)
from dev.emulator.function_code import FunctionCodeNotFound

from .conftest import REGION, zip_of

ZIP = zip_of({"handler.py": "def handler(event, context):\n    return None\n"})


@pytest.fixture
def deploy(aws_client: Callable[[str], Any]) -> Callable[..., dict[str, str]]:
    """Deploys a function and a WebSocket API whose routes invoke it; returns their ids."""
    role = aws_client("iam").create_role(RoleName="fn", AssumeRolePolicyDocument="{}")["Role"][
        "Arn"
    ]

    def deploy_(
        name: str = "connect",
        tags: dict[str, str] | None = None,
        environment: dict[str, str] | None = None,
    ) -> dict[str, str]:
        function_arn = aws_client("lambda").create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=role,
            Handler="handler.handler",
            Code={"ZipFile": ZIP},
            Timeout=7,
            Environment={"Variables": environment or {"CONNECTIONS_TABLE": "T"}},
        )["FunctionArn"]
        apis = aws_client("apigatewayv2")
        api_id = apis.create_api(
            Name=f"{name}-api",
            ProtocolType="WEBSOCKET",
            RouteSelectionExpression="$request.body.action",
            Tags=tags or {},
        )["ApiId"]
        integration = apis.create_integration(
            ApiId=api_id,
            IntegrationType="AWS_PROXY",
            IntegrationUri=f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{function_arn}/invocations",
        )
        for route_key in ("$connect", "$disconnect"):
            apis.create_route(
                ApiId=api_id,
                RouteKey=route_key,
                Target=f"integrations/{integration['IntegrationId']}",
            )
        apis.create_stage(ApiId=api_id, StageName="prod")
        return {"api_id": api_id, "function_arn": function_arn}

    return deploy_


@pytest.fixture
def code_dir(tmp_path: Path) -> str:
    (tmp_path / "other.zip").write_bytes(zip_of({"handler.py": "x = 1\n"}))
    (tmp_path / "deployed.zip").write_bytes(ZIP)
    return str(tmp_path)


def test_functions_are_read_with_handler_timeout_environment_and_their_deployed_zip(
    aws_endpoint, deploy, code_dir
):
    deploy()

    deployment = read_deployment(aws_endpoint, REGION, [code_dir])

    function = deployment.functions["connect"]
    assert (function.handler, function.timeout_seconds) == ("handler.handler", 7)
    assert function.environment == {"CONNECTIONS_TABLE": "T"}
    assert function.zip_bytes == ZIP


def test_a_functions_reserved_concurrency_is_read_and_none_without_one(
    aws_endpoint, deploy, aws_client, code_dir
):
    deploy("reserved")
    deploy("unreserved")
    aws_client("lambda").put_function_concurrency(
        FunctionName="reserved", ReservedConcurrentExecutions=3
    )

    functions = read_deployment(aws_endpoint, REGION, [code_dir]).functions

    assert functions["reserved"].reserved_concurrency == 3
    assert functions["unreserved"].reserved_concurrency is None


def test_a_deployed_zip_that_matches_no_local_zip_is_an_error(aws_endpoint, deploy, tmp_path):
    deploy()

    with pytest.raises(FunctionCodeNotFound, match="connect"):
        read_deployment(aws_endpoint, REGION, [str(tmp_path)])


def test_websocket_routes_resolve_to_the_functions_their_integrations_invoke(
    aws_endpoint, deploy, code_dir
):
    ids = deploy()

    (stage,) = read_deployment(aws_endpoint, REGION, [code_dir]).stages

    assert (stage.api_id, stage.stage) == (ids["api_id"], "prod")
    assert stage.routes == {"$connect": "connect", "$disconnect": "connect"}
    assert stage.route_selection_expression == "$request.body.action"


def test_a_stage_carries_its_api_name_and_tags(aws_endpoint, deploy, code_dir):
    deploy(tags={"team": "secops", "purpose": "alerts"})

    (stage,) = read_deployment(aws_endpoint, REGION, [code_dir]).stages

    assert stage.api_name == "connect-api"
    assert stage.tags == {"team": "secops", "purpose": "alerts"}


def test_an_untagged_api_has_no_tags(aws_endpoint, deploy, code_dir):
    deploy()

    (stage,) = read_deployment(aws_endpoint, REGION, [code_dir]).stages

    assert stage.tags == {}


def test_stream_mapping_settings_are_read(aws_endpoint, deploy, aws_client, code_dir):
    ids = deploy()
    stream_arn = aws_client("dynamodb").create_table(
        TableName="Incident",
        KeySchema=[{"AttributeName": "incident_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "incident_id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )["TableDescription"]["LatestStreamArn"]
    dlq = f"arn:aws:sqs:{REGION}:123456789012:dlq"
    aws_client("lambda").create_event_source_mapping(
        EventSourceArn=stream_arn,
        FunctionName=ids["function_arn"],
        StartingPosition="LATEST",
        BatchSize=25,
        FilterCriteria={"Filters": [{"Pattern": '{"eventName": ["INSERT", "MODIFY"]}'}]},
        FunctionResponseTypes=["ReportBatchItemFailures"],
        BisectBatchOnFunctionError=True,
        MaximumRetryAttempts=3,
        MaximumRecordAgeInSeconds=3600,
        DestinationConfig={"OnFailure": {"Destination": dlq}},
    )

    (mapping,) = read_deployment(aws_endpoint, REGION, [code_dir]).stream_mappings

    assert mapping.function_name == "connect"
    assert mapping.stream_arn == stream_arn
    assert mapping.batch_size == 25
    assert mapping.filter_patterns == ({"eventName": ["INSERT", "MODIFY"]},)
    assert mapping.report_batch_item_failures
    assert mapping.bisect_on_error
    assert (mapping.maximum_retry_attempts, mapping.maximum_record_age_seconds) == (3, 3600)
    assert mapping.on_failure_arn == dlq


def test_schedule_rules_targeting_functions_are_read(aws_endpoint, deploy, aws_client, code_dir):
    ids = deploy(name="heartbeat")
    events = aws_client("events")
    events.put_rule(Name="heartbeat", ScheduleExpression="rate(5 minutes)")
    events.put_targets(Rule="heartbeat", Targets=[{"Id": "fn", "Arn": ids["function_arn"]}])
    events.put_rule(Name="not-a-schedule", EventPattern='{"source": ["aws.ec2"]}')

    (schedule,) = read_deployment(aws_endpoint, REGION, [code_dir]).schedules

    assert (schedule.rule_name, schedule.expression, schedule.function_name) == (
        "heartbeat",
        "rate(5 minutes)",
        "heartbeat",
    )


def test_a_custom_connect_route_is_read_with_its_request_authorizer(
    aws_endpoint, deploy, aws_client, code_dir
):
    ids = deploy()
    apis = aws_client("apigatewayv2")
    functions = f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions"
    uri = f"{functions}/{ids['function_arn']}/invocations"
    authorizer_id = apis.create_authorizer(
        ApiId=ids["api_id"],
        AuthorizerType="REQUEST",
        Name="jwt",
        AuthorizerUri=uri,
        IdentitySource=["route.request.querystring.token"],
    )["AuthorizerId"]
    connect_route = next(
        r for r in apis.get_routes(ApiId=ids["api_id"])["Items"] if r["RouteKey"] == "$connect"
    )
    apis.update_route(
        ApiId=ids["api_id"],
        RouteId=connect_route["RouteId"],
        AuthorizationType="CUSTOM",
        AuthorizerId=authorizer_id,
    )

    (stage,) = read_deployment(aws_endpoint, REGION, [code_dir]).stages

    authorization = stage.connect_authorization
    assert authorization.type == "CUSTOM"
    assert authorization.authorizer.function_name == "connect"
    assert authorization.authorizer.identity_sources == ("route.request.querystring.token",)
    assert stage.connect_method_arn == (
        f"arn:aws:execute-api:{REGION}:123456789012:{ids['api_id']}/prod/$connect"
    )


def test_an_iam_connect_route_is_read_as_aws_iam(aws_endpoint, deploy, aws_client, code_dir):
    ids = deploy()
    apis = aws_client("apigatewayv2")
    connect_route = next(
        r for r in apis.get_routes(ApiId=ids["api_id"])["Items"] if r["RouteKey"] == "$connect"
    )
    apis.update_route(
        ApiId=ids["api_id"], RouteId=connect_route["RouteId"], AuthorizationType="AWS_IAM"
    )

    (stage,) = read_deployment(aws_endpoint, REGION, [code_dir]).stages

    assert stage.connect_authorization.type == "AWS_IAM"
    assert stage.connect_authorization.authorizer is None


def test_a_route_without_authorization_is_none(aws_endpoint, deploy, code_dir):
    deploy()

    (stage,) = read_deployment(aws_endpoint, REGION, [code_dir]).stages

    assert stage.connect_authorization.type == "NONE"


def test_a_stage_carries_its_access_log_settings_and_variables(
    aws_endpoint, deploy, aws_client, code_dir
):
    ids = deploy()
    apis = aws_client("apigatewayv2")
    destination = f"arn:aws:logs:{REGION}:123456789012:log-group:/aws/apigateway/chat"
    apis.create_stage(
        ApiId=ids["api_id"],
        StageName="audited",
        AccessLogSettings={"DestinationArn": destination, "Format": "$context.requestId"},
        StageVariables={"tier": "gold"},
    )

    stages = {s.stage: s for s in read_deployment(aws_endpoint, REGION, [code_dir]).stages}

    assert stages["audited"].access_log.log_group == "/aws/apigateway/chat"
    assert stages["audited"].access_log.format == "$context.requestId"
    assert stages["audited"].stage_variables == {"tier": "gold"}
    assert stages["prod"].access_log is None


def test_an_event_bus_is_read_with_its_enabled_pattern_rules_and_their_targets(
    aws_endpoint, deploy, aws_client
):
    ids = deploy(name="ingest")
    events = aws_client("events")
    events.put_rule(Name="findings", EventPattern='{"source": ["aws.guardduty"]}')
    dlq = f"arn:aws:sqs:{REGION}:123456789012:dlq"
    events.put_targets(
        Rule="findings",
        Targets=[{"Id": "fn", "Arn": ids["function_arn"], "DeadLetterConfig": {"Arn": dlq}}],
    )
    events.put_rule(Name="off", EventPattern='{"source": ["x"]}', State="DISABLED")
    events.put_rule(Name="tick", ScheduleExpression="rate(5 minutes)")

    bus = read_event_bus(aws_client("events"))

    assert bus.name == "default"
    assert bus.account == "123456789012"
    [rule] = bus.rules
    assert (rule.name, rule.pattern) == ("findings", {"source": ["aws.guardduty"]})
    [target] = rule.targets
    assert (target.function_name, target.dead_letter_arn) == ("ingest", dlq)


def test_asynchronous_invocation_settings_are_read_with_the_aws_defaults(deploy, aws_client):
    deploy(name="configured")
    deploy(name="plain")
    queue = f"arn:aws:sqs:{REGION}:123456789012:failures"
    aws_client("lambda").put_function_event_invoke_config(
        FunctionName="configured",
        MaximumRetryAttempts=1,
        MaximumEventAgeInSeconds=600,
        DestinationConfig={"OnFailure": {"Destination": queue}},
    )

    configured = read_async_invoke_config(aws_client("lambda"), "configured")
    plain = read_async_invoke_config(aws_client("lambda"), "plain")

    assert configured == AsyncInvokeConfig(1, 600, on_failure=queue)
    assert plain == AsyncInvokeConfig(maximum_retry_attempts=2, maximum_event_age_seconds=21600)


def test_a_functions_resource_policy_is_read_and_empty_without_one(deploy, aws_client):
    deploy(name="open")
    deploy(name="closed")
    aws_client("lambda").add_permission(
        FunctionName="open",
        StatementId="events",
        Action="lambda:InvokeFunction",
        Principal="events.amazonaws.com",
        SourceArn=f"arn:aws:events:{REGION}:123456789012:rule/findings",
    )

    [statement] = read_resource_policy(aws_client("lambda"), "open")["Statement"]

    assert statement["Principal"] == {"Service": "events.amazonaws.com"}
    assert read_resource_policy(aws_client("lambda"), "closed") == {"Statement": []}
