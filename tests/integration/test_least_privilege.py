"""Least privilege as README lists it, read from the deployed roles of examples/complete.

Each function's inline policies are flattened into (action, resource) grants and compared
with exactly what that function needs: its own table, stream, API stages, queue and log group.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

import pytest

from tests.integration.deployment import COMPLETE_CHANNELS, ROUTED_CHANNELS, Deployment

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
CHANNEL_TABLE = {"connect": ("dynamodb:PutItem",), "disconnect": ("dynamodb:DeleteItem",)}
BROADCAST_TABLE = ("dynamodb:Scan", "dynamodb:DeleteItem")
MANAGE_CONNECTIONS = ("execute-api:ManageConnections",)
BROADCAST_CHANNELS = {"stream_processor": ROUTED_CHANNELS, "heartbeat": COMPLETE_CHANNELS}

FUNCTIONS = [
    *(("connect", channel) for channel in COMPLETE_CHANNELS),
    *(("disconnect", channel) for channel in COMPLETE_CHANNELS),
    ("stream_processor", None),
    ("heartbeat", None),
    ("findings", None),
]
FUNCTION_IDS = [f"{kind}-{channel}" if channel else kind for kind, channel in FUNCTIONS]


class Function(NamedTuple):
    kind: str  # the handler: connect, disconnect, stream_processor, heartbeat, findings
    channel: str | None  # for connect and disconnect
    name: str


def _grants(actions: tuple[str, ...], resources: list[str]) -> set[Grant]:
    return {(action, resource) for action in actions for resource in resources}


def _needed_grants(deployment: Deployment, function: Function) -> set[Grant]:
    """What README's least-privilege table gives each function, on the ARNs of this deployment."""
    tables = {key: c["connections_table_arn"] for key, c in deployment.channels.items()}
    grants = _grants(LOG_WRITE, [f"{deployment.log_group_arn(function.name)}:*"])
    if function.channel:
        return grants | _grants(CHANNEL_TABLE[function.kind], [tables[function.channel]])
    if function.kind == "findings":
        grants |= _grants(("dynamodb:PutItem",), [deployment.outputs["incident_table_arn"]])
        return grants | _grants(("sqs:SendMessage",), [deployment.findings_dead_letter_queue_arn()])
    reached = BROADCAST_CHANNELS[function.kind]
    grants |= _grants(BROADCAST_TABLE, [tables[key] for key in reached])
    grants |= _grants(
        MANAGE_CONNECTIONS, [deployment.manage_connections_arn(key) for key in reached]
    )
    if function.kind == "stream_processor":
        grants |= _grants(STREAM_READ, [deployment.outputs["incident_stream_arn"]])
        grants |= _grants(("sqs:SendMessage",), [deployment.dead_letter_queue_arn()])
    return grants


def _role_name(deployment: Deployment, function_name: str) -> str:
    return deployment.function(function_name)["Role"].rsplit("/", 1)[-1]


def _statements(deployment: Deployment, function_name: str) -> Iterator[dict]:
    iam = deployment.client("iam")
    role = _role_name(deployment, function_name)
    for policy_name in iam.list_role_policies(RoleName=role)["PolicyNames"]:
        document = iam.get_role_policy(RoleName=role, PolicyName=policy_name)["PolicyDocument"]
        yield from _as_list(document["Statement"])


def _as_list(value: str | dict | list) -> list:
    return value if isinstance(value, list) else [value]


def _granted(deployment: Deployment, function_name: str) -> set[Grant]:
    return {
        (action, resource)
        for statement in _statements(deployment, function_name)
        for action in _as_list(statement["Action"])
        for resource in _as_list(statement["Resource"])
    }


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
