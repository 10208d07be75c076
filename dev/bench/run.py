"""`make bench`: broadcast one incident to N connections, stream_processor vs the original loop;
then what the `$connect` authorizer costs.

Starts moto and the fake `@connections` server (20 ms per post) through the harness, each in
its own process; for every N fills a connections table, then times the original function's
sequential loop and the packaged `stream_processor` on the same rows, checking that every
connection received exactly one copy; sweeps MAX_CONCURRENCY at the largest N. Then times the
packaged authorizer (cold start, warm calls) and `$connect` handshakes with and without it
through the emulator (dev/bench/authorization.py). Writes dev/bench/results.md and prints it.

    python -m dev.bench.run [--sizes "1000 10000"] [--concurrency "8 16 32 64 128"] [--repeats 3]
        [--cold-starts 10] [--authorizer-calls 2000] [--connects 200]

BENCH_SIZES and BENCH_CONCURRENCY in the environment set the defaults of the two lists.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path

from dev.bench import authorization, report
from dev.bench.authorization import AuthorizationBenchError
from dev.bench.delivery import DeliveryError
from dev.bench.measure import (
    LATENCY_MS,
    LOG_DIR,
    PACKAGE,
    BenchError,
    number_list,
    running_bench,
)
from dev.bench.report import Measurement
from dev.harness.paths import REPO_ROOT
from dev.harness.processes import StartupError

RESULTS = Path(__file__).with_name("results.md")


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
    parser.add_argument("--cold-starts", type=int, default=10, help="authorizer cold starts")
    parser.add_argument("--authorizer-calls", type=int, default=2000, help="warm calls")
    parser.add_argument("--connects", type=int, default=200, help="handshakes per mode")
    return parser.parse_args(argv)


def _stop_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)  # unwinds the with-blocks, which stop the servers


def main(argv: list[str] | None = None) -> None:
    args = _arguments(argv)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    info = report.machine()
    main_rows: list[Measurement] = []
    baseline: dict[int, Measurement] = {}
    scans: dict[int, float] = {}
    with running_bench(args.package, args.repeats) as bench:
        for count in sorted(args.sizes):
            table, ids = bench.connections(count)
            scans[count] = bench.scan_seconds(table)
            print(f"moto serves a Scan of {count} rows in {scans[count]:.2f} s", flush=True)
            baseline[count] = bench.sequential(table, ids)
            main_rows += [baseline[count], bench.handler(table, ids)]
        # The sweep runs on the last, largest table.
        sweep = [bench.handler(table, ids, concurrency) for concurrency in args.concurrency]
    print("timing the $connect authorizer and handshakes with and without it", flush=True)
    figures = authorization.measure(LOG_DIR, args.cold_starts, args.authorizer_calls, args.connects)
    info["load average (1 min) at end"] = report.load_average()
    package = args.package.resolve()
    shown = package.relative_to(REPO_ROOT) if package.is_relative_to(REPO_ROOT) else package
    method = report.Method(LATENCY_MS, args.repeats, str(shown))
    markdown = report.render(
        info, method, main_rows, sweep, baseline, scans, authorization.markdown(figures)
    )
    args.output.write_text(markdown)
    print(f"\n{markdown}\nwritten to {args.output}")


if __name__ == "__main__":
    try:
        main()
    except (AuthorizationBenchError, BenchError, DeliveryError, StartupError) as error:
        sys.exit(f"bench failed: {error}")
    except KeyboardInterrupt:
        sys.exit("bench interrupted; every server it started has been stopped")
