"""API Gateway WebSocket REQUEST authorizer events for `$connect`, as Lambda receives them.

The shape is the `$connect` event's (tests/support/events.py) plus `type` and `methodArn`,
as in the API Gateway guide's example of a WebSocket REQUEST authorizer input.
"""

from __future__ import annotations

from typing import Any

from tests.support.events import API_ID, REGION, STAGE, connect_event

ACCOUNT_ID = "123456789012"
METHOD_ARN = f"arn:aws:execute-api:{REGION}:{ACCOUNT_ID}:{API_ID}/{STAGE}/$connect"


def authorizer_event(
    token: str | None = None,
    query: dict[str, str] | None = None,
    headers: dict[str, str | None] | None = None,
    connection_id: str = "Qp4LZeMqoAMCJ-Q=",
) -> dict[str, Any]:
    """`token` goes into the `token` query parameter; `query` and `headers` add to it."""
    query = {**(query or {}), **({"token": token} if token is not None else {})}
    event = connect_event(connection_id, query=query or None, headers=headers)
    event["stageVariables"] = None
    return {"type": "REQUEST", "methodArn": METHOD_ARN, **event}


def allow_policy(principal_id: str, accounts: str = "*") -> dict[str, Any]:
    return {
        "principalId": principal_id,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": METHOD_ARN}
            ],
        },
        "context": {"principalId": principal_id, "accounts": accounts},
    }


def deny_policy(principal_id: str) -> dict[str, Any]:
    return {
        "principalId": principal_id,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {"Action": "execute-api:Invoke", "Effect": "Deny", "Resource": METHOD_ARN}
            ],
        },
    }
