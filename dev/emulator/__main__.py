"""`python -m dev.emulator serve --aws-endpoint URL --code-dir DIR`: run what was deployed there.

Prints one JSON line on stdout once every WebSocket API answers (`"event": "ready"`, with the
emulator's URL, each API stage and its local `ws://` URL, the functions); logs go to stderr.
SIGINT or SIGTERM closes every connection (running `$disconnect`) and stops the functions.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError

from dev.emulator.function_code import FunctionCodeNotFound
from dev.emulator.lambda_runner import DEFAULT_CONCURRENCY
from dev.emulator.quotas import IDLE_TIMEOUT_SECONDS, MAX_CONNECTION_SECONDS, ConnectionTimeouts
from dev.emulator.server import Options, serve


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m dev.emulator", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser(
        "serve", help="serve every deployed WebSocket API, stream mapping and schedule"
    )
    run.add_argument(
        "--aws-endpoint", required=True, help="the AWS API emulator, e.g. http://127.0.0.1:5000"
    )
    run.add_argument(
        "--code-dir",
        action="append",
        required=True,
        help="a directory of zips in which to find each deployed function's code (matched by"
        " CodeSha256); repeatable",
    )
    run.add_argument(
        "--static-dir", type=Path, help="serve the files of this directory at / (none by default)"
    )
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=int, default=0, help="0 picks a free port")
    run.add_argument("--region", default="us-east-1")
    run.add_argument(
        "--time-scale",
        type=float,
        default=1.0,
        help="schedules, and the waits of asynchronous invocations between retries, run this many"
        " times faster",
    )
    for option, aws_limit in (
        ("--idle-timeout", IDLE_TIMEOUT_SECONDS),
        ("--max-duration", MAX_CONNECTION_SECONDS),
    ):
        run.add_argument(option, type=float, default=aws_limit, help="seconds (AWS: %(default)s)")
    run.add_argument(
        "--poll-interval", type=float, default=0.2, help="stream poll interval, seconds"
    )
    run.add_argument(
        "--function-concurrency",
        type=int,
        default=DEFAULT_CONCURRENCY,
        help="warm workers a function without a reserved concurrency may run at once; a"
        " synchronous Invoke beyond them is throttled (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    if args.function_concurrency < 1:
        run.error("--function-concurrency must be at least 1")
    return args


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
        code_dirs=tuple(args.code_dir),
        static_dir=args.static_dir,
        host=args.host,
        port=args.port,
        region=args.region,
        time_scale=args.time_scale,
        timeouts=ConnectionTimeouts(idle_timeout=args.idle_timeout, max_duration=args.max_duration),
        poll_interval=args.poll_interval,
        function_concurrency=args.function_concurrency,
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
