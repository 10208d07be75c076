"""One timed broadcast in a process of its own; prints its measurement as one JSON line.

A fresh process per run gives every run a cold start with its own environment (MAX_CONCURRENCY
is read at import) and a process CPU time that holds nothing but that run.

    python -m dev.bench.worker handler --zip functions/dist/stream_processor.zip --event event.json
    python -m dev.bench.worker sequential --table T --endpoint URL --event event.json

`--cgroup DIR` joins that cgroup (dev/bench/cpu_share.py) before anything else is imported.
`handler --timeout SECONDS` gives the handler a Lambda context whose deadline is that far away
(without it the context is None: no deadline).
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dev.bench import cpu_share
from dev.bench.sequential import SequentialBroadcaster
from dev.harness.lambda_context import LambdaContext

Broadcast = Callable[[dict[str, Any]], Any]


def handler_from_zip(zip_path: Path, timeout_s: float | None = None) -> Broadcast:
    """Import `handler.handler` from the built zip, exactly what Lambda would run."""
    sys.path.insert(0, str(zip_path.resolve()))
    module = importlib.import_module("handler")
    if not str(module.__file__).startswith(str(zip_path.resolve())):
        raise RuntimeError(f"imported {module.__file__}, not the handler inside {zip_path}")
    if timeout_s is None:
        return lambda event: module.handler(event, None)
    return lambda event: module.handler(event, LambdaContext(timeout_s, "bench-stream-processor"))


def max_concurrency() -> str:
    """MAX_CONCURRENCY as the imported handler sees it."""
    if configured := os.environ.get("MAX_CONCURRENCY"):
        return configured
    config = sys.modules.get("incident_ws.config")
    return f"{getattr(config, 'DEFAULT_MAX_CONCURRENCY', '?')} (default)"


def timed(broadcast: Broadcast, event: dict[str, Any]) -> dict[str, Any]:
    cpu_start, wall_start = time.process_time(), time.perf_counter()
    response = broadcast(event)
    wall_s, cpu_s = time.perf_counter() - wall_start, time.process_time() - cpu_start
    return {"wall_s": wall_s, "cpu_s": cpu_s, "response": response}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    kinds = parser.add_subparsers(dest="implementation", required=True)
    handler = kinds.add_parser("handler", help="stream_processor from its built zip")
    handler.add_argument("--zip", type=Path, required=True)
    handler.add_argument("--timeout", type=float, help="seconds: a Lambda context with a deadline")
    sequential = kinds.add_parser("sequential", help="the original function's scan-then-post loop")
    sequential.add_argument("--table", required=True)
    sequential.add_argument("--endpoint", required=True)
    for kind in (handler, sequential):
        kind.add_argument("--event", type=Path, required=True, help="Lambda event JSON file")
        kind.add_argument("--cgroup", type=Path, help="join this cgroup (a CPU share) first")
    args = parser.parse_args(argv)
    if args.cgroup is not None:
        cpu_share.join(args.cgroup)

    # Stands in for the Lambda runtime's log handler; the handler's logs go to stderr.
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    if args.implementation == "handler":
        broadcast = handler_from_zip(args.zip, args.timeout)
    else:
        broadcast = SequentialBroadcaster(args.table, args.endpoint)
    event = json.loads(args.event.read_text())
    measurement = timed(broadcast, event)
    if args.implementation == "handler":
        measurement["max_concurrency"] = max_concurrency()
    print(json.dumps(measurement))


if __name__ == "__main__":
    main()
