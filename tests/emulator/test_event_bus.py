"""EventBridge `PutEvents` on the emulator: a boto3 `events` client pointed at it, rules, targets,
permissions and queues in moto, and a stub in place of the functions."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from botocore.exceptions import ClientError

from dev.emulator import EMULATOR_CREDENTIALS
from dev.emulator.async_invocations import AsyncInvoker
from dev.emulator.aws_proxy import AwsProxy
from dev.emulator.control_plane import read_async_invoke_config
from dev.emulator.event_bus import AwsJsonEndpoint, EventBridge, aws_json_routes

from .conftest import REGION, StubInvoker, deployed_function, zip_of

FUNCTION = "ingest"
GUARDDUTY = {"source": ["aws.guardduty"], "detail-type": ["GuardDuty Finding"]}
HIGH_GUARDDUTY = {**GUARDDUTY, "detail": {"severity": [{"numeric": [">=", 7, "<=", 10]}]}}
HIGH_ASFF = {
    "source": ["aws.securityhub"],
    "detail": {"findings": {"Severity": {"Normalized": [{"numeric": [">=", 70, "<=", 100]}]}}},
}
TIME_SCALE = 10_000


def guardduty_entry(severity: float = 8, **entry: Any) -> dict[str, Any]:
    detail = {"id": "f-1", "severity": severity, "title": "Bitcoin-related domain queried"}
    return {
        "Source": "aws.guardduty",
        "DetailType": "GuardDuty Finding",
        "Detail": json.dumps(detail),
        **entry,
    }


def asff_entry(*normalized: int) -> dict[str, Any]:
    findings = [{"Id": f"f-{n}", "Severity": {"Normalized": n}} for n in normalized]
    return {
        "Source": "aws.securityhub",
        "DetailType": "Security Hub Findings - Imported",
        "Detail": json.dumps({"findings": findings}),
    }


@dataclass
class Deployed:
    """What the tests deploy into moto: the function, its queues, and the rules they add."""

    aws: Callable[[str], Any]
    function_arn: str
    dead_letters: dict[str, str]
    failures: dict[str, str]

    def rule(
        self,
        pattern: dict[str, Any],
        name: str = "findings",
        permitted: bool = True,
        target: dict[str, Any] | None = None,
    ) -> str:
        """A rule whose target is the function (or `target`), with the target DLQ; the function
        lets EventBridge invoke it for this rule unless not `permitted`."""
        events = self.aws("events")
        rule_arn = events.put_rule(Name=name, EventPattern=json.dumps(pattern))["RuleArn"]
        target = target or {
            "Id": "fn",
            "Arn": self.function_arn,
            "DeadLetterConfig": {"Arn": self.dead_letters["arn"]},
            "RetryPolicy": {"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 3600},
        }
        events.put_targets(Rule=name, Targets=[target])
        if permitted:
            self.aws("lambda").add_permission(
                FunctionName=FUNCTION,
                StatementId=f"events-{name}",
                Action="lambda:InvokeFunction",
                Principal="events.amazonaws.com",
                SourceArn=rule_arn,
            )
        return rule_arn

    def messages(self, queue: dict[str, str]) -> list[dict[str, Any]]:
        response = self.aws("sqs").receive_message(
            QueueUrl=queue["url"], MaxNumberOfMessages=10, MessageAttributeNames=["All"]
        )
        return response.get("Messages", [])


def queue(sqs: Any, name: str) -> dict[str, str]:
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
    return {"url": url, "arn": attributes["Attributes"]["QueueArn"]}


@pytest.fixture
def deployed(aws_client: Callable[[str], Any]) -> Deployed:
    iam = aws_client("iam")
    role = iam.create_role(RoleName="ingest", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    function_arn = aws_client("lambda").create_function(
        FunctionName=FUNCTION,
        Runtime="python3.12",
        Role=role,
        Handler="handler.handler",
        Code={"ZipFile": zip_of({"handler.py": "def handler(e, c): pass\n"})},
    )["FunctionArn"]
    sqs = aws_client("sqs")
    failures = queue(sqs, "failures")
    aws_client("lambda").put_function_event_invoke_config(
        FunctionName=FUNCTION,
        MaximumRetryAttempts=2,
        DestinationConfig={"OnFailure": {"Destination": failures["arn"]}},
    )
    return Deployed(aws_client, function_arn, queue(sqs, "dead-letters"), failures)


@dataclass
class ServedBridge:
    url: str
    bridge: EventBridge
    invoker: AsyncInvoker
    invoke: StubInvoker

    def client(self, service: str = "events") -> Any:
        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name=REGION,
            aws_access_key_id=EMULATOR_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=EMULATOR_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        )

    async def put(self, *entries: dict[str, Any]) -> dict[str, Any]:
        """`PutEvents` through boto3, then wait until what it accepted has run to its end."""
        answer = await asyncio.to_thread(self.client().put_events, Entries=list(entries))
        await self.bridge.idle()
        await self.invoker.idle()
        return answer

    def delivered(self) -> list[Any]:
        return self.invoke.events_of(FUNCTION)


@asynccontextmanager
async def serving(
    deployed: Deployed,
    aws_endpoint: str,
    respond: Callable[[str, Any], Any] | None = None,
    functions: tuple[str, ...] = (FUNCTION,),
) -> AsyncIterator[ServedBridge]:
    invoke = StubInvoker(respond)
    lambda_client, sqs = deployed.aws("lambda"), deployed.aws("sqs")
    known = {name: deployed_function(name) for name in functions}
    invoker = AsyncInvoker(
        invoke,
        known,
        lambda name: read_async_invoke_config(lambda_client, name),
        sqs,
        TIME_SCALE,
    )
    bridge = EventBridge(deployed.aws("events"), lambda_client, sqs, known, invoker, REGION)
    proxy = AwsProxy(aws_endpoint)
    app = web.Application()
    app.add_routes(aws_json_routes(AwsJsonEndpoint(bridge, proxy)))
    server = TestServer(app, host="127.0.0.1", port=0)
    await server.start_server()
    try:
        yield ServedBridge(str(server.make_url("")).rstrip("/"), bridge, invoker, invoke)
    finally:
        await bridge.close()
        await invoker.close()
        await proxy.close()
        await server.close()


def run(scenario: Callable[[], Any]) -> Any:
    return asyncio.run(asyncio.wait_for(scenario(), 30))


# -- The answer ------------------------------------------------------------------------------------


def test_each_accepted_entry_gets_an_event_id(deployed, aws_endpoint):
    async def scenario() -> dict[str, Any]:
        async with serving(deployed, aws_endpoint) as served:
            return await served.put(guardduty_entry(), guardduty_entry())

    answer = run(scenario)

    assert answer["FailedEntryCount"] == 0
    assert [set(entry) for entry in answer["Entries"]] == [{"EventId"}, {"EventId"}]


def test_a_bad_entry_fails_alone_with_its_error_code(deployed, aws_endpoint):
    missing_source = {k: v for k, v in guardduty_entry().items() if k != "Source"}
    malformed = guardduty_entry(Detail="{not json")
    not_an_object = guardduty_entry(Detail="[1, 2]")

    async def scenario() -> dict[str, Any]:
        async with serving(deployed, aws_endpoint) as served:
            return await served.put(missing_source, guardduty_entry(), malformed, not_an_object)

    answer = run(scenario)

    assert answer["FailedEntryCount"] == 3
    codes = [entry.get("ErrorCode", "accepted") for entry in answer["Entries"]]
    assert codes == ["InvalidArgument", "accepted", "MalformedDetail", "MalformedDetail"]
    assert "Source is a required argument" in answer["Entries"][0]["ErrorMessage"]


def test_an_entry_for_a_bus_that_does_not_exist_fails(deployed, aws_endpoint):
    async def scenario() -> dict[str, Any]:
        async with serving(deployed, aws_endpoint) as served:
            return await served.put(guardduty_entry(EventBusName="nowhere"))

    [entry] = run(scenario)["Entries"]

    assert entry["ErrorCode"] == "ResourceNotFoundException"


@pytest.mark.parametrize(
    "entries",
    [
        pytest.param([guardduty_entry()] * 11, id="more than 10 entries"),
        pytest.param([guardduty_entry(Detail=json.dumps({"x": "y" * 262_144}))], id="over 256 KB"),
    ],
)
def test_a_request_over_the_limits_is_refused_whole(deployed, aws_endpoint, entries):
    async def scenario() -> str:
        async with serving(deployed, aws_endpoint) as served:
            with pytest.raises(ClientError) as refused:
                await served.put(*entries)
            assert served.delivered() == []
            return refused.value.response["Error"]["Code"]

    assert run(scenario) == "ValidationException"


def test_other_eventbridge_operations_are_answered_by_the_aws_api_emulator(deployed, aws_endpoint):
    deployed.rule(GUARDDUTY)

    async def scenario() -> list[str]:
        async with serving(deployed, aws_endpoint) as served:
            rules = await asyncio.to_thread(served.client().list_rules)
            return [rule["Name"] for rule in rules["Rules"]]

    assert run(scenario) == ["findings"]


# -- Matching --------------------------------------------------------------------------------------


def test_a_matching_event_reaches_the_function_in_eventbridges_envelope(deployed, aws_endpoint):
    deployed.rule(HIGH_GUARDDUTY)
    entry = guardduty_entry(Resources=["arn:aws:ec2:us-east-1:111122223333:instance/i-1"])

    async def scenario() -> tuple[dict[str, Any], list[Any]]:
        async with serving(deployed, aws_endpoint) as served:
            return await served.put(entry), served.delivered()

    answer, [event] = run(scenario)

    assert event["id"] == answer["Entries"][0]["EventId"]
    assert {key: event[key] for key in ("version", "source", "detail-type", "region")} == {
        "version": "0",
        "source": "aws.guardduty",
        "detail-type": "GuardDuty Finding",
        "region": REGION,
    }
    assert event["account"] == "123456789012"
    assert event["resources"] == entry["Resources"]
    assert event["detail"] == json.loads(entry["Detail"])
    assert event["time"].endswith("Z")


def test_the_entrys_time_becomes_the_events_time(deployed, aws_endpoint):
    deployed.rule(GUARDDUTY)

    async def scenario() -> list[Any]:
        async with serving(deployed, aws_endpoint) as served:
            await served.put(guardduty_entry(Time=1_767_225_600))
            return served.delivered()

    [event] = run(scenario)

    assert event["time"] == "2026-01-01T00:00:00Z"


def test_an_event_no_rule_matches_invokes_nothing(deployed, aws_endpoint):
    deployed.rule(HIGH_GUARDDUTY)

    async def scenario() -> list[Any]:
        async with serving(deployed, aws_endpoint) as served:
            await served.put(guardduty_entry(severity=5), asff_entry(90))
            return served.delivered()

    assert run(scenario) == []


def test_a_numeric_range_in_the_pattern_decides_by_the_value(deployed, aws_endpoint):
    deployed.rule(HIGH_GUARDDUTY)

    async def scenario() -> list[Any]:
        async with serving(deployed, aws_endpoint) as served:
            await served.put(*(guardduty_entry(severity=s) for s in (6.9, 7, 8.5, 10, 10.5)))
            return served.delivered()

    assert sorted(event["detail"]["severity"] for event in run(scenario)) == [7, 8.5, 10]


def test_an_array_of_objects_matches_when_any_of_its_objects_does(deployed, aws_endpoint):
    deployed.rule(HIGH_ASFF)

    async def scenario() -> list[Any]:
        async with serving(deployed, aws_endpoint) as served:
            await served.put(asff_entry(10, 75), asff_entry(10, 40))
            return served.delivered()

    [event] = run(scenario)
    assert [f["Severity"]["Normalized"] for f in event["detail"]["findings"]] == [10, 75]


def test_a_disabled_rule_delivers_nothing(deployed, aws_endpoint):
    deployed.rule(GUARDDUTY)
    deployed.aws("events").disable_rule(Name="findings")

    async def scenario() -> list[Any]:
        async with serving(deployed, aws_endpoint) as served:
            await served.put(guardduty_entry())
            return served.delivered()

    assert run(scenario) == []


def test_rules_added_after_the_start_are_used(deployed, aws_endpoint):
    async def scenario() -> list[Any]:
        async with serving(deployed, aws_endpoint) as served:
            await served.put(guardduty_entry())
            deployed.rule(GUARDDUTY)
            await served.put(guardduty_entry())
            return served.delivered()

    assert len(run(scenario)) == 1


def test_a_targets_input_replaces_the_event(deployed, aws_endpoint):
    deployed.rule(GUARDDUTY, target={"Id": "fn", "Arn": deployed.function_arn, "Input": '{"k": 1}'})

    async def scenario() -> list[Any]:
        async with serving(deployed, aws_endpoint) as served:
            await served.put(guardduty_entry())
            return served.delivered()

    assert run(scenario) == [{"k": 1}]


def test_a_target_with_an_input_transformer_is_not_delivered_to(deployed, aws_endpoint):
    transformer = {"InputPathsMap": {"id": "$.id"}, "InputTemplate": '{"finding": <id>}'}
    target = {"Id": "fn", "Arn": deployed.function_arn, "InputTransformer": transformer}
    deployed.rule(GUARDDUTY, target=target)

    async def scenario() -> list[Any]:
        async with serving(deployed, aws_endpoint) as served:
            await served.put(guardduty_entry())
            return served.delivered()

    assert run(scenario) == []


def test_a_targets_input_path_selects_part_of_the_event(deployed, aws_endpoint):
    target = {"Id": "fn", "Arn": deployed.function_arn, "InputPath": "$.detail"}
    deployed.rule(GUARDDUTY, target=target)

    async def scenario() -> list[Any]:
        async with serving(deployed, aws_endpoint) as served:
            await served.put(guardduty_entry(severity=8))
            return served.delivered()

    [detail] = run(scenario)
    assert detail["severity"] == 8


# -- Delivery: the function's failures, and the target's dead letters ------------------------------


def test_a_failing_function_is_retried_then_its_failure_destination_gets_the_event(
    deployed, aws_endpoint
):
    deployed.rule(GUARDDUTY)

    def failing(_name: str, _event: Any) -> Any:
        raise RuntimeError("table unavailable")

    async def scenario() -> tuple[dict[str, Any], list[Any]]:
        async with serving(deployed, aws_endpoint, respond=failing) as served:
            return await served.put(guardduty_entry()), served.delivered()

    answer, attempts = run(scenario)

    assert len(attempts) == 3
    [message] = deployed.messages(deployed.failures)
    record = json.loads(message["Body"])
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestPayload"]["id"] == answer["Entries"][0]["EventId"]
    assert record["responsePayload"]["errorMessage"] == "table unavailable"
    assert deployed.messages(deployed.dead_letters) == []


def dead_letter(deployed: Deployed) -> tuple[dict[str, Any], dict[str, str]]:
    [message] = deployed.messages(deployed.dead_letters)
    attributes = {k: v["StringValue"] for k, v in message["MessageAttributes"].items()}
    return json.loads(message["Body"]), attributes


def test_without_permission_to_invoke_the_event_goes_to_the_targets_dead_letter_queue(
    deployed, aws_endpoint
):
    rule_arn = deployed.rule(GUARDDUTY, permitted=False)

    async def scenario() -> tuple[dict[str, Any], list[Any]]:
        async with serving(deployed, aws_endpoint) as served:
            return await served.put(guardduty_entry()), served.delivered()

    answer, delivered = run(scenario)

    assert delivered == []
    event, attributes = dead_letter(deployed)
    assert event["id"] == answer["Entries"][0]["EventId"]
    assert attributes["ERROR_CODE"] == "NO_PERMISSIONS"
    assert (attributes["RULE_ARN"], attributes["TARGET_ARN"]) == (rule_arn, deployed.function_arn)
    assert deployed.messages(deployed.failures) == []


def test_a_permission_for_another_rule_does_not_let_this_rule_invoke(deployed, aws_endpoint):
    deployed.rule({"source": ["elsewhere"]}, name="other")
    deployed.rule(GUARDDUTY, permitted=False)

    async def scenario() -> list[Any]:
        async with serving(deployed, aws_endpoint) as served:
            await served.put(guardduty_entry())
            return served.delivered()

    assert run(scenario) == []
    assert dead_letter(deployed)[1]["ERROR_CODE"] == "NO_PERMISSIONS"


def test_a_function_that_is_not_deployed_sends_the_event_to_the_dead_letter_queue(
    deployed, aws_endpoint
):
    deployed.rule(GUARDDUTY)

    async def scenario() -> list[Any]:
        async with serving(deployed, aws_endpoint, functions=()) as served:
            await served.put(guardduty_entry())
            return served.delivered()

    assert run(scenario) == []
    assert dead_letter(deployed)[1]["ERROR_CODE"] == "NO_RESOURCE"
