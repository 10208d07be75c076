"""The CPU the functions sized for latency cost, each in a fresh process: `connect` and
`disconnect` (init, first call, warm call), `replay` and `findings` (init only).

    python -m dev.bench.handler_cpu [--calls 300] [--cold-starts 5]

Starts moto (`dev/emulator/moto_server.py`) with one connections table and, per function and
cold start, a process that extracts the packaged zip (functions/dist/<name>.zip) and imports
`handler` (what Lambda's init phase runs: configuration read, clients created); `connect` and
`disconnect` then make a first call and `--calls` warm calls, each writing the table (a
`$connect` puts a row, a `$disconnect` deletes one). It prints the process CPU time of each
phase (median over the cold starts): on a full core, which dev/bench/sizing.py scales to a
function's CPU share.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import os
import statistics
import sys
import tempfile
import time
import zipfile
from typing import Any

import boto3

from dev.harness.connections_table import create_connections_table
from dev.harness.moto import start_moto
from dev.harness.paths import BUILD_DIR, FUNCTION_PACKAGES_DIR
from dev.harness.processes import run_module

LOG_DIR = BUILD_DIR / "bench"
REGION = "us-east-1"
TABLE = "handler-cpu-connections"
CALLED = ("connect", "disconnect")
FUNCTIONS = (*CALLED, "replay", "findings")


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


def worker(function: str, calls: int) -> None:
    """In the fresh process: import, first call, warm calls; one JSON line of CPU ms."""
    logging.basicConfig(level=logging.INFO, handlers=[logging.NullHandler()])
    code_dir = tempfile.mkdtemp(prefix=f"{function}-cpu-")
    with zipfile.ZipFile(FUNCTION_PACKAGES_DIR / f"{function}.zip") as archive:
        archive.extractall(code_dir)
    sys.path.insert(0, code_dir)
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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--cold-starts", type=int, default=5)
    parser.add_argument("--worker", choices=FUNCTIONS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args.worker, args.calls)
        return

    LOG_DIR.mkdir(parents=True, exist_ok=True)
    with start_moto(LOG_DIR / "handler-cpu-moto.log") as moto:
        client = boto3.client(
            "dynamodb",
            endpoint_url=moto.url,
            region_name=REGION,
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )
        create_connections_table(client, TABLE)
        env = {
            **os.environ,
            "AWS_ENDPOINT_URL": moto.url,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "CONNECTIONS_TABLE": TABLE,
            "CHANNEL_NAME": "bench",
            "AUTHORIZATION_TYPE": "none",
            "MESSAGES_TABLE": "handler-cpu-messages",
            "MANAGEMENT_ENDPOINT": "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/prod",
            "INCIDENT_TABLE": "Incident",
        }
        print("| function | init ms | first call ms | warm call ms | cold starts |")
        print("|---|--:|--:|--:|--:|")
        for function in FUNCTIONS:
            runs = []
            for _ in range(args.cold_starts):
                result = run_module(
                    ["dev.bench.handler_cpu", "--worker", function, "--calls", str(args.calls)],
                    env=env,
                    stderr=LOG_DIR / f"handler-cpu-{function}.log",
                )
                if result.returncode != 0:
                    sys.exit(f"{function} failed; see {LOG_DIR}/handler-cpu-{function}.log")
                runs.append(json.loads(result.stdout.strip().splitlines()[-1]))
            medians = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
            first = f"{medians['first_call_ms']:.1f}" if function in CALLED else "—"
            warm = f"{medians['warm_call_ms']:.2f}" if function in CALLED else "—"
            print(f"| {function} | {medians['init_ms']:.1f} | {first} | {warm} | {len(runs)} |")


if __name__ == "__main__":
    main()
