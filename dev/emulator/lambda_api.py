"""Lambda's `Invoke` API (`POST /2015-03-31/functions/{name}/invocations`) for the deployed
functions, and every other Lambda API call passed on to the AWS API emulator.

The function may be named by name, ARN or partial ARN (`123456789012:function:name`), with no
qualifier or `$LATEST` (the only version the emulator runs). `X-Amz-Invocation-Type`:
`RequestResponse` (default) runs it and answers 200 with its result, or with its error and
`X-Amz-Function-Error: Unhandled`; `Event` queues it (`async_invocations.py`: retries,
destinations) and answers 202; `DryRun` answers 204. A `RequestResponse` invocation made while
the function already runs as many invocations as its concurrency limit allows
(`lambda_runner.py`) is a 429 `TooManyRequestsException` with its `Reason`, and does not run. An
unknown function is a 404 `ResourceNotFoundException`, a payload that is not JSON a 400
`InvalidRequestContentException`, one over 6 MB (1 MB for `Event`) a 413
`RequestTooLargeException`; an empty payload is `{}`.
Not emulated: `X-Amz-Log-Type: Tail`, client context, versions and aliases.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from dev.emulator.async_invocations import AsyncInvoker
from dev.emulator.aws_proxy import AwsProxy
from dev.emulator.control_plane import DeployedFunction
from dev.emulator.lambda_runner import Invoke
from dev.emulator.quotas import ASYNC_INVOKE_PAYLOAD_BYTES, SYNC_INVOKE_PAYLOAD_BYTES

INVOKE_PATH = "/2015-03-31/functions/{function}/invocations"
API_VERSION_PATHS = r"/{version:\d{4}-\d{2}-\d{2}}/{rest:.*}"
LATEST = "$LATEST"


def lambda_error(status: int, error_type: str, message: str, **fields: str) -> web.Response:
    return web.json_response(
        {"Type": "User", "message": message, **fields},
        status=status,
        headers={"x-amzn-ErrorType": error_type},
    )


def function_name_of(reference: str, qualifier: str | None) -> tuple[str, str | None]:
    """A function reference of `Invoke` → its name and qualifier (None when none is given)."""
    parts = reference.split(":")
    if parts[0] == "arn":  # arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]
        parts = parts[6:]
    elif len(parts) > 1 and parts[1] == "function":  # <account>:function:<name>[:<qualifier>]
        parts = parts[2:]
    name = parts[0] if parts else ""
    return name, parts[1] if len(parts) > 1 else qualifier


class LambdaApi:
    def __init__(
        self,
        invoke: Invoke,
        async_invoker: AsyncInvoker,
        functions: Mapping[str, DeployedFunction],
    ) -> None:
        self._invoke = invoke
        self._async = async_invoker
        self._functions = functions

    async def invoke(self, request: web.Request) -> web.Response:
        name, qualifier = function_name_of(
            request.match_info["function"], request.query.get("Qualifier")
        )
        if name not in self._functions or qualifier not in (None, LATEST):
            return lambda_error(
                404,
                "ResourceNotFoundException",
                f"Function not found: {request.match_info['function']}",
            )
        invocation_type = request.headers.get("X-Amz-Invocation-Type", "RequestResponse")
        if invocation_type not in ("RequestResponse", "Event", "DryRun"):
            return lambda_error(
                400, "InvalidParameterValueException", f"Invalid InvocationType {invocation_type}"
            )
        payload = await request.read()
        limit = (
            ASYNC_INVOKE_PAYLOAD_BYTES if invocation_type == "Event" else SYNC_INVOKE_PAYLOAD_BYTES
        )
        if len(payload) > limit:
            return lambda_error(
                413,
                "RequestTooLargeException",
                f"Request must be smaller than {limit} bytes for the Invoke operation",
            )
        try:
            event = json.loads(payload) if payload.strip() else {}
        except ValueError as error:
            return lambda_error(
                400,
                "InvalidRequestContentException",
                f"Could not parse request body into json: {error}",
            )
        if invocation_type == "DryRun":
            return web.Response(status=204)
        if invocation_type == "Event":
            request_id = self._async.submit(name, event)
            return web.Response(status=202, headers={"X-Amzn-RequestId": request_id})
        return await self._run(name, event)

    async def _run(self, name: str, event: Any) -> web.Response:
        invocation = await self._invoke(name, event)
        if invocation.throttled:
            assert invocation.error is not None
            return lambda_error(
                429,
                invocation.error["errorType"],
                invocation.error["errorMessage"],
                Reason=invocation.error["Reason"],
            )
        headers = {"X-Amz-Executed-Version": LATEST, "X-Amzn-RequestId": invocation.request_id}
        if not invocation.ok:
            headers["X-Amz-Function-Error"] = "Unhandled"
            body = invocation.error
        else:
            body = invocation.result
        return web.Response(
            status=200,
            body=json.dumps(body).encode(),
            headers=headers,
            content_type="application/json",
        )


def lambda_routes(api: LambdaApi, proxy: AwsProxy) -> list[web.RouteDef]:
    """`Invoke`, then every other versioned Lambda path to the AWS API emulator."""
    return [web.post(INVOKE_PATH, api.invoke), web.route("*", API_VERSION_PATHS, proxy.forward)]
