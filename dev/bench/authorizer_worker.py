"""The `$connect` authorizer timed in a process of its own; prints one JSON line.

    python -m dev.bench.authorizer_worker --zip functions/dist/authorizer.zip --events events.json
        [--calls 2000]

A fresh interpreter extracts the zip and imports `handler` (what Lambda's init phase runs: the
configuration is read, nothing is fetched), then makes a first call, which fetches the issuer's
discovery document and JWKS (OIDC_ISSUER in the environment). With `--calls N` it then makes N
more calls, cycling through the events (each a different token, so every call verifies an RSA
signature: the authorizer caches keys, never results). Every call must allow.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import sys
import time
from pathlib import Path
from typing import Any

from dev.bench.lambda_package import unpack_onto_path


def _allowed(response: Any) -> bool:
    statements = response.get("policyDocument", {}).get("Statement", [])
    return bool(statements) and all(s.get("Effect") == "Allow" for s in statements)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--zip", type=Path, required=True)
    parser.add_argument("--events", type=Path, required=True, help="a JSON list of events")
    parser.add_argument("--calls", type=int, default=0, help="warm calls after the first")
    args = parser.parse_args(argv)
    events = json.loads(args.events.read_text())
    # Decisions are logged at INFO, as on Lambda; the records are made but written nowhere.
    logging.basicConfig(level=logging.INFO, handlers=[logging.NullHandler()])
    unpack_onto_path(args.zip)

    started = time.perf_counter()
    handler = importlib.import_module("handler")
    imported = time.perf_counter()
    first = handler.handler(events[0], None)
    called = time.perf_counter()
    if not _allowed(first):
        sys.exit(f"the first call did not allow: {first}")
    warm_ms = []
    for number in range(args.calls):
        event = events[number % len(events)]
        before = time.perf_counter()
        response = handler.handler(event, None)
        warm_ms.append((time.perf_counter() - before) * 1000)
        if not _allowed(response):
            sys.exit(f"call {number} did not allow: {response}")
    result = {
        "import_ms": (imported - started) * 1000,
        "first_call_ms": (called - imported) * 1000,
        "warm_ms": warm_ms,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
