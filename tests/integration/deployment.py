"""What examples/complete deployed, looked up through boto3 on the moto server."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from typing import Any

import boto3
from botocore.client import BaseClient

# moto accepts any credentials; these keep Terraform, boto3 and the handlers off real AWS.
TEST_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}

# What examples/complete deploys: the original channels, table names and routes, and the
# settings it chooses (log retention, the history channel's own throttling).
COMPLETE_CHANNEL_TABLES = {
    "events": "WebSocketConnections_v2",
    "remediation": "RemediationWebSocketConnections",
    "history": "IncidentWebSocketConnections",
}
COMPLETE_CHANNELS = tuple(COMPLETE_CHANNEL_TABLES)
COMPLETE_ROUTES = {"incident": ["history"], "remediation": ["history"]}
ROUTED_CHANNELS = tuple(
    sorted({channel for route in COMPLETE_ROUTES.values() for channel in route})
)
LOG_RETENTION_DAYS = 30
HISTORY_THROTTLING = {"ThrottlingBurstLimit": 200, "ThrottlingRateLimit": 100.0}
# Its incident table: an incident and its remediation logs share the partition key.
INCIDENT_KEY_SCHEMA = [
    {"AttributeName": "incident_id", "KeyType": "HASH"},
    {"AttributeName": "entry_id", "KeyType": "RANGE"},
]
# Its finding sources, GuardDuty and Security Hub (both formats) from HIGH up: each rule's
# pattern by the rule's key.
COMPLETE_FINDING_PATTERNS = {
    "guardduty": {
        "source": ["aws.guardduty"],
        "detail-type": ["GuardDuty Finding"],
        "detail": {"severity": [{"numeric": [">=", 7, "<=", 10]}]},
    },
    "securityhub-asff": {
        "source": ["aws.securityhub"],
        "detail-type": ["Security Hub Findings - Imported"],
        "detail": {"findings": {"Severity": {"Normalized": [{"numeric": [">=", 70, "<=", 100]}]}}},
    },
    "securityhub-ocsf": {
        "source": ["aws.securityhub"],
        "detail-type": ["Findings Imported V2"],
        "detail": {"findings": {"severity_id": [{"numeric": [">=", 4, "<=", 6]}]}},
    },
}

# Every function emits its metrics in the deployment's own namespace (the default,
# IncidentWebSocket/<name_prefix>).
METRICS_NAMESPACE = "IncidentWebSocket/incident-ws"

# Who may connect: agents sign with SigV4 (the example's root setting), dashboards on history
# bring a Cognito token (the example's placeholder pool and client).
COMPLETE_AUTHORIZATION = {"events": "iam", "remediation": "iam", "history": "jwt"}
JWT_CHANNELS = tuple(key for key, kind in COMPLETE_AUTHORIZATION.items() if kind == "jwt")
HISTORY_AUTHORIZER_ENVIRONMENT = {
    "CHANNEL_NAME": "history",
    "OIDC_ISSUER": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_EXAMPLE",
    "OIDC_AUDIENCES": "example-dashboard-client-id",
    "ACCOUNTS_CLAIM": "custom:accounts",
    "METRICS_NAMESPACE": METRICS_NAMESPACE,
}
ACCESS_LOG_RETENTION_DAYS = 365

# Clients that reconnect: every channel's message log (kept three days, replayed 200 messages per
# frame) and presence on the agents' and the dashboards' channels.
MESSAGE_RETENTION_SECONDS = 3 * 24 * 3600
REPLAY_MAX_MESSAGES = 200
MESSAGES_KEY_SCHEMA = [
    {"AttributeName": "channel", "KeyType": "HASH"},
    {"AttributeName": "id", "KeyType": "RANGE"},
]
PRESENCE_CHANNELS = ("remediation", "history")

# What tests/integration/terraform/complete_on_moto turns on beyond the example's defaults.
KMS_KEY_ALIAS = "alias/incident-ws-complete"
RESERVED_CONCURRENCY = {"connect": 5, "authorizer": 5}
ALARM_EMAIL = "oncall@example.com"


@dataclass(frozen=True)
class Deployment:
    """The example's Terraform outputs plus boto3 clients for the account they live in."""

    outputs: dict[str, Any]

    @property
    def region(self) -> str:
        return self.outputs["incident_table_arn"].split(":")[3]

    @property
    def account(self) -> str:
        return self.outputs["incident_table_arn"].split(":")[4]

    @property
    def channels(self) -> dict[str, dict[str, Any]]:
        return self.outputs["channels"]

    @property
    def functions(self) -> dict[str, Any]:
        return self.outputs["function_names"]

    def all_functions(self) -> list[tuple[str, str]]:
        """(handler name, function name) for every deployed function."""
        names = self.functions
        return [
            *(
                (kind, names[kind][channel])
                for kind in ("connect", "disconnect", "authorizer", "replay")
                for channel in names[kind]
            ),
            *(
                (kind, names[kind])
                for kind in (
                    "stream_processor",
                    "fanout_worker",
                    "heartbeat",
                    "presence",
                    "findings",
                )
            ),
        ]

    def client(self, service: str) -> BaseClient:
        return _client(service, self.region)

    def function(self, name: str) -> dict[str, Any]:
        """`GetFunctionConfiguration` of a deployed function."""
        return _function(name, self.region)

    def environment(self, function_name: str) -> dict[str, str]:
        return self.function(function_name)["Environment"]["Variables"]

    def function_arn(self, name: str) -> str:
        return self.function(name)["FunctionArn"]

    def log_group_arn(self, function_name: str) -> str:
        return f"arn:aws:logs:{self.region}:{self.account}:log-group:/aws/lambda/{function_name}"

    def management_endpoint(self, channel: str) -> str:
        """Where @connections posts for a channel go, built from the deployed API and stage."""
        api = self.channels[channel]
        host = f"{api['api_id']}.execute-api.{self.region}.amazonaws.com"
        return f"https://{host}/{api['stage_name']}"

    def manage_connections_arn(self, channel: str) -> str:
        api = self.channels[channel]
        return (
            f"arn:aws:execute-api:{self.region}:{self.account}:"
            f"{api['api_id']}/{api['stage_name']}/POST/@connections/*"
        )

    def execution_arn(self, channel: str) -> str:
        return (
            f"arn:aws:execute-api:{self.region}:{self.account}:{self.channels[channel]['api_id']}"
        )

    def dead_letter_queue_names(self) -> dict[str, str]:
        """The names of the dead-letter queues (the last part of their URLs), by output."""
        return {
            output: url.rsplit("/", 1)[1]
            for output in (
                "dead_letter_queue_url",
                "presence_dead_letter_queue_url",
                "findings_dead_letter_queue_url",
            )
            if (url := self.outputs[output])
        }

    def dead_letter_queue_arn(self) -> str:
        return self.queue_arn(self.outputs["dead_letter_queue_url"])

    def findings_dead_letter_queue_arn(self) -> str:
        return self.queue_arn(self.outputs["findings_dead_letter_queue_url"])

    def queue_arn(self, url: str) -> str:
        attributes = self.client("sqs").get_queue_attributes(
            QueueUrl=url, AttributeNames=["QueueArn"]
        )
        return attributes["Attributes"]["QueueArn"]

    def stream_mapping(self) -> dict[str, Any]:
        """The event source mapping of the incident stream (moto filters only by source ARN)."""
        (mapping,) = self.client("lambda").list_event_source_mappings(
            EventSourceArn=self.outputs["incident_stream_arn"]
        )["EventSourceMappings"]
        return mapping

    def connections_stream_arn(self, channel: str) -> str | None:
        """The latest stream of the channel's connections table, `None` when it streams nothing."""
        table = self.client("dynamodb").describe_table(
            TableName=self.channels[channel]["connections_table_name"]
        )["Table"]
        return table.get("LatestStreamArn") if table.get("StreamSpecification") else None

    def presence_mapping(self, channel: str) -> dict[str, Any]:
        """The event source mapping of the channel's connections stream."""
        (mapping,) = self.client("lambda").list_event_source_mappings(
            EventSourceArn=self.connections_stream_arn(channel)
        )["EventSourceMappings"]
        return mapping

    def kms_key_arn(self) -> str:
        """The customer managed key the integration wrapper gave the example."""
        return self.client("kms").describe_key(KeyId=KMS_KEY_ALIAS)["KeyMetadata"]["Arn"]

    def log_group(self, name: str) -> dict[str, Any]:
        """`DescribeLogGroups` entry of the log group `name`."""
        groups = self.client("logs").describe_log_groups(logGroupNamePrefix=name)["logGroups"]
        (group,) = [group for group in groups if group["logGroupName"] == name]
        return group

    def route(self, channel: str, route_key: str) -> dict[str, Any]:
        api_id = self.channels[channel]["api_id"]
        routes = self.client("apigatewayv2").get_routes(ApiId=api_id)["Items"]
        (route,) = [route for route in routes if route["RouteKey"] == route_key]
        return route

    def connect_authorizer(self, channel: str) -> dict[str, Any]:
        """The authorizer of the channel's `$connect` route (moto has no GetAuthorizers)."""
        authorizer_id = self.route(channel, "$connect")["AuthorizerId"]
        return self.client("apigatewayv2").get_authorizer(
            ApiId=self.channels[channel]["api_id"], AuthorizerId=authorizer_id
        )

    def stage(self, channel: str) -> dict[str, Any]:
        api = self.channels[channel]
        return self.client("apigatewayv2").get_stage(
            ApiId=api["api_id"], StageName=api["stage_name"]
        )

    def permission_statements(self, function_name: str) -> list[dict[str, Any]]:
        """The statements of a function's resource policy (who may invoke it)."""
        policy = self.client("lambda").get_policy(FunctionName=function_name)["Policy"]
        return json.loads(policy)["Statement"]


@cache
def _client(service: str, region: str) -> BaseClient:
    # AWS_ENDPOINT_URL (set by conftest.py) sends every client to moto.
    return boto3.client(service, region_name=region)


@cache
def _function(name: str, region: str) -> dict[str, Any]:
    return _client("lambda", region).get_function_configuration(FunctionName=name)
