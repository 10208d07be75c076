"""Least privilege as README lists it, read from the deployed roles of examples/complete.

Each function's inline policies are flattened into (action, resource) grants and compared
with exactly what that function needs: its own table, stream, API stages, queue and log group,
and the KMS key the deployment was given. The account's API Gateway CloudWatch role, which the
deployment creates too, may only write logs of its account and region.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

import pytest

from tests.integration.deployment import (
    COMPLETE_CHANNELS,
    JWT_CHANNELS,
    PRESENCE_CHANNELS,
    ROUTED_CHANNELS,
    Deployment,
)

# The first test to run also waits for the apply (about a minute, more on a busy machine).
pytestmark = [pytest.mark.terraform, pytest.mark.timeout(600)]

Grant = tuple[str, str]  # (action, resource)

LOG_WRITE = ("logs:CreateLogStream", "logs:PutLogEvents")
STREAM_READ = (
    "dynamodb:DescribeStream",
    "dynamodb:GetRecords",
    "dynamodb:GetShardIterator",
    "dynamodb:ListStreams",
)
CHANNEL_TABLE = {
    "connect": ("dynamodb:PutItem",),
    "disconnect": ("dynamodb:DeleteItem",),
    "replay": ("dynamodb:GetItem",),
}
# Delivering functions mark (UpdateItem) and remove the connections that are gone; presence reads.
BROADCAST_TABLE = {
    "stream_processor": ("dynamodb:Scan", "dynamodb:UpdateItem", "dynamodb:DeleteItem"),
    "heartbeat": ("dynamodb:Scan", "dynamodb:UpdateItem", "dynamodb:DeleteItem"),
    "fanout_worker": ("dynamodb:Scan", "dynamodb:UpdateItem", "dynamodb:DeleteItem"),
    "presence": ("dynamodb:Scan", "dynamodb:GetItem"),
}
MANAGE_CONNECTIONS = ("execute-api:ManageConnections",)
BROADCAST_CHANNELS = {
    "stream_processor": ROUTED_CHANNELS,
    "heartbeat": COMPLETE_CHANNELS,
    "fanout_worker": ROUTED_CHANNELS,
    "presence": PRESENCE_CHANNELS,
}
# On the customer managed key: what each function's reads and writes of encrypted data need.
KEY_USE = {
    "connect": ("kms:Decrypt", "kms:GenerateDataKey"),
    "disconnect": ("kms:Decrypt",),
    "authorizer": (),
    "replay": ("kms:Decrypt",),
    "stream_processor": ("kms:Decrypt", "kms:GenerateDataKey"),
    "heartbeat": ("kms:Decrypt",),
    "fanout_worker": ("kms:Decrypt",),
    "presence": ("kms:Decrypt", "kms:GenerateDataKey"),
    "findings": ("kms:Decrypt", "kms:GenerateDataKey"),
}
# What API Gateway uses the account's CloudWatch role for: the actions of the policy AWS provides
# for it (AmazonAPIGatewayPushToCloudWatchLogs), which reads as well as writes.
API_GATEWAY_LOG_WRITE = (
    "logs:CreateLogGroup",
    "logs:CreateLogStream",
    "logs:DescribeLogGroups",
    "logs:DescribeLogStreams",
    "logs:PutLogEvents",
)
API_GATEWAY_LOG_READ = ("logs:GetLogEvents", "logs:FilterLogEvents")

FUNCTIONS = [
    *(("connect", channel) for channel in COMPLETE_CHANNELS),
    *(("disconnect", channel) for channel in COMPLETE_CHANNELS),
    *(("authorizer", channel) for channel in JWT_CHANNELS),
    *(("replay", channel) for channel in COMPLETE_CHANNELS),
    ("stream_processor", None),
    ("fanout_worker", None),
    ("heartbeat", None),
    ("presence", None),
    ("findings", None),
]
FUNCTION_IDS = [f"{kind}-{channel}" if channel else kind for kind, channel in FUNCTIONS]


class Function(NamedTuple):
    kind: str  # the handler: connect, disconnect, authorizer, replay, stream_processor, ...
    channel: str | None  # for connect, disconnect, authorizer and replay
    name: str


def _grants(actions: tuple[str, ...], resources: list[str]) -> set[Grant]:
    return {(action, resource) for action in actions for resource in resources}


def _needed_grants(deployment: Deployment, function: Function) -> set[Grant]:
    """What README's least-privilege table gives each function, on the ARNs of this deployment."""
    tables = {key: c["connections_table_arn"] for key, c in deployment.channels.items()}
    logs = {key: c["messages_table_arn"] for key, c in deployment.channels.items()}
    grants = _grants(LOG_WRITE, [f"{deployment.log_group_arn(function.name)}:*"])
    grants |= _grants(KEY_USE[function.kind], [deployment.kms_key_arn()])
    if function.kind == "authorizer":
        return grants
    if function.kind == "replay":
        grants |= _grants(("dynamodb:Query",), [logs[function.channel]])
        grants |= _grants(MANAGE_CONNECTIONS, [deployment.manage_connections_arn(function.channel)])
    if function.channel:
        return grants | _grants(CHANNEL_TABLE[function.kind], [tables[function.channel]])
    if function.kind == "findings":
        grants |= _grants(("dynamodb:PutItem",), [deployment.outputs["incident_table_arn"]])
        return grants | _grants(("sqs:SendMessage",), [deployment.findings_dead_letter_queue_arn()])
    reached = BROADCAST_CHANNELS[function.kind]
    grants |= _grants(BROADCAST_TABLE[function.kind], [tables[key] for key in reached])
    grants |= _grants(
        MANAGE_CONNECTIONS, [deployment.manage_connections_arn(key) for key in reached]
    )
    if function.kind == "stream_processor":
        indexes = [f"{tables[key]}/index/audience" for key in reached]
        grants |= _grants(("dynamodb:Query",), indexes)
        grants |= _grants(("dynamodb:BatchWriteItem",), [logs[key] for key in reached])
        grants |= _grants(STREAM_READ, [deployment.outputs["incident_stream_arn"]])
        grants |= _grants(("sqs:SendMessage",), [deployment.dead_letter_queue_arn()])
        # A channel's item count decides how many fan-out workers share it; only they are invoked.
        grants |= _grants(("dynamodb:DescribeTable",), [tables[key] for key in reached])
        worker = deployment.function(deployment.functions["fanout_worker"])["FunctionArn"]
        grants |= _grants(("lambda:InvokeFunction",), [worker])
    if function.kind == "presence":
        streams = [deployment.connections_stream_arn(key) for key in reached]
        grants |= _grants(STREAM_READ, streams)
        presence_queue = deployment.queue_arn(deployment.outputs["presence_dead_letter_queue_url"])
        grants |= _grants(("sqs:SendMessage",), [presence_queue])
    return grants


def _role_name(deployment: Deployment, function_name: str) -> str:
    return deployment.function(function_name)["Role"].rsplit("/", 1)[-1]


def _role_statements(deployment: Deployment, role: str) -> Iterator[dict]:
    iam = deployment.client("iam")
    for policy_name in iam.list_role_policies(RoleName=role)["PolicyNames"]:
        document = iam.get_role_policy(RoleName=role, PolicyName=policy_name)["PolicyDocument"]
        yield from _as_list(document["Statement"])


def _statements(deployment: Deployment, function_name: str) -> Iterator[dict]:
    return _role_statements(deployment, _role_name(deployment, function_name))


def _as_list(value: str | dict | list) -> list:
    return value if isinstance(value, list) else [value]


def _flattened(statements: Iterator[dict]) -> set[Grant]:
    return {
        (action, resource)
        for statement in statements
        for action in _as_list(statement["Action"])
        for resource in _as_list(statement["Resource"])
    }


def _granted(deployment: Deployment, function_name: str) -> set[Grant]:
    return _flattened(_statements(deployment, function_name))


def _is_allowed_wildcard(resource: str, deployment: Deployment, function_name: str) -> bool:
    """`/*` after an @connections ARN, or `:*` after the function's own log group ARN."""
    own_log_streams = f"{deployment.log_group_arn(function_name)}:*"
    connections = resource.endswith("/POST/@connections/*") and "*" not in resource[:-1]
    return resource == own_log_streams or connections


@pytest.fixture(params=FUNCTIONS, ids=FUNCTION_IDS)
def function(request, deployment) -> Function:
    kind, channel = request.param
    names = deployment.functions[kind]
    return Function(kind, channel, names[channel] if channel else names)


def test_policies_only_allow_named_actions_on_named_resources(deployment, function):
    for statement in _statements(deployment, function.name):
        assert statement["Effect"] == "Allow"
        assert {"Action", "Resource"} <= statement.keys()
        assert not {"NotAction", "NotResource"} & statement.keys()


def test_policies_grant_no_wildcard_action(deployment, function):
    actions = {action for action, _ in _granted(deployment, function.name)}
    assert actions
    assert not [action for action in actions if "*" in action]


def test_policies_grant_no_wildcard_resource(deployment, function):
    resources = {resource for _, resource in _granted(deployment, function.name)}
    wildcards = [r for r in resources if "*" in r]
    assert [r for r in wildcards if not _is_allowed_wildcard(r, deployment, function.name)] == []


def test_policies_grant_only_the_functions_allowed_actions(deployment, function):
    granted = {action for action, _ in _granted(deployment, function.name)}
    assert granted == {action for action, _ in _needed_grants(deployment, function)}


def test_policies_grant_exactly_the_functions_own_resources(deployment, function):
    assert _granted(deployment, function.name) == _needed_grants(deployment, function)


def test_function_role_has_no_managed_policy(deployment, function):
    role = _role_name(deployment, function.name)
    attached = deployment.client("iam").list_attached_role_policies(RoleName=role)
    assert attached["AttachedPolicies"] == []


def _state_resources(module: dict) -> Iterator[dict]:
    yield from module.get("resources", [])
    for child in module.get("child_modules", []):
        yield from _state_resources(child)


def test_state_has_no_managed_policy_attachment(applied_state):
    resources = list(_state_resources(applied_state["values"]["root_module"]))
    attachments = [
        r["address"]
        for r in resources
        if r["type"] in {"aws_iam_role_policy_attachment", "aws_iam_policy_attachment"}
        or r["values"].get("managed_policy_arns")
    ]
    assert resources
    assert attachments == []


def test_every_lambda_permission_has_a_source_arn(applied_state):
    permissions = [
        r
        for r in _state_resources(applied_state["values"]["root_module"])
        if r["type"] == "aws_lambda_permission"
    ]
    assert permissions
    assert [p["address"] for p in permissions if not p["values"].get("source_arn")] == []


# -- the account's API Gateway CloudWatch role ------------------------------------------


@pytest.fixture
def api_gateway_role(deployment) -> str:
    return deployment.outputs["api_gateway_cloudwatch_role_arn"].rsplit("/", 1)[-1]


def test_only_api_gateway_may_assume_the_account_cloudwatch_role(deployment, api_gateway_role):
    role = deployment.client("iam").get_role(RoleName=api_gateway_role)["Role"]
    trust = _as_list(role["AssumeRolePolicyDocument"]["Statement"])
    assert [(s["Effect"], s["Action"], s["Principal"]) for s in trust] == [
        ("Allow", "sts:AssumeRole", {"Service": "apigateway.amazonaws.com"})
    ]


def test_account_cloudwatch_role_may_only_use_the_logs_of_its_account_and_region(
    deployment, api_gateway_role
):
    statements = list(_role_statements(deployment, api_gateway_role))
    this_account_and_region = f"arn:aws:logs:{deployment.region}:{deployment.account}:log-group:*"
    assert [s["Effect"] for s in statements] == ["Allow"]
    assert _flattened(iter(statements)) == _grants(
        API_GATEWAY_LOG_WRITE + API_GATEWAY_LOG_READ, [this_account_and_region]
    )


def test_account_cloudwatch_role_has_no_managed_policy(deployment, api_gateway_role):
    attached = deployment.client("iam").list_attached_role_policies(RoleName=api_gateway_role)
    assert attached["AttachedPolicies"] == []
