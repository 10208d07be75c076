"""How long moto takes to serve the connections table's Scan pages, with and without the
emulator's Scan (dev/emulator/moto_server.py).

    python -m dev.bench.moto_scan [--rows 10000 100000] [--segments 7] [--unpatched]
                                  [--max-pages N]

Fills a connections table with rows shaped as the benchmark writes them (dev/bench/dataset.py),
then reads it as the fan-out does (the delivery attributes, 1 MB pages): once as one whole-table
Scan, once as `--segments` parallel segments at the same time. Prints the pages, the worst page
and the total wall time of each. `--unpatched` runs moto's own server instead; `--max-pages`
stops each reader after that many pages (moto's own Scan takes minutes for 100,000 rows).
"""

from __future__ import annotations

import argparse
import functools
import time
from concurrent.futures import ThreadPoolExecutor

import boto3
from botocore.config import Config

from dev.bench import dataset
from dev.harness.moto import start_moto
from dev.harness.paths import BUILD_DIR

REGION = "us-east-1"
ATTRIBUTES = "connectionId, account, accounts, #region, #ttl"  # what the fan-out reads


def read_pages(
    client, table: str, segment: int | None, total: int | None, max_pages: int | None
) -> list[float]:
    """Each page's wall time, reading the table (or one segment of it) to its end or to
    `max_pages`."""
    parallel = {} if segment is None else {"Segment": segment, "TotalSegments": total}
    request = {
        "TableName": table,
        "ProjectionExpression": ATTRIBUTES,
        "ExpressionAttributeNames": {"#region": "region", "#ttl": "ttl"},
        **parallel,
    }
    pages = []
    while True:
        started = time.perf_counter()
        answer = client.scan(**request)
        pages.append(time.perf_counter() - started)
        if "LastEvaluatedKey" not in answer or len(pages) == max_pages:
            return pages
        request["ExclusiveStartKey"] = answer["LastEvaluatedKey"]


def report(what: str, pages: list[float], seconds: float) -> None:
    print(f"  {what}: {len(pages)} pages, worst page {max(pages):.3f} s, total {seconds:.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--segments", type=int, default=7)
    parser.add_argument("--unpatched", action="store_true", help="moto's own server")
    parser.add_argument("--max-pages", type=int, help="pages per reader (default: all)")
    args = parser.parse_args()
    module = "moto.server" if args.unpatched else "dev.emulator.moto_server"
    with start_moto(BUILD_DIR / "bench" / "moto-scan.log", module) as moto:
        session = boto3.session.Session(
            aws_access_key_id="test", aws_secret_access_key="test", region_name=REGION
        )
        config = Config(read_timeout=600, max_pool_connections=args.segments + 1)
        client = session.client("dynamodb", endpoint_url=moto.url, config=config)
        dynamodb = session.resource("dynamodb", endpoint_url=moto.url, config=config)
        print(f"moto: {module}")
        for rows in args.rows:
            table = f"Connections{rows}"
            dataset.create_connections_table(dynamodb, table, dataset.connection_rows(rows))
            print(f"{rows:,} rows")
            started = time.perf_counter()
            pages = read_pages(client, table, None, None, args.max_pages)
            report("whole table", pages, time.perf_counter() - started)
            started = time.perf_counter()
            with ThreadPoolExecutor(args.segments) as readers:
                read = functools.partial(read_pages, client, table, max_pages=args.max_pages)
                segments = list(
                    readers.map(read, range(args.segments), [args.segments] * args.segments)
                )
            seconds = time.perf_counter() - started
            report(f"{args.segments} segments", [p for s in segments for p in s], seconds)


if __name__ == "__main__":
    main()
