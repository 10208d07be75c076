"""Time candidate builds of stream_processor against each other, without the sequential loop.

For trying a change to the handlers before `make bench`: same servers, data and checks, one
table of N connections shared by every candidate.

    python -m dev.bench.compare --size 10000 --concurrency "32 64" \\
        functions/dist/stream_processor.zip /tmp/candidate.zip
"""

from __future__ import annotations

import argparse
import sys
from contextlib import ExitStack
from pathlib import Path

from dev.bench.delivery import DeliveryError
from dev.bench.run import LATENCY_MS, LOG_DIR, REPO, Bench, BenchError, number_list
from dev.bench.servers import ServerError, fake_connections_api, moto_server


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("packages", type=Path, nargs="+", help="stream_processor zips")
    parser.add_argument("--size", type=int, default=10_000, help="connections N")
    parser.add_argument("--concurrency", type=number_list, default=[32, 64])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    rows = []
    with ExitStack() as servers:
        moto_url = servers.enter_context(moto_server(LOG_DIR))
        fake_url = servers.enter_context(fake_connections_api(LOG_DIR, LATENCY_MS, cwd=REPO))
        bench = Bench(moto_url, fake_url, args.packages[0], args.repeats)
        table, ids = bench.connections(args.size)
        print(f"moto serves a Scan of {args.size} rows in {bench.scan_seconds(table):.2f} s")
        for package in args.packages:
            bench.package = package
            for concurrency in args.concurrency:
                run = bench.handler(table, ids, concurrency)
                rows.append(
                    f"| {package} | {concurrency} | {run.wall_s:.2f} "
                    f"| {run.cpu_ms_per_message:.2f} |"
                )
    print("\n| package | MAX_CONCURRENCY | wall s | CPU ms / message |\n|---|--:|--:|--:|")
    print("\n".join(rows))


if __name__ == "__main__":
    try:
        main()
    except (BenchError, DeliveryError, ServerError) as error:
        sys.exit(f"compare failed: {error}")
