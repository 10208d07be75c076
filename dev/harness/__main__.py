"""`python -m dev.harness fake-connections-api [--port 0] [--latency-ms 20] [--gone ID ...]`.

The process entry of the harness's fake `@connections` server (the benchmark starts it through
`start_fake_connections_api`): prints its base URL as the first line of stdout and serves until
SIGINT or SIGTERM.
"""

from __future__ import annotations

import argparse

from dev.harness.fake_connections_api import FakeConnectionsApi, serve_until_signal


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m dev.harness", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    fake = commands.add_parser("fake-connections-api", help="fake API Gateway @connections API")
    fake.add_argument("--host", default="127.0.0.1")
    fake.add_argument("--port", type=int, default=0, help="0 picks a free port")
    fake.add_argument("--latency-ms", type=float, default=0, help="delay before answering")
    fake.add_argument("--gone", action="append", default=[], help="answer 410 for this id")
    args = parser.parse_args(argv)
    server = FakeConnectionsApi(args.latency_ms, args.host, args.port)
    server.gone(*args.gone)
    serve_until_signal(server)


if __name__ == "__main__":
    main()
