"""Time candidate builds of stream_processor against each other, without the sequential loop.

For trying a change to the handlers before `make bench`: same servers, data and checks, one
table of N connections shared by every candidate.

    python -m dev.bench.compare --size 10000 --concurrency "32 64" \\
        functions/dist/stream_processor.zip /tmp/candidate.zip
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dev.bench.delivery import DeliveryError
from dev.bench.measure import BenchError, number_list, running_bench
from dev.harness.processes import StartupError


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("packages", type=Path, nargs="+", help="stream_processor zips")
    parser.add_argument("--size", type=int, default=10_000, help="connections N")
    parser.add_argument("--concurrency", type=number_list, default=[32, 64])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    rows = []
    with running_bench(args.repeats) as bench:
        table, ids = bench.connections(args.size)
        print(f"moto serves a Scan of {args.size} rows in {bench.scan_seconds(table):.2f} s")
        for package in args.packages:
            for concurrency in args.concurrency:
                run = bench.handler(str(package), package, table, ids, concurrency=concurrency)
                rows.append(
                    f"| {package} | {concurrency} | {run.wall_s:.2f} "
                    f"| {run.cpu_ms_per_message:.2f} |"
                )
    print("\n| package | MAX_CONCURRENCY | wall s | CPU ms / message |\n|---|--:|--:|--:|")
    print("\n".join(rows))


if __name__ == "__main__":
    try:
        main()
    except (BenchError, DeliveryError, StartupError) as error:
        sys.exit(f"compare failed: {error}")
