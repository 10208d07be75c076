"""`make bench`: broadcast one incident to N connections, stream_processor against the seed.

Starts a moto server and the fake `@connections` server (20 ms per post), each in its own
process; for every N fills a connections table, then times the seed's sequential loop and the
packaged `stream_processor` on the same rows, checking that every connection received exactly
one copy; sweeps MAX_CONCURRENCY at the largest N; writes dev/bench/results.md and prints it.

    python -m dev.bench.run [--sizes "1000 10000"] [--concurrency "8 16 32 64 128"] [--repeats 3]

BENCH_SIZES and BENCH_CONCURRENCY in the environment set the defaults of the two lists.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import boto3

from dev.bench import dataset, report
from dev.bench.delivery import DeliveryError, ReceivedCounts
from dev.bench.report import HANDLER, SEQUENTIAL, Measurement
from dev.bench.servers import ServerError, fake_connections_api, moto_server

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "functions" / "dist" / "stream_processor.zip"
RESULTS = REPO / "bench" / "results.md"
LOG_DIR = REPO / ".build" / "bench"
LATENCY_MS = 20
STAGE = "prod"
CHANNEL = "history"
REGION = "us-east-1"


class BenchError(RuntimeError):
    """A run failed; the message says which and where its log is."""


class Bench:
    """The running servers, the event, and how to time one implementation against them."""

    def __init__(self, moto_url: str, fake_url: str, package: Path, repeats: int) -> None:
        self.package = package
        self.repeats = repeats
        self.endpoint = f"{fake_url}/{STAGE}"
        self.received = ReceivedCounts(fake_url)
        self.env = _aws_environment(moto_url)
        session = boto3.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
        )
        self.dynamodb = session.resource("dynamodb", endpoint_url=moto_url)
        streams = session.client("dynamodbstreams", endpoint_url=moto_url)
        self.event = LOG_DIR / "event.json"
        self.event.write_text(json.dumps(dataset.incident_insert_event(self.dynamodb, streams)))

    def connections(self, count: int) -> tuple[str, list[str]]:
        """A new table of `count` live connections: its name and the connection ids."""
        table = f"bench-connections-{count}"
        rows = dataset.connection_rows(count)
        dataset.create_connections_table(self.dynamodb, table, rows)
        return table, [row["connectionId"] for row in rows]

    def scan_seconds(self, table: str, repeats: int = 3) -> float:
        """How long moto alone takes to serve a paginated Scan of the attributes routing reads."""
        pages = self.dynamodb.meta.client.get_paginator("scan")
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            for _page in pages.paginate(
                TableName=table,
                ProjectionExpression="connectionId, account, #region, #ttl",
                ExpressionAttributeNames={"#region": "region", "#ttl": "ttl"},
            ):
                pass
            times.append(time.perf_counter() - start)
        return statistics.median(times)

    def sequential(self, table: str, ids: list[str]) -> Measurement:
        arguments = ["sequential", "--table", table, "--endpoint", self.endpoint]
        return self._measure(SEQUENTIAL, arguments, dict(self.env), ids, "1", repeats=1)

    def handler(self, table: str, ids: list[str], concurrency: int | None = None) -> Measurement:
        env = {
            **self.env,
            "CHANNELS": json.dumps({CHANNEL: {"table": table, "endpoint": self.endpoint}}),
            "ROUTES": json.dumps({"incident": [CHANNEL], "remediation": [CHANNEL]}),
        }
        if concurrency is not None:
            env["MAX_CONCURRENCY"] = str(concurrency)
        label = "default" if concurrency is None else str(concurrency)
        arguments = ["handler", "--zip", str(self.package)]
        return self._measure(HANDLER, arguments, env, ids, label, self.repeats)

    def _measure(
        self,
        implementation: str,
        arguments: list[str],
        env: dict[str, str],
        ids: list[str],
        concurrency: str,
        repeats: int,
    ) -> Measurement:
        runs = []
        for attempt in range(1, repeats + 1):
            name = f"{implementation} N={len(ids)} MAX_CONCURRENCY={concurrency} run {attempt}"
            before = self.received.snapshot()
            output = _worker([*arguments, "--event", str(self.event)], env, name)
            after = self.received.snapshot()
            _check_response(implementation, output["response"], name)
            run = Measurement(
                implementation=implementation,
                connections=len(ids),
                concurrency=output.get("max_concurrency", concurrency),
                wall_s=output["wall_s"],
                cpu_s=output["cpu_s"],
                delivered=self.received.delivered_once(before, after, ids, name),
            )
            print(
                f"{name}: {run.wall_s:.2f} s wall, {run.cpu_ms_per_message:.2f} CPU ms/message",
                flush=True,
            )
            runs.append(run)
        return report.median_run(runs)


def _aws_environment(moto_url: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("AWS_") and key not in ("MAX_CONCURRENCY", "CHANNELS", "ROUTES")
    }
    return {
        **env,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ENDPOINT_URL_DYNAMODB": moto_url,
    }


def _log(name: str) -> Path:
    return LOG_DIR / f"{name.replace(' ', '_').replace('=', '-')}.log"


def _worker(arguments: list[str], env: dict[str, str], name: str) -> dict[str, Any]:
    log = _log(name)
    with log.open("w") as stderr:
        done = subprocess.run(
            [sys.executable, "-m", "bench.worker", *arguments],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            check=False,
        )
    if done.returncode != 0:
        raise BenchError(f"{name}: exited with code {done.returncode}; see {log}")
    return json.loads(done.stdout.splitlines()[-1])


def _check_response(implementation: str, response: Any, name: str) -> None:
    if implementation == HANDLER and response != {"batchItemFailures": []}:
        raise BenchError(f"{name}: the handler failed records: {response}; see {_log(name)}")


def number_list(text: str) -> list[int]:
    return [int(value) for value in text.split()]


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes",
        type=number_list,
        default=number_list(os.environ.get("BENCH_SIZES") or "1000 10000"),
        help="connection counts N, space separated",
    )
    parser.add_argument(
        "--concurrency",
        type=number_list,
        default=number_list(os.environ.get("BENCH_CONCURRENCY") or "8 16 32 64 128"),
        help="MAX_CONCURRENCY values swept at the largest N",
    )
    parser.add_argument("--repeats", type=int, default=3, help="stream_processor runs per figure")
    parser.add_argument("--package", type=Path, default=PACKAGE, help="stream_processor zip")
    parser.add_argument("--output", type=Path, default=RESULTS)
    return parser.parse_args(argv)


def _stop_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)  # unwinds the with-blocks, which stop the servers


def main(argv: list[str] | None = None) -> None:
    args = _arguments(argv)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    info = report.machine()
    main_rows: list[Measurement] = []
    baseline: dict[int, Measurement] = {}
    scans: dict[int, float] = {}
    with ExitStack() as servers:
        moto_url = servers.enter_context(moto_server(LOG_DIR))
        fake_url = servers.enter_context(fake_connections_api(LOG_DIR, LATENCY_MS, cwd=REPO))
        bench = Bench(moto_url, fake_url, args.package, args.repeats)
        for count in sorted(args.sizes):
            table, ids = bench.connections(count)
            scans[count] = bench.scan_seconds(table)
            print(f"moto serves a Scan of {count} rows in {scans[count]:.2f} s", flush=True)
            baseline[count] = bench.sequential(table, ids)
            main_rows += [baseline[count], bench.handler(table, ids)]
        # The sweep runs on the last, largest table.
        sweep = [bench.handler(table, ids, concurrency) for concurrency in args.concurrency]
    info["load average (1 min) at end"] = report.load_average()
    package = args.package.resolve()
    shown = package.relative_to(REPO) if package.is_relative_to(REPO) else package
    method = report.Method(LATENCY_MS, args.repeats, str(shown))
    markdown = report.render(info, method, main_rows, sweep, baseline, scans)
    args.output.write_text(markdown)
    print(f"\n{markdown}\nwritten to {args.output}")


if __name__ == "__main__":
    try:
        main()
    except (BenchError, DeliveryError, ServerError) as error:
        sys.exit(f"bench failed: {error}")
    except KeyboardInterrupt:
        sys.exit("bench interrupted; every server it started has been stopped")
