"""`python -m dev.harness fake-connections-api [--port 0] [--latency-ms 20] [--gone ID ...]
[--tls-dir DIR] [--rate-limit 10000]`.

The process entry of the harness's fake `@connections` server (the benchmark starts it through
`start_fake_connections_api`): prints its base URL as the first line of stdout and serves until
SIGINT or SIGTERM.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from dev.harness.fake_connections_api import FakeConnectionsApi, serve_until_signal
from dev.harness.tls_test_ca import TestCa


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m dev.harness", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    fake = commands.add_parser("fake-connections-api", help="fake API Gateway @connections API")
    fake.add_argument("--host", default="127.0.0.1")
    fake.add_argument("--port", type=int, default=0, help="0 picks a free port")
    fake.add_argument("--latency-ms", type=float, default=0, help="delay before answering")
    fake.add_argument("--gone", action="append", default=[], help="answer 410 for this id")
    fake.add_argument("--tls-dir", type=Path, help="serve TLS; a throwaway CA is written here")
    fake.add_argument("--rate-limit", type=float, help="requests/s before 429, account-wide")
    args = parser.parse_args(argv)
    tls = None if args.tls_dir is None else TestCa.create(args.tls_dir).server_context()
    server = FakeConnectionsApi(
        args.latency_ms, args.host, args.port, tls, args.rate_limit, keep_bodies=False
    )
    server.gone(*args.gone)
    serve_until_signal(server)


if __name__ == "__main__":
    main()
