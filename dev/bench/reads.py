"""What a batch of one account's messages reads from a channel's connections table: the whole
table (Scan) or the account's audience and `*` from the audience index (two Queries).

    python -m dev.bench.reads [--connections 10000] [--accounts 100] [--unscoped 10 50 100]
                              [--unpatched]

Starts moto (`dev/emulator/moto_server.py`) through the harness, fills one connections table
per unscoped share with rows shaped as `connect` stores them, and reads it the two ways through
the packaged `ConnectionStore` (functions/dist/stream_processor.zip). For each read it prints the
connections read, the pages, the read capacity moto reports (`ReturnConsumedCapacity`: moto
counts 1 per request whatever its size), the read capacity DynamoDB would charge (eventually
consistent: half a unit per 4 KB of what a page reads, rounded up per page, where a Scan reads
the whole items and a Query the index entries), and the wall time of the read (median of 3).
Both reads must lead to the same deliveries, or the benchmark stops with an error.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import boto3

from dev.bench import dataset
from dev.harness.connections_table import (
    AUDIENCE_INDEX,
    AUDIENCE_PROJECTION,
    create_connections_table,
)
from dev.harness.moto import start_moto
from dev.harness.paths import BUILD_DIR, FUNCTION_PACKAGES_DIR

LOG_DIR = BUILD_DIR / "bench"
PACKAGE = FUNCTION_PACKAGES_DIR / "stream_processor.zip"
REGION = "us-east-1"
PAGE_BYTES = 1024 * 1024  # DynamoDB ends a Scan or Query page after 1 MB read
RCU_BYTES = 4096
REPEATS = 3

sys.path.insert(0, str(PACKAGE))  # the packaged library, as the stream processor runs it
from incident_ws.config import AudienceIndex  # noqa: E402
from incident_ws.connection_store import ConnectionStore, audience  # noqa: E402
from incident_ws.fanout import _deliveries  # noqa: E402
from incident_ws.messages import Message  # noqa: E402


class ReadsBenchError(RuntimeError):
    """The two reads disagree on who receives the message."""


@dataclass(frozen=True)
class Read:
    how: str
    connections: int
    recipients: int
    pages: int
    moto_capacity: float
    dynamodb_capacity: float
    seconds: float


def accounts(count: int) -> list[str]:
    return [f"{100000000000 + n:012d}" for n in range(count)]


def rows(connections: int, account_ids: list[str], unscoped_percent: int) -> list[dict[str, Any]]:
    """`connections` rows as `connect` stores them: `unscoped_percent` unscoped and unfiltered,
    the others spread evenly over the accounts, half of them filtered on an account and half
    scoped to exactly one."""
    now = int(time.time())
    unscoped = connections * unscoped_percent // 100
    result = []
    for n in range(connections):
        row = {
            "connectionId": dataset.connection_id(n),
            "createdAt": now * 1000,
            "ttl": now + 3 * 3600,
            "clientId": f"dashboard-{n}",
            "sourceIp": f"198.51.100.{n % 250 + 1}",
            "userAgent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131.0",
        }
        if n >= unscoped:
            account = account_ids[n % len(account_ids)]
            if n % 2:
                row["account"] = account
            else:
                row["accounts"] = {account}
                row["principal"] = f"tenant-{account}"
        row["audience"] = audience(row.get("account"), row.get("accounts"))
        result.append(row)
    return result


def item_bytes(item: dict[str, Any]) -> int:
    """DynamoDB's size of an item: each attribute's name plus its value (a string's UTF-8
    bytes, a number's about 1 byte per 2 digits plus 1, a set's members)."""
    return sum(len(name.encode()) + _value_bytes(value) for name, value in item.items())


def _value_bytes(value: Any) -> int:
    if isinstance(value, str):
        return len(value.encode())
    if isinstance(value, int | Decimal):
        return math.ceil(len(str(value).lstrip("-")) / 2) + 1
    if isinstance(value, set):
        return sum(_value_bytes(member) for member in value)
    raise TypeError(type(value))


def index_entry(item: dict[str, Any]) -> dict[str, Any]:
    keep = ("connectionId", "audience", *AUDIENCE_PROJECTION)
    return {name: value for name, value in item.items() if name in keep}


def charged_capacity(requests: dict[str, list[int]]) -> float:
    """Half a read unit per 4 KB of each 1 MB page of each Scan or Query (the sizes of the
    items it reads), rounded up per page."""
    total = 0.0
    for sizes in requests.values():
        page = 0
        for size in sizes:
            if page + size > PAGE_BYTES:
                total += math.ceil(page / RCU_BYTES) * 0.5
                page = 0
            page += size
        total += math.ceil(page / RCU_BYTES) * 0.5
    return total


class CapacityMeter:
    """Asks every Scan and Query of `client` for its consumed capacity, and adds it up."""

    def __init__(self, client) -> None:
        self.pages = 0
        self.units = 0.0
        for operation in ("Scan", "Query"):
            client.meta.events.register(f"provide-client-params.dynamodb.{operation}", self._ask)
            client.meta.events.register(f"after-call.dynamodb.{operation}", self._add)

    def reset(self) -> None:
        self.pages, self.units = 0, 0.0

    def _ask(self, params: dict[str, Any], **_: Any) -> None:
        params["ReturnConsumedCapacity"] = "TOTAL"

    def _add(self, parsed: dict[str, Any], **_: Any) -> None:
        self.pages += 1
        self.units += parsed.get("ConsumedCapacity", {}).get("CapacityUnits", 0.0)


def measure(
    how: str,
    store: ConnectionStore,
    meter: CapacityMeter,
    message: Message,
    sizes: dict[str, tuple[str, int]],
) -> tuple[Read, set]:
    """`sizes`: each connection's request (what it is read by) and size as that request reads it."""
    runs = []
    for _ in range(REPEATS):
        meter.reset()
        started = time.perf_counter()
        read = store.scan_live() if how == "Scan" else store.live_audience([message])
        connections = list(read)
        seconds = time.perf_counter() - started
        if not read.complete:
            raise ReadsBenchError(f"the {how} did not complete: {read.error!r}")
        runs.append(seconds)
    deliveries = {d.connection.connection_id for d in _deliveries([message], connections)}
    requests: dict[str, list[int]] = {}
    for connection in connections:
        request, size = sizes[connection.connection_id]
        requests.setdefault(request, []).append(size)
    result = Read(
        how,
        len(connections),
        len(deliveries),
        meter.pages,
        meter.units,
        charged_capacity(requests),
        statistics.median(runs),
    )
    return result, deliveries


def bench(moto_url: str, connections: int, account_count: int, unscoped: list[int]) -> Iterator:
    client = boto3.client(
        "dynamodb",
        endpoint_url=moto_url,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    resource = boto3.resource(
        "dynamodb",
        endpoint_url=moto_url,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    meter = CapacityMeter(client)
    account_ids = accounts(account_count)
    message = Message("incident", b"{}", account=account_ids[0], region=REGION)
    for percent in unscoped:
        table = f"Connections-{percent}"
        create_connections_table(client, table)
        table_rows = rows(connections, account_ids, percent)
        with resource.Table(table).batch_writer() as batch:
            for row in table_rows:
                batch.put_item(Item=row)
        print(f"{connections} connections, {percent} % unscoped: reading", flush=True)
        scan_sizes = {row["connectionId"]: ("Scan", item_bytes(row)) for row in table_rows}
        index_sizes = {
            row["connectionId"]: (row["audience"], item_bytes(index_entry(row)))
            for row in table_rows
        }
        index = AudienceIndex(AUDIENCE_INDEX, query_from=0.0)
        store = ConnectionStore(client, table, audience_index=index)
        scan, scanned = measure("Scan", store, meter, message, scan_sizes)
        query, queried = measure("Query", store, meter, message, index_sizes)
        if scanned != queried:
            raise ReadsBenchError(
                f"{percent} % unscoped: the reads deliver to different connections"
            )
        yield percent, scan, query


def markdown(connections: int, account_count: int, results: list) -> str:
    lines = [
        f"One account's message, {connections} connections over {account_count} accounts "
        "(the rest filtered on an account or scoped to one, half and half).",
        "",
        "| unscoped | read | connections read | recipients | pages | RCU (moto) "
        "| RCU (DynamoDB, estimated) | wall time (moto) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for percent, *reads in results:
        for read in reads:
            lines.append(
                f"| {percent} % | {read.how} | {read.connections:,} | {read.recipients:,} "
                f"| {read.pages} | {read.moto_capacity:g} | {read.dynamodb_capacity:g} "
                f"| {read.seconds * 1000:,.0f} ms |"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--connections", type=int, default=10_000)
    parser.add_argument("--accounts", type=int, default=100)
    parser.add_argument("--unscoped", type=int, nargs="+", default=[10, 50, 100], help="percent")
    parser.add_argument(
        "--unpatched", action="store_true", help="moto's own server (its own Scan and Query)"
    )
    args = parser.parse_args(argv)
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    module = "moto.server" if args.unpatched else "dev.emulator.moto_server"
    with start_moto(LOG_DIR / "reads-moto.log", module) as moto:
        results = list(bench(moto.url, args.connections, args.accounts, args.unscoped))
    print()
    print(markdown(args.connections, args.accounts, results))


if __name__ == "__main__":
    try:
        main()
    except ReadsBenchError as error:
        sys.exit(f"bench failed: {error}")
