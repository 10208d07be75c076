"""The authorizer's answer to API Gateway: an IAM policy on the `$connect` method ARN.

Context values must be strings, numbers or booleans; `$connect` reads them from
`requestContext.authorizer`.
"""

from __future__ import annotations

from typing import Any

from incident_ws.account_scope import ALL_ACCOUNTS


def allow(principal_id: str, method_arn: str, accounts: str) -> dict[str, Any]:
    return {
        **_policy(principal_id, "Allow", method_arn),
        "context": {"principalId": principal_id, "accounts": accounts},
    }


def deny(principal_id: str, method_arn: str) -> dict[str, Any]:
    return _policy(principal_id, "Deny", method_arn)


def _policy(principal_id: str, effect: str, method_arn: str) -> dict[str, Any]:
    return {
        "principalId": principal_id,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {"Action": "execute-api:Invoke", "Effect": effect, "Resource": method_arn}
            ],
        },
    }


def allows(answer: dict[str, Any]) -> bool:
    """Whether an answer built here is an Allow."""
    return answer["policyDocument"]["Statement"][0]["Effect"] == "Allow"


def scoped(answer: dict[str, Any]) -> bool:
    """Whether an Allow limits its principal to a list of accounts."""
    return answer.get("context", {}).get("accounts") != ALL_ACCOUNTS
