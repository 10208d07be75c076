"""`python -m dev.emulator serve --aws-endpoint http://127.0.0.1:<port>`: run what was deployed."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys

from botocore.exceptions import BotoCoreError, ClientError

from dev.emulator.function_code import FunctionCodeNotFound
from dev.emulator.server import DEFAULT_CODE_DIR, Options, serve
from dev.emulator.websocket_api import Limits


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m dev.emulator", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser(
        "serve", help="serve every deployed WebSocket API, stream and schedule"
    )
    run.add_argument(
        "--aws-endpoint", required=True, help="the emulator URL, e.g. http://127.0.0.1:5000"
    )
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=int, default=0, help="0 picks a free port")
    run.add_argument("--region", default="us-east-1")
    run.add_argument(
        "--time-scale", type=float, default=1.0, help="schedules run this many times faster"
    )
    run.add_argument("--idle-timeout", type=float, default=600.0, help="seconds (AWS: 600)")
    run.add_argument("--max-duration", type=float, default=7200.0, help="seconds (AWS: 7200)")
    run.add_argument(
        "--poll-interval", type=float, default=0.2, help="stream poll interval, seconds"
    )
    run.add_argument(
        "--code-dir",
        action="append",
        default=None,
        help=f"where to find deployed zips by CodeSha256 (default {DEFAULT_CODE_DIR}); repeatable",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(name)s %(message)s",
        datefmt="%H:%M:%S",
    )
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    options = Options(
        aws_endpoint=args.aws_endpoint,
        host=args.host,
        port=args.port,
        region=args.region,
        time_scale=args.time_scale,
        limits=Limits(idle_timeout=args.idle_timeout, max_duration=args.max_duration),
        poll_interval=args.poll_interval,
        code_dirs=tuple(args.code_dir or [str(DEFAULT_CODE_DIR)]),
    )
    try:
        asyncio.run(_serve_until_signal(options))
    except FunctionCodeNotFound as exc:
        logging.getLogger("emulator").error("%s", exc)
        return 1
    except (BotoCoreError, ClientError) as exc:
        logging.getLogger("emulator").error(
            "cannot read the deployment from %s: %s", options.aws_endpoint, exc
        )
        return 1
    return 0


async def _serve_until_signal(options: Options) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await serve(options, stop)


if __name__ == "__main__":
    sys.exit(main())
