"""Build the events API Gateway (WebSocket) and EventBridge (schedules, rules) send to Lambda."""

from __future__ import annotations

import base64
import json
import secrets
import string
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

_ID_ALPHABET = string.ascii_letters + string.digits


def new_connection_id() -> str:
    """An id shaped like API Gateway's connection and request ids, e.g. `Ls0hLcRJoAMCKBA=`.

    Letters and digits only, so that it is safe in a URL path even when a client does not
    percent-encode it.
    """
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(15)) + "="


new_request_id = new_connection_id


@dataclass(frozen=True)
class ConnectionInfo:
    """What API Gateway remembers about a connection and repeats in every event.

    `caller` holds the IAM identity fields of a SigV4-signed `$connect` (`userArn`,
    `accessKey`, ...), `authorizer` what its Lambda authorizer allowed (the returned `context`
    plus `principalId`); both reach `requestContext` of every event of the connection.
    """

    connection_id: str
    api_id: str
    stage: str
    domain_name: str
    source_ip: str
    user_agent: str | None
    connected_at_ms: int
    caller: Mapping[str, str] | None = None
    authorizer: Mapping[str, Any] | None = None


def _request_time(epoch_ms: int) -> str:
    return datetime.fromtimestamp(epoch_ms / 1000, UTC).strftime("%d/%b/%Y:%H:%M:%S +0000")


def _request_context(
    info: ConnectionInfo, route_key: str, event_type: str, now_ms: int
) -> dict[str, Any]:
    request_id = new_request_id()
    context: dict[str, Any] = {
        "routeKey": route_key,
        "eventType": event_type,
        "extendedRequestId": request_id,
        "requestTime": _request_time(now_ms),
        "messageDirection": "IN",
        "stage": info.stage,
        "connectedAt": info.connected_at_ms,
        "requestTimeEpoch": now_ms,
        "identity": {
            "userAgent": info.user_agent,
            "sourceIp": info.source_ip,
            **(info.caller or {}),
        },
        "requestId": request_id,
        "domainName": info.domain_name,
        "connectionId": info.connection_id,
        "apiId": info.api_id,
    }
    if info.authorizer is not None:
        context["authorizer"] = dict(info.authorizer)
    return context


def _multi_value(pairs: Iterable[tuple[str, str]]) -> tuple[dict[str, str], dict[str, list[str]]]:
    """API Gateway's two views of repeated keys: the last value, and all values."""
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for key, value in pairs:
        single[key] = value
        multi.setdefault(key, []).append(value)
    return single, multi


def connect_event(
    info: ConnectionInfo,
    headers: Iterable[tuple[str, str]],
    query: Iterable[tuple[str, str]],
    now_ms: int | None = None,
) -> dict[str, Any]:
    now_ms = now_ms if now_ms is not None else int(time.time() * 1000)
    single_headers, multi_headers = _multi_value(headers)
    single_query, multi_query = _multi_value(query)
    event: dict[str, Any] = {
        "headers": single_headers,
        "multiValueHeaders": multi_headers,
        "requestContext": _request_context(info, "$connect", "CONNECT", now_ms),
        "isBase64Encoded": False,
    }
    # API Gateway omits the query keys entirely on a URL without a query string.
    if single_query:
        event["queryStringParameters"] = single_query
        event["multiValueQueryStringParameters"] = multi_query
    else:
        event["queryStringParameters"] = None
    return event


def authorizer_request_event(
    connect: Mapping[str, Any], method_arn: str, stage_variables: Mapping[str, str]
) -> dict[str, Any]:
    """The REQUEST authorizer's input for a `$connect` event: the same request (headers,
    query, request context) with `type`, `methodArn` and `stageVariables`."""
    event = {
        "type": "REQUEST",
        "methodArn": method_arn,
        "headers": connect["headers"],
        "multiValueHeaders": connect["multiValueHeaders"],
        "queryStringParameters": connect["queryStringParameters"],
    }
    if "multiValueQueryStringParameters" in connect:
        event["multiValueQueryStringParameters"] = connect["multiValueQueryStringParameters"]
    event["stageVariables"] = dict(stage_variables)
    event["requestContext"] = {
        key: value for key, value in connect["requestContext"].items() if key != "authorizer"
    }
    return event


def connect_authorizer_event(
    method_arn: str,
    headers: Iterable[tuple[str, str]],
    query: Iterable[tuple[str, str]],
    source_ip: str = "127.0.0.1",
) -> dict[str, Any]:
    """The event a `$connect` REQUEST authorizer receives for a new connection to the API stage
    of `method_arn` (`arn:aws:execute-api:{region}:{account}:{api-id}/{stage}/$connect`)."""
    region = method_arn.split(":")[3]
    api_id, stage = method_arn.split(":")[5].split("/")[:2]
    host = f"{api_id}.execute-api.{region}.amazonaws.com"
    headers = [*headers, ("Host", host)]
    user_agent = next((v for k, v in headers if k.lower() == "user-agent"), None)
    now_ms = int(time.time() * 1000)
    info = ConnectionInfo(new_connection_id(), api_id, stage, host, source_ip, user_agent, now_ms)
    return authorizer_request_event(connect_event(info, headers, query, now_ms), method_arn, {})


def disconnect_event(
    info: ConnectionInfo, status_code: int, reason: str, now_ms: int | None = None
) -> dict[str, Any]:
    now_ms = now_ms if now_ms is not None else int(time.time() * 1000)
    context = _request_context(info, "$disconnect", "DISCONNECT", now_ms)
    context["disconnectStatusCode"] = status_code
    context["disconnectReason"] = reason
    headers = {"Host": info.domain_name, "X-Forwarded-For": info.source_ip}
    return {
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "requestContext": context,
        "isBase64Encoded": False,
    }


def message_event(
    info: ConnectionInfo, route_key: str, body: str | bytes, now_ms: int | None = None
) -> dict[str, Any]:
    """A client message; a binary frame arrives base64-encoded, as API Gateway passes it."""
    now_ms = now_ms if now_ms is not None else int(time.time() * 1000)
    context = _request_context(info, route_key, "MESSAGE", now_ms)
    context["messageId"] = new_request_id()
    if isinstance(body, bytes):
        return {
            "requestContext": context,
            "body": base64.b64encode(body).decode(),
            "isBase64Encoded": True,
        }
    return {"requestContext": context, "body": body, "isBase64Encoded": False}


def select_route(expression: str, body: str | bytes, route_keys: Iterable[str]) -> str | None:
    """Evaluate a `$request.body.<path>` route selection expression, falling back to `$default`."""
    keys = set(route_keys)
    prefix = "$request.body."
    selected: Any = None
    if expression.startswith(prefix):
        try:
            selected = json.loads(body)
        except ValueError:
            selected = None
        for part in expression.removeprefix(prefix).split("."):
            selected = selected.get(part) if isinstance(selected, Mapping) else None
    if isinstance(selected, str) and selected in keys:
        return selected
    return "$default" if "$default" in keys else None


def bus_event(
    *,
    event_id: str,
    source: str,
    detail_type: str,
    detail: Any,
    account: str,
    region: str,
    when: datetime,
    resources: Iterable[str] = (),
) -> dict[str, Any]:
    """An event as EventBridge delivers it to a rule's targets (its envelope and `detail`)."""
    return {
        "version": "0",
        "id": event_id,
        "detail-type": detail_type,
        "source": source,
        "account": account,
        "time": when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": list(resources),
        "detail": detail,
    }


def scheduled_event(rule_arn: str, region: str, when: datetime) -> dict[str, Any]:
    account = rule_arn.split(":")[4] if rule_arn.count(":") >= 5 else "000000000000"
    return bus_event(
        event_id=str(uuid.uuid4()),
        source="aws.events",
        detail_type="Scheduled Event",
        detail={},
        account=account,
        region=region,
        when=when,
        resources=[rule_arn],
    )
