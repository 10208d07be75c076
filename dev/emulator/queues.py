"""Send to an SQS queue named by its ARN, as AWS services do for destinations and dead letters."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from typing import Any


def is_queue_arn(arn: str | None) -> bool:
    return bool(arn) and arn.startswith("arn:") and arn.split(":")[2:3] == ["sqs"]


async def send_to_queue(
    sqs: Any, queue_arn: str, body: Any, attributes: Mapping[str, str] | None = None
) -> None:
    """Send `body` (JSON-encoded unless it is a string) with string message attributes.

    `arn:aws:sqs:<region>:<account>:<name>`; `sqs` is a boto3 client of the AWS API emulator.
    """
    _, _, _, _, account, queue_name = queue_arn.split(":", 5)
    response = await asyncio.to_thread(
        sqs.get_queue_url, QueueName=queue_name, QueueOwnerAWSAccountId=account
    )
    message: dict[str, Any] = {
        "QueueUrl": response["QueueUrl"],
        "MessageBody": body if isinstance(body, str) else json.dumps(body),
    }
    if attributes:
        message["MessageAttributes"] = {
            name: {"DataType": "String", "StringValue": value} for name, value in attributes.items()
        }
    await asyncio.to_thread(lambda: sqs.send_message(**message))
