"""`make bench`: broadcast one incident to N connections — stream_processor, the previous
stream_processor (built from a git ref) and the original loop on the same rows — over plain
HTTP, over TLS, under a Lambda-sized CPU share and at API Gateway's 10,000 requests/s account
limit; then what the `$connect` authorizer costs.

Starts moto and the fake `@connections` servers (20 ms per post; one plain, one TLS, one
throttled) through the harness, each in its own process; for every N fills a connections
table, then times each implementation on the same rows, checking that every connection
received exactly one copy; sweeps MAX_CONCURRENCY at the largest N up to 10,000. Then times
the packaged authorizer (cold start, warm calls) and `$connect` handshakes with and without it
through the emulator (dev/bench/authorization.py). Above 15,000 connections, or at every N
with `--sharded`, N is broadcast through the sharded fan-out instead: the stream processor with
a Lambda context, `--segments` parallel-Scan segments, all but its own run by fan-out worker
invocations in the emulator (dev/bench/sharded.py).
Writes dev/bench/results.md and prints it.

    python -m dev.bench.run [--sizes "1000 10000"] [--concurrency "32 64 128 256"] [--repeats 3]
        [--previous-ref REF] [--modes "tls cpu-share rate-limit"] [--cpu-share 0.145]
        [--limit-concurrency "128 256 1024"] [--cold-starts 10] [--authorizer-calls 2000]
        [--connects 200] [--sharded] [--segments 3]

BENCH_SIZES, BENCH_CONCURRENCY, BENCH_BASELINE_REF, BENCH_MODES, BENCH_SHARDED (1: --sharded)
and BENCH_SEGMENTS in the environment set the defaults of those options.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path

from dev.bench import authorization, report
from dev.bench.authorization import AuthorizationBenchError
from dev.bench.cpu_share import DEFAULT_SHARE, CpuShareUnavailable, cpu_share
from dev.bench.delivery import DeliveryError
from dev.bench.measure import (
    ACCOUNT_RATE_LIMIT,
    LATENCY_MS,
    LIMITED,
    LOG_DIR,
    PACKAGE,
    PLAIN,
    TLS,
    Bench,
    BenchError,
    number_list,
    running_bench,
)
from dev.bench.previous import PreviousBuildError, build_previous
from dev.bench.report import HANDLER, PREVIOUS, Section, ShardedSection
from dev.bench.sharded import DEFAULT_SEGMENTS, SHARDING_THRESHOLD, STREAM_PROCESSOR_TIMEOUT_S
from dev.harness.paths import REPO_ROOT
from dev.harness.processes import StartupError

RESULTS = Path(__file__).with_name("results.md")
MODES = ("tls", "cpu-share", "rate-limit")
# The original loop takes about 23 ms per connection: 4 minutes at 10,000, too long above.
SEQUENTIAL_MAX = 10_000
# Under a Lambda-sized CPU share the previous handler takes about 3 ms per connection.
PREVIOUS_UNDER_SHARE_MAX = 10_000
SWEEP_MAX = 10_000
# With one size given, the marginal CPU is taken against this one.
MARGINAL_REFERENCE_SIZE = 1_000


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
        default=number_list(os.environ.get("BENCH_CONCURRENCY") or "32 64 128 256"),
        help="MAX_CONCURRENCY values swept at the largest N up to 10,000",
    )
    parser.add_argument("--repeats", type=int, default=3, help="runs per figure")
    parser.add_argument("--package", type=Path, default=PACKAGE, help="stream_processor zip")
    parser.add_argument(
        "--previous-ref",
        default=os.environ.get("BENCH_BASELINE_REF") or "main",
        help="git ref the previous stream_processor is built from",
    )
    parser.add_argument(
        "--modes",
        default=os.environ.get("BENCH_MODES", " ".join(MODES)),
        help=f"besides plain HTTP, any of: {' '.join(MODES)}",
    )
    parser.add_argument(
        "--sequential-max",
        type=int,
        default=int(os.environ.get("BENCH_SEQUENTIAL_MAX") or SEQUENTIAL_MAX),
        help="the largest N the original loop is timed at (about 25 ms per connection)",
    )
    parser.add_argument("--cpu-share", type=float, default=DEFAULT_SHARE, help="of one CPU")
    parser.add_argument(
        "--limit-concurrency",
        type=number_list,
        default=[128, 256, 1024],
        help="MAX_CONCURRENCY values run against the rate-limited fake",
    )
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--cold-starts", type=int, default=10, help="authorizer cold starts")
    parser.add_argument("--authorizer-calls", type=int, default=2000, help="warm calls")
    parser.add_argument("--connects", type=int, default=200, help="handshakes per mode")
    parser.add_argument(
        "--sharded",
        action="store_true",
        default=os.environ.get("BENCH_SHARDED", "") not in ("", "0"),
        help="broadcast every N through the sharded fan-out too (always above "
        f"{SHARDING_THRESHOLD:,})",
    )
    parser.add_argument(
        "--segments",
        type=int,
        default=int(os.environ.get("BENCH_SEGMENTS") or DEFAULT_SEGMENTS),
        help="parallel-Scan segments of a sharded broadcast (segment 0 in the stream processor)",
    )
    args = parser.parse_args(argv)
    unknown = set(args.modes.split()) - set(MODES)
    if unknown:
        parser.error(f"unknown modes {sorted(unknown)}; choose from {list(MODES)}")
    args.modes = tuple(args.modes.split())
    if len(args.sizes) == 1 and args.sizes[0] > MARGINAL_REFERENCE_SIZE:
        args.sizes.append(MARGINAL_REFERENCE_SIZE)
    args.sizes = sorted(set(args.sizes))
    return args


def _stop_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)  # unwinds the with-blocks, which stop the servers


def main(argv: list[str] | None = None) -> None:
    args = _arguments(argv)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    previous = build_previous(args.previous_ref, LOG_DIR / "previous")
    commit = (previous.parent / "COMMIT").read_text().strip()
    print(f"previous stream_processor built from {args.previous_ref} ({commit[:12]})", flush=True)
    info = report.machine()
    fakes = (PLAIN, *((TLS,) if "tls" in args.modes else ()))
    fakes += (LIMITED,) if "rate-limit" in args.modes else ()
    with running_bench(args.repeats, fakes) as bench:
        runs = _Runs(bench, args.package, previous)
        main_section = Section(
            "Plain HTTP, a full core",
            "The handler's process may use a whole core (the fake and moto share the other).",
        )
        tls = Section(
            "TLS, a full core",
            "The fake speaks TLS with a throwaway CA (dev/harness/tls_test_ca.py) that the "
            "handler trusts through `SSL_CERT_FILE`, set only in the benchmark's environment.",
        )
        share = Section(
            f"Plain HTTP, {args.cpu_share:g} of a CPU (a Lambda-sized share)",
            f"The handler's process runs in a cgroup whose CPU quota is {args.cpu_share:g} of "
            f"one core ({int(args.cpu_share * 1769):,} MB of Lambda memory, at 1,769 MB per "
            "vCPU), cold start included. "
            f"Single runs; the previous handler only up to N = {PREVIOUS_UNDER_SHARE_MAX:,}.",
        )
        limited = Section(
            f"At the {ACCOUNT_RATE_LIMIT:,} requests/s account limit (plain HTTP)",
            f"The fake throttles like API Gateway: a token bucket of {ACCOUNT_RATE_LIMIT:,} "
            "requests/s holding half a second's worth, 429 beyond it; the sender retries "
            "throttled posts with its backoff. Single runs at the largest N.",
            marginal=False,
        )
        sharded = ShardedSection(
            f"The stream processor, given a Lambda context with the module's default "
            f"{STREAM_PROCESSOR_TIMEOUT_S} s timeout, reads the channel as {args.segments} "
            "parallel-Scan segments (`FAN_OUT_CONNECTIONS_PER_WORKER` = ⌈N / "
            f"{args.segments}⌉, `FAN_OUT_MAX_WORKERS` = {args.segments}): segment 0 itself, "
            "the others by synchronous `Invoke`s of the fan-out worker "
            "(`functions/dist/fanout_worker.zip`, deployed into moto with the module's default "
            "timeout), which the emulator runs in parallel warm processes. Plain HTTP; every "
            "process may use a whole core, and all of them share the machine's cores with moto "
            "and the fake. The workers are started (warm) before the run, and moto has split the "
            "table into segments. Workers CPU is the worker processes' CPU time during the "
            "run; CPU ms / message counts both. Single runs. Connections per "
            "segment are what each segment read: segment 0 from the stream processor's "
            "summary, the others from the workers' `fan_out_segment_processed` lines. Above "
            f"{SHARDING_THRESHOLD:,} connections, where a deployment shares the channel, only "
            "this mode is run."
        )
        unsharded_sizes = [count for count in args.sizes if count <= SHARDING_THRESHOLD]
        scans: dict[int, float] = {}
        sweep = None
        for count in args.sizes:
            table, ids = bench.connections(count)
            scans[count] = bench.scan_seconds(table, repeats=3 if count in unsharded_sizes else 1)
            print(f"moto serves a Scan of {count} rows in {scans[count]:.2f} s", flush=True)
            if args.sharded or count > SHARDING_THRESHOLD:
                sharded.rows.append(
                    bench.sharded(args.package, table, ids, args.segments, repeats=1)
                )
            if count not in unsharded_sizes:
                continue
            if count <= args.sequential_max:
                main_section.rows.append(bench.sequential(table, ids))
            main_section.rows += runs.both(table, ids, PLAIN)
            if "tls" in args.modes:
                tls.rows += runs.both(table, ids, TLS)
            if "cpu-share" in args.modes:
                share.rows += _under_share(runs, table, ids, args.cpu_share)
            if count == max(unsharded_sizes) and "rate-limit" in args.modes:
                limited.rows += [
                    bench.handler(
                        HANDLER, args.package, table, ids, LIMITED, concurrency, repeats=1
                    )
                    for concurrency in args.limit_concurrency
                ]
            if count == max(s for s in args.sizes if s <= SWEEP_MAX) and args.concurrency:
                sweep = Section(
                    f"MAX_CONCURRENCY sweep (stream_processor, N = {count:,})",
                    "Plain HTTP, a full core.",
                    marginal=False,
                )
                sweep.rows = [
                    bench.handler(HANDLER, args.package, table, ids, PLAIN, concurrency)
                    for concurrency in args.concurrency
                ]
    modes = [s for s in (tls, share, limited) if s.rows]
    if runs.share_unavailable is not None:
        share.description = f"Skipped: {runs.share_unavailable}"
        share.marginal = False
        modes.append(share)
    print("timing the $connect authorizer and handshakes with and without it", flush=True)
    figures = authorization.measure(LOG_DIR, args.cold_starts, args.authorizer_calls, args.connects)
    info["load average (1 min) at end"] = report.load_average()
    info["runs repeated because moto did not answer a Scan page in time"] = str(bench.moto_timeouts)
    package = args.package.resolve()
    shown = package.relative_to(REPO_ROOT) if package.is_relative_to(REPO_ROOT) else package
    method = report.Method(
        LATENCY_MS, args.repeats, str(shown), f"`{args.previous_ref}` ({commit[:12]})"
    )
    markdown = report.render(
        info,
        method,
        main_section,
        scans,
        modes,
        sweep,
        authorization.markdown(figures),
        sharded,
    )
    args.output.write_text(markdown)
    print(f"\n{markdown}\nwritten to {args.output}")


class _Runs:
    """The previous and the current handler, one after the other on the same rows."""

    def __init__(self, bench: Bench, package: Path, previous: Path) -> None:
        self.bench, self.package, self.previous = bench, package, previous
        self.share_unavailable: str | None = None

    def both(self, table: str, ids: list[str], fake: str, **options) -> list:
        return [
            self.bench.handler(PREVIOUS, self.previous, table, ids, fake, **options),
            self.bench.handler(HANDLER, self.package, table, ids, fake, **options),
        ]


def _under_share(runs: _Runs, table: str, ids: list[str], share: float) -> list:
    if runs.share_unavailable is not None:
        return []
    try:
        with cpu_share(share) as group:
            rows = []
            if len(ids) <= PREVIOUS_UNDER_SHARE_MAX:
                rows.append(
                    runs.bench.handler(
                        PREVIOUS, runs.previous, table, ids, PLAIN, cgroup=group, repeats=1
                    )
                )
            rows.append(
                runs.bench.handler(
                    HANDLER, runs.package, table, ids, PLAIN, cgroup=group, repeats=1
                )
            )
            return rows
    except CpuShareUnavailable as unavailable:
        runs.share_unavailable = str(unavailable)
        print(f"skipping the CPU-share mode: {unavailable}", flush=True)
        return []


if __name__ == "__main__":
    try:
        main()
    except (
        AuthorizationBenchError,
        BenchError,
        DeliveryError,
        PreviousBuildError,
        StartupError,
    ) as error:
        sys.exit(f"bench failed: {error}")
    except KeyboardInterrupt:
        sys.exit("bench interrupted; every server it started has been stopped")
