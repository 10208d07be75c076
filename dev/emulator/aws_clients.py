"""boto3 clients of the AWS API emulator that holds the deployment."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
from botocore.config import Config

from dev.emulator import EMULATOR_CREDENTIALS


def aws_clients(
    aws_endpoint: str, region: str, config: Config | None = None
) -> Callable[[str], Any]:
    """A factory of clients (`aws_clients(url, region)("sqs")`) that all talk to `aws_endpoint`."""
    session = boto3.session.Session(
        aws_access_key_id=EMULATOR_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=EMULATOR_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        region_name=region,
    )
    return lambda service: session.client(service, endpoint_url=aws_endpoint, config=config)
