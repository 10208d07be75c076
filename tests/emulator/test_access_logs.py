"""Stage access logs: the deployed format filled per request, written to CloudWatch Logs."""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import replace
from typing import Any

import pytest
import websockets
from websockets.asyncio.client import connect

from dev.emulator.access_logs import AccessLogWriter, render
from dev.emulator.control_plane import AccessLogSettings, RequestAuthorizer, RouteAuthorization

from .conftest import REGION
from .served_stage import STAGE, run, serving

LOG_GROUP = "/aws/apigateway/chat-prod"
FORMAT = json.dumps(
    {
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
)
LOGGED = replace(
    STAGE,
    access_log=AccessLogSettings(
        f"arn:aws:logs:{REGION}:123456789012:log-group:{LOG_GROUP}", FORMAT
    ),
    connect_authorization=RouteAuthorization(
        "CUSTOM", RequestAuthorizer("auth01", "jwt", "authorizer")
    ),
)


def test_every_context_variable_is_replaced_and_an_unknown_one_is_a_dash():
    line = render(
        '$context.requestId $context.identity.sourceIp "$context.nope" $context.status',
        {"requestId": "r1", "identity.sourceIp": "192.0.2.1", "status": 200},
    )

    assert line == 'r1 192.0.2.1 "-" 200'


def test_an_empty_value_is_a_dash():
    assert render("[$context.error.message]", {"error.message": ""}) == "[-]"


def test_the_log_group_is_the_name_in_the_destination_arn():
    settings = AccessLogSettings(f"arn:aws:logs:{REGION}:123456789012:log-group:/a/b:*", "x")

    assert settings.log_group == "/a/b"


def serving_with_log(respond):
    lines: list[tuple[str, dict[str, Any]]] = []
    served = serving(
        respond,
        stage=LOGGED,
        access_log=lambda group, line: lines.append((group, json.loads(line))),
    )
    return served, lines


def allowing(name: str, event: Any) -> Any:
    if name == "authorizer":
        statement = {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": "*"}
        return {
            "principalId": "analyst",
            "policyDocument": {"Version": "2012-10-17", "Statement": [statement]},
            "context": {"principalId": "analyst", "accounts": "*"},
        }
    return {"statusCode": 200}


def test_connect_message_and_disconnect_each_write_one_line_in_the_stage_format():
    served, lines = serving_with_log(allowing)

    async def scenario() -> None:
        async with served as api:
            async with connect(api.ws_url, user_agent_header="soc/1") as client:
                await client.send(json.dumps({"action": "echo"}))
                async with asyncio.timeout(5):
                    while len(lines) < 2:
                        await asyncio.sleep(0.01)
            await api.disconnects()
            (connect_event,) = api.invoke.events_of("connect")
            context = connect_event["requestContext"]

            assert [group for group, _ in lines] == [LOG_GROUP] * 3
            connected, message, disconnected = (line for _, line in lines)
            assert connected == {
                "requestId": context["requestId"],
                "time": context["requestTime"],
                "epochMs": str(context["requestTimeEpoch"]),
                "eventType": "CONNECT",
                "routeKey": "$connect",
                "connectionId": context["connectionId"],
                "sourceIp": "127.0.0.1",
                "userAgent": "soc/1",
                "principal": "analyst",
                "accounts": "*",
                "userArn": "-",
                "status": "200",
                "error": "-",
                "authorizerError": "-",
            }
            assert (message["eventType"], message["routeKey"]) == ("MESSAGE", "echo")
            assert (disconnected["eventType"], disconnected["principal"]) == (
                "DISCONNECT",
                "analyst",
            )
            assert {message["connectionId"], disconnected["connectionId"]} == {
                context["connectionId"]
            }

    run(scenario)


def test_a_refused_connect_is_logged_with_its_status_and_error():
    def unauthorized(name: str, event: Any) -> Any:
        raise Exception("Unauthorized")

    served, lines = serving_with_log(unauthorized)

    async def scenario() -> None:
        async with served as api:
            with pytest.raises(websockets.InvalidStatus):
                async with connect(api.ws_url):
                    pass
            ((_, line),) = lines
            assert (line["status"], line["error"]) == ("401", "Unauthorized")
            assert line["authorizerError"] == "Unauthorized"
            assert line["principal"] == "-"

    run(scenario)


def write_then_stop(
    logs: Any, lines: list[tuple[str, str]], flush_interval: float, running: float
) -> None:
    """Run a writer, queue `lines`, let it run for `running` seconds, then stop it."""

    async def scenario() -> None:
        writer = AccessLogWriter(lambda: logs, flush_interval=flush_interval)
        task = asyncio.create_task(writer.run())
        for group, line in lines:
            writer.write(group, line)
        await asyncio.sleep(running)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    run(scenario)


def test_the_writer_puts_the_lines_into_the_log_group(aws_client):
    logs = aws_client("logs")
    logs.create_log_group(logGroupName=LOG_GROUP)
    lines = [
        (LOG_GROUP, '{"eventType":"CONNECT"}'),
        ("/aws/apigateway/not-created", "dropped"),
        (LOG_GROUP, '{"eventType":"DISCONNECT"}'),
    ]

    write_then_stop(logs, lines, flush_interval=0.01, running=0.1)

    events = logs.filter_log_events(logGroupName=LOG_GROUP)["events"]
    assert [event["message"] for event in events] == [
        '{"eventType":"CONNECT"}',
        '{"eventType":"DISCONNECT"}',
    ]


def test_lines_queued_when_the_writer_stops_are_still_written(aws_client):
    logs = aws_client("logs")
    logs.create_log_group(logGroupName=LOG_GROUP)

    write_then_stop(logs, [(LOG_GROUP, "last words")], flush_interval=60, running=0.01)

    events = logs.filter_log_events(logGroupName=LOG_GROUP)["events"]
    assert [event["message"] for event in events] == ["last words"]
