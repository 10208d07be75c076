"""One cold start of a packaged function, in a fresh process, timed in process CPU:

    python -m dev.bench.handler_cpu_worker connect --calls 300

It imports nothing but the standard library before it times `import handler`, so that the
handler's own imports (boto3 among them) count, as they do in Lambda's init phase.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import sys
import time
from typing import Any

from dev.bench.lambda_package import unpack_onto_path
from dev.harness.paths import FUNCTION_PACKAGES_DIR

# Called after their init; the others are only imported.
CALLED = ("connect", "disconnect")


def _event(route_key: str, connection_id: str) -> dict[str, Any]:
    now_ms = int(time.time() * 1000)
    context = {
        "routeKey": route_key,
        "eventType": route_key.strip("$").upper(),
        "stage": "prod",
        "connectedAt": now_ms,
        "requestTimeEpoch": now_ms,
        "identity": {"userAgent": "Mozilla/5.0", "sourceIp": "203.0.113.10"},
        "requestId": "Qp4LZGtCIAMFhMw=",
        "domainName": "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com",
        "connectionId": connection_id,
        "apiId": "a1b2c3d4e5",
    }
    if route_key == "$disconnect":
        context.update(disconnectStatusCode=1001, disconnectReason="Going away")
    headers = {"Host": context["domainName"], "User-Agent": "Mozilla/5.0"}
    return {
        "headers": headers,
        "queryStringParameters": {"clientId": "bench", "account": "111122223333"},
        "requestContext": context,
        "isBase64Encoded": False,
    }


def main(argv: list[str] | None = None) -> None:
    """Import, first call, warm calls; one JSON line of CPU ms."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("function", help="a package in functions/dist, e.g. connect")
    parser.add_argument("--calls", type=int, default=0, help="warm calls after the first")
    args = parser.parse_args(argv)
    function, calls = args.function, args.calls
    logging.basicConfig(level=logging.INFO, handlers=[logging.NullHandler()])
    unpack_onto_path(FUNCTION_PACKAGES_DIR / f"{function}.zip")
    route = "$connect" if function == "connect" else "$disconnect"

    started = time.process_time()
    handler = importlib.import_module("handler")
    imported = time.process_time()
    if function not in CALLED:
        print(json.dumps({"init_ms": (imported - started) * 1000}))
        return
    handler.handler(_event(route, "first"), None)
    first = time.process_time()
    for number in range(calls):
        answer = handler.handler(_event(route, f"c{number}"), None)
        if answer.get("statusCode") != 200:
            sys.exit(f"call {number} answered {answer}")
    warm = time.process_time()
    print(
        json.dumps(
            {
                "init_ms": (imported - started) * 1000,
                "first_call_ms": (first - imported) * 1000,
                "warm_call_ms": (warm - first) * 1000 / max(1, calls),
            }
        )
    )


if __name__ == "__main__":
    main()
