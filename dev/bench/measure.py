"""Time one implementation's broadcast against the benchmark's servers, and check delivery."""

from __future__ import annotations

import contextlib
import json
import os
import statistics
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3

from dev.bench import dataset, report, sharded
from dev.bench.delivery import ReceivedCounts
from dev.bench.report import SEQUENTIAL, Measurement, ShardedMeasurement
from dev.harness.fake_connections_api import start_fake_connections_api
from dev.harness.moto import start_moto
from dev.harness.paths import BUILD_DIR, FUNCTION_PACKAGES_DIR
from dev.harness.processes import run_module

PACKAGE = FUNCTION_PACKAGES_DIR / "stream_processor.zip"
LOG_DIR = BUILD_DIR / "bench"
LATENCY_MS = 20
STAGE = "prod"
CHANNEL = "history"
REGION = "us-east-1"
# The fakes the runs post to: plain HTTP, TLS (a throwaway CA the handler trusts through
# SSL_CERT_FILE), and plain HTTP throttled at API Gateway's default account limit.
PLAIN, TLS, LIMITED = "http", "tls", "limited"
# A busy machine can keep moto from answering a Scan page within the handler's DynamoDB read
# timeout (AWS answers one in well under a second); such a run stopped reading there, so it is
# run again, and counted. The check of each run counts only the posts of that run.
MOTO_TIMEOUT_RETRIES = 4
ACCOUNT_RATE_LIMIT = 10_000
SLOW_SCAN = (
    " (moto did not answer a Scan page within the handler's DynamoDB read timeout: the segments"
    " read the table at the same time, and moto's Scan takes longer the larger the table)"
)


class BenchError(RuntimeError):
    """A run failed; the message says which and where its log is."""


class ScanTimedOut(BenchError):
    """A segment of a sharded run could not read the table: moto was too slow."""


@contextlib.contextmanager
def running_bench(repeats: int, fakes: tuple[str, ...] = (PLAIN,)) -> Iterator[Bench]:
    """moto and the fake `@connections` servers named (each a process), and a `Bench` on
    them."""
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as servers:
        moto = servers.enter_context(start_moto(LOG_DIR / "moto.log"))
        urls, trust = {}, None
        for fake in fakes:
            options: dict[str, Any] = {}
            if fake == TLS:
                options["tls_dir"] = LOG_DIR / "tls"
            if fake == LIMITED:
                options["rate_limit"] = ACCOUNT_RATE_LIMIT
            log = LOG_DIR / f"fake_connections_api_{fake}.log"
            urls[fake] = servers.enter_context(
                start_fake_connections_api(log, LATENCY_MS, **options)
            ).url
            if fake == TLS:
                trust = LOG_DIR / "tls" / "ca.pem"
        yield Bench(moto.url, urls, trust, repeats)


class Bench:
    """The running servers, the event, and how to time one implementation against them."""

    def __init__(
        self, moto_url: str, fakes: dict[str, str], ca_file: Path | None, repeats: int
    ) -> None:
        self.repeats = repeats
        self.endpoints = {fake: f"{url}/{STAGE}" for fake, url in fakes.items()}
        self.received = {
            fake: ReceivedCounts(url, ca_file if fake == TLS else None)
            for fake, url in fakes.items()
        }
        self.ca_file = ca_file
        self.moto_timeouts = 0  # runs repeated because moto was too slow
        self.moto_url = moto_url
        self.env = _aws_environment(moto_url)
        session = boto3.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
        )
        self.dynamodb = session.resource("dynamodb", endpoint_url=moto_url)
        self.lambda_client = session.client("lambda", endpoint_url=moto_url)
        self.iam = session.client("iam", endpoint_url=moto_url)
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
                ProjectionExpression="connectionId, account, accounts, #region, #ttl",
                ExpressionAttributeNames={"#region": "region", "#ttl": "ttl"},
            ):
                pass
            times.append(time.perf_counter() - start)
        return statistics.median(times)

    def sequential(self, table: str, ids: list[str]) -> Measurement:
        arguments = ["sequential", "--table", table, "--endpoint", self.endpoints[PLAIN]]
        return self._measure(SEQUENTIAL, PLAIN, arguments, dict(self.env), ids, "1", repeats=1)

    def handler(
        self,
        implementation: str,
        package: Path,
        table: str,
        ids: list[str],
        fake: str = PLAIN,
        concurrency: int | None = None,
        cgroup: Path | None = None,
        repeats: int | None = None,
    ) -> Measurement:
        """`implementation` (its label) from `package`, posting to the fake named."""
        env = {
            **self.env,
            "CHANNELS": json.dumps({CHANNEL: {"table": table, "endpoint": self.endpoints[fake]}}),
            "ROUTES": json.dumps({"incident": [CHANNEL], "remediation": [CHANNEL]}),
        }
        if fake == TLS:
            env["SSL_CERT_FILE"] = str(self.ca_file)  # what the default SSL context trusts
        if concurrency is not None:
            env["MAX_CONCURRENCY"] = str(concurrency)
        label = "default" if concurrency is None else str(concurrency)
        arguments = ["handler", "--zip", str(package)]
        if cgroup is not None:
            arguments += ["--cgroup", str(cgroup)]
        return self._measure(
            implementation, fake, arguments, env, ids, label, repeats or self.repeats
        )

    def sharded(
        self,
        package: Path,
        table: str,
        ids: list[str],
        segments: int,
        fake: str = PLAIN,
        repeats: int | None = None,
    ) -> ShardedMeasurement:
        """`package`'s stream processor with a Lambda context (the module's default timeout),
        sharing the channel with fan-out workers in `segments` segments; median of the runs."""
        channels = json.dumps({CHANNEL: {"table": table, "endpoint": self.endpoints[fake]}})
        worker_env = {"CHANNELS": channels}
        if fake == TLS:
            worker_env["SSL_CERT_FILE"] = str(self.ca_file)
        name = f"sharded {fake} N={len(ids)} segments={segments}"
        # moto splits a table into segments once per segment count, at the first such Scan: a
        # cost DynamoDB does not have, paid here before the runs.
        self.dynamodb.meta.client.scan(TableName=table, Segment=0, TotalSegments=segments, Limit=1)
        with sharded.deployed_workers(
            self.lambda_client,
            self.iam,
            self.moto_url,
            REGION,
            worker_env,
            concurrency=max(segments, 10),
            log=_log(f"emulator {name}"),
        ) as workers:
            workers.warm(segments - 1)
            env = {
                **self.env,
                **worker_env,
                **sharded.sharding_environment(len(ids), segments),
                "ROUTES": json.dumps({"incident": [CHANNEL], "remediation": [CHANNEL]}),
                "AWS_ENDPOINT_URL_LAMBDA": workers.url,
            }
            arguments = ["handler", "--zip", str(package)]
            arguments += ["--timeout", str(sharded.STREAM_PROCESSOR_TIMEOUT_S)]
            arguments += ["--event", str(self.event)]
            runs = []
            for attempt in range(1, (repeats or self.repeats) + 1):
                run_name = f"{name} run {attempt}"
                for retry in range(MOTO_TIMEOUT_RETRIES + 1):
                    try:
                        run = self._sharded_run(workers, arguments, env, ids, fake, run_name)
                        break
                    except ScanTimedOut as timed_out:
                        if retry == MOTO_TIMEOUT_RETRIES:
                            raise BenchError(str(timed_out)) from None
                        self.moto_timeouts += 1
                        print(f"{timed_out}; run again", flush=True)
                print(
                    f"{run_name}: {run.wall_s:.2f} s wall, CPU {run.cpu_s:.2f} s + workers "
                    f"{run.workers_cpu_s:.2f} s, {run.cpu_ms_per_message:.3f} CPU ms/message, "
                    f"segments {list(run.segments)}",
                    flush=True,
                )
                runs.append(run)
        return sorted(runs, key=lambda r: r.wall_s)[len(runs) // 2]

    def _sharded_run(
        self,
        workers: sharded.Workers,
        arguments: list[str],
        env: dict[str, str],
        ids: list[str],
        fake: str,
        name: str,
    ) -> ShardedMeasurement:
        """One run; ScanTimedOut when a segment could not read the table in time (its posts,
        if any, are not counted by the next run's check, which compares its own snapshots)."""
        before, _ = self.received[fake].snapshot()
        cpu_before, log_at = workers.cpu_seconds(), workers.log_size()
        output = _worker(arguments, env, name)
        after, _ = self.received[fake].snapshot()
        channel = sharded.channel_summary(_log(name).read_text(errors="replace"))
        if "error" in channel:
            where = f"{name}: {channel['error'][:600]}; see {_log(name)} and {workers.log}"
            if "ReadTimeoutError" in channel["error"]:
                raise ScanTimedOut(where + SLOW_SCAN)
            raise BenchError(where)
        _check_response(report.HANDLER, output["response"], name)
        delivered = self.received[fake].delivered_once(before, after, ids, name)
        remote = workers.segment_reports(log_at, channel.get("segments", 1) - 1)
        read_remotely = sum(r["counts"]["connections"] for r in remote)
        return ShardedMeasurement(
            connections=len(ids),
            concurrency=output.get("max_concurrency", "?"),
            wall_s=output["wall_s"],
            cpu_s=output["cpu_s"],
            workers_cpu_s=workers.cpu_seconds() - cpu_before,
            delivered=delivered,
            segments=(
                channel["connections"] - read_remotely,
                *(r["counts"]["connections"] for r in remote),
            ),
        )

    def _measure(
        self,
        implementation: str,
        fake: str,
        arguments: list[str],
        env: dict[str, str],
        ids: list[str],
        concurrency: str,
        repeats: int,
    ) -> Measurement:
        runs = []
        received = self.received[fake]
        for attempt in range(1, repeats + 1):
            name = (
                f"{implementation} {fake} N={len(ids)} MAX_CONCURRENCY={concurrency} run {attempt}"
            )
            for retry in range(MOTO_TIMEOUT_RETRIES + 1):
                before, throttled_before = received.snapshot()
                output = _worker([*arguments, "--event", str(self.event)], env, name)
                after, throttled_after = received.snapshot()
                if retry == MOTO_TIMEOUT_RETRIES or not _moto_timed_out(name):
                    break
                self.moto_timeouts += 1
                print(f"{name}: moto did not answer a Scan page in time; run again", flush=True)
            _check_response(implementation, output["response"], name)
            run = Measurement(
                implementation=implementation,
                connections=len(ids),
                concurrency=output.get("max_concurrency", concurrency),
                wall_s=output["wall_s"],
                cpu_s=output["cpu_s"],
                delivered=received.delivered_once(before, after, ids, name),
                throttled=throttled_after - throttled_before,
            )
            print(
                f"{name}: {run.wall_s:.2f} s wall, {run.cpu_ms_per_message:.3f} CPU ms/message"
                + (f", {run.throttled} posts throttled" if run.throttled else ""),
                flush=True,
            )
            runs.append(run)
        return report.median_run(runs)


def _aws_environment(moto_url: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("AWS_")
        and key not in ("MAX_CONCURRENCY", "CHANNELS", "ROUTES", "SSL_CERT_FILE")
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
    done = run_module(["dev.bench.worker", *arguments], env=env, stderr=_log(name))
    if done.returncode != 0:
        raise BenchError(f"{name}: exited with code {done.returncode}; see {_log(name)}")
    return json.loads(done.stdout.splitlines()[-1])


def _moto_timed_out(name: str) -> bool:
    """The run stopped reading the connections because a Scan page timed out (whether or not
    it had delivered some: a record is failed only when nothing of it was sent)."""
    log = _log(name).read_text(errors="replace")
    return "connections_unreadable" in log and "ReadTimeoutError" in log


def _check_response(implementation: str, response: Any, name: str) -> None:
    if implementation != SEQUENTIAL and response != {"batchItemFailures": []}:
        raise BenchError(f"{name}: the handler failed records: {response}; see {_log(name)}")


def number_list(text: str) -> list[int]:
    return [int(value) for value in text.split()]
