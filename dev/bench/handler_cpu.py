"""The CPU the functions sized for latency cost, each in a fresh process: `connect` and
`disconnect` (init, first call, warm call), `replay` and `findings` (init only).

    python -m dev.bench.handler_cpu [--calls 300] [--cold-starts 5]

Starts moto (`dev/emulator/moto_server.py`) with one connections table and, per function and
cold start, a process (handler_cpu_worker.py) that extracts the packaged zip
(functions/dist/<name>.zip) and imports `handler` (what Lambda's init phase runs: its imports,
configuration read, clients created); `connect` and `disconnect` then make a first call and
`--calls` warm calls, each writing the table (a `$connect` puts a row, a `$disconnect` deletes
one). It prints the process CPU time of each phase (median over the cold starts): on a full
core, which dev/bench/sizing.py scales to a function's CPU share.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys

import boto3

from dev.harness.connections_table import create_connections_table
from dev.harness.moto import start_moto
from dev.harness.paths import BUILD_DIR
from dev.harness.processes import run_module

LOG_DIR = BUILD_DIR / "bench"
REGION = "us-east-1"
TABLE = "handler-cpu-connections"
FUNCTIONS = ("connect", "disconnect", "replay", "findings")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--cold-starts", type=int, default=5)
    args = parser.parse_args(argv)

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
                    ["dev.bench.handler_cpu_worker", function, "--calls", str(args.calls)],
                    env=env,
                    stderr=LOG_DIR / f"handler-cpu-{function}.log",
                )
                if result.returncode != 0:
                    sys.exit(f"{function} failed; see {LOG_DIR}/handler-cpu-{function}.log")
                runs.append(json.loads(result.stdout.strip().splitlines()[-1]))
            medians = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
            first = f"{medians['first_call_ms']:.1f}" if "first_call_ms" in medians else "—"
            warm = f"{medians['warm_call_ms']:.2f}" if "warm_call_ms" in medians else "—"
            print(f"| {function} | {medians['init_ms']:.1f} | {first} | {warm} | {len(runs)} |")


if __name__ == "__main__":
    main()
