"""API Gateway WebSocket `$connect` / `$disconnect` events as Lambda receives them."""

from __future__ import annotations

import time
from typing import Any

API_ID = "a1b2c3d4e5"
STAGE = "prod"
REGION = "us-east-1"
DOMAIN = f"{API_ID}.execute-api.{REGION}.amazonaws.com"


def _request_context(
    connection_id: str, route_key: str, event_type: str, source_ip: str | None, now_ms: int
) -> dict[str, Any]:
    return {
        "routeKey": route_key,
        "eventType": event_type,
        "extendedRequestId": "Qp4LZGtCIAMFhMw=",
        "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now_ms / 1000)),
        "messageDirection": "IN",
        "stage": STAGE,
        "connectedAt": now_ms,
        "requestTimeEpoch": now_ms,
        "identity": {"userAgent": "Mozilla/5.0", "sourceIp": source_ip},
        "requestId": "Qp4LZGtCIAMFhMw=",
        "domainName": DOMAIN,
        "connectionId": connection_id,
        "apiId": API_ID,
    }


def connect_event(
    connection_id: str = "Qp4LZeMqoAMCJ-Q=",
    query: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    source_ip: str | None = "203.0.113.10",
    authorizer: dict[str, Any] | None = None,
    identity: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """`query=None` gives `"queryStringParameters": null`, as API Gateway sends it.

    `authorizer` is what a Lambda authorizer's Allow puts into `requestContext.authorizer`
    (its context plus `principalId`); `identity` adds to `requestContext.identity`, e.g. the
    `userArn` of a SigV4-signed handshake on an `AWS_IAM` route.
    """
    now_ms = int(time.time() * 1000)
    all_headers = {
        "Host": DOMAIN,
        "Sec-WebSocket-Extensions": "permessage-deflate; client_max_window_bits",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version": "13",
        "User-Agent": "Mozilla/5.0",
        "X-Amzn-Trace-Id": "Root=1-5f8d2b1e-0123456789abcdef01234567",
        "X-Forwarded-For": "203.0.113.10",
        "X-Forwarded-Port": "443",
        "X-Forwarded-Proto": "https",
    }
    all_headers.update(headers or {})
    all_headers = {k: v for k, v in all_headers.items() if v is not None}
    context = _request_context(connection_id, "$connect", "CONNECT", source_ip, now_ms)
    context["identity"].update(identity or {})
    if authorizer is not None:
        context["authorizer"] = authorizer
    return {
        "headers": all_headers,
        "multiValueHeaders": {k: [v] for k, v in all_headers.items()},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": (
            {k: [v] for k, v in query.items()} if query is not None else None
        ),
        "requestContext": context,
        "isBase64Encoded": False,
    }


def disconnect_event(
    connection_id: str = "Qp4LZeMqoAMCJ-Q=",
    status_code: int = 1001,
    reason: str = "Going away",
) -> dict[str, Any]:
    now_ms = int(time.time() * 1000)
    headers = {"Host": DOMAIN, "x-api-key": "", "x-restapi": ""}
    context = _request_context(connection_id, "$disconnect", "DISCONNECT", "203.0.113.10", now_ms)
    context.update(disconnectStatusCode=status_code, disconnectReason=reason)
    return {
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "requestContext": context,
        "isBase64Encoded": False,
    }


def route_event(
    connection_id: str,
    body: Any,
    route_key: str = "replay",
    api_id: str = API_ID,
    stage: str = STAGE,
) -> dict[str, Any]:
    """A frame a client sent on a channel's route (`{"action": "replay", ...}`): `body` as
    API Gateway passes it, the frame's text."""
    now_ms = int(time.time() * 1000)
    context = _request_context(connection_id, route_key, "MESSAGE", "203.0.113.10", now_ms)
    context.update(messageId="Qp4LZdGcIAMCIeg=", apiId=api_id, stage=stage)
    context["domainName"] = f"{api_id}.execute-api.{REGION}.amazonaws.com"
    return {"requestContext": context, "body": body, "isBase64Encoded": False}


def schedule_event() -> dict[str, Any]:
    """An EventBridge scheduled event (the heartbeat's trigger)."""
    return {
        "version": "0",
        "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "region": REGION,
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/incident-ws-heartbeat"],
        "detail": {},
    }
