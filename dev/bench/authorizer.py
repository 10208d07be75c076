"""The `$connect` authorizer's cost: cold start and warm per-call time, RS256 2048-bit.

Cold start: a fresh interpreter extracts `functions/dist/authorizer.zip` and imports
`handler` (what Lambda's init phase runs), then makes its first call, which fetches the
discovery document and the JWKS from a local issuer on loopback. Warm: in one process,
after that first call, thousands of calls with the keys cached, each verifying a token
(no result is cached: every call does the RSA verification).

    python -m dev.bench.authorizer [--cold-starts 20] [--calls 5000]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from tests.support.authorizer_events import authorizer_event
from tests.support.lambda_zip import load_handler
from tests.support.oidc_issuer import OidcIssuer

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "functions" / "dist" / "authorizer.zip"
AUDIENCE = "incident-websocket-bench"

_COLD_START = """
import json, sys, tempfile, time, zipfile
target = tempfile.mkdtemp(prefix="authorizer-cold-")
zipfile.ZipFile(sys.argv[1]).extractall(target)
sys.path.insert(0, target)
started = time.perf_counter()
import handler
imported = time.perf_counter()
response = handler.handler(json.loads(sys.argv[2]), None)
called = time.perf_counter()
assert response["policyDocument"]["Statement"][0]["Effect"] == "Allow", response
print(json.dumps({"import_ms": (imported - started) * 1000,
                  "first_call_ms": (called - imported) * 1000}))
"""


def cold_starts(issuer: OidcIssuer, count: int) -> list[dict[str, float]]:
    env = {**os.environ, "OIDC_ISSUER": issuer.url, "OIDC_AUDIENCES": AUDIENCE}
    runs = []
    for _ in range(count):
        event = json.dumps(authorizer_event(issuer.mint()))
        completed = subprocess.run(
            [sys.executable, "-c", _COLD_START, str(PACKAGE), event],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        runs.append(json.loads(completed.stdout))
    return runs


def warm_calls(issuer: OidcIssuer, count: int) -> list[float]:
    os.environ.update(OIDC_ISSUER=issuer.url, OIDC_AUDIENCES=AUDIENCE)
    handler = load_handler("authorizer")
    events = [authorizer_event(issuer.mint(sub=f"user-{n}")) for n in range(200)]
    handler.handler(events[0], None)  # loads the keys
    durations = []
    for n in range(count):
        started = time.perf_counter()
        handler.handler(events[n % len(events)], None)
        durations.append((time.perf_counter() - started) * 1000)
    return durations


def summary(values: list[float]) -> str:
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return (
        f"median {statistics.median(ordered):.2f} ms, mean {statistics.fmean(ordered):.2f} ms, "
        f"p99 {p99:.2f} ms (n={len(ordered)})"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cold-starts", type=int, default=20)
    parser.add_argument("--calls", type=int, default=5000)
    args = parser.parse_args(argv)
    # Decisions are logged at INFO, as on Lambda; the lines are built but written nowhere.
    logging.basicConfig(level=logging.INFO, handlers=[logging.NullHandler()])
    with OidcIssuer(audience=AUDIENCE, key_bits=2048) as issuer:
        cold = cold_starts(issuer, args.cold_starts)
        warm = warm_calls(issuer, args.calls)
    print(f"authorizer cold import:      {summary([r['import_ms'] for r in cold])}")
    print(f"authorizer first call (JWKS): {summary([r['first_call_ms'] for r in cold])}")
    print(f"authorizer warm call:         {summary(warm)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
