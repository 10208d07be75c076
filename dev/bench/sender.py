"""CPU per message of the @connections senders: the threaded one against the event loop.

Starts a TLS endpoint in a process of its own (a throwaway CA, 20 ms per answer), then, each
in a fresh process, times one warm fan-out of N one-message posts with

- `threaded`: the previous library's `ConnectionPoster` over `KeepAliveHttp` on
  `MAX_CONCURRENCY` threads (a pool per invocation, as its fan-out ran them), imported
  from the previous stream_processor zip (built from `--previous-ref`, default
  BENCH_BASELINE_REF: dev/bench/previous.py);
- `event-loop`: `ConnectionsSender` with `MAX_CONCURRENCY` posts in flight (one kept per
  container, as a handler would), from functions/dist/stream_processor.zip.

Each process first posts a warm-up round (imports, TLS handshakes, first-use costs) and then
measures one send: its process CPU time and wall time. The marginal CPU per message is the
difference between the two sizes' median CPU times over their difference in N, so what every
invocation pays once cancels out. After every run the endpoint must have taken exactly one
copy for each of that run's connections.

    python -m dev.bench.sender [--sizes 2000 6000] [--repeats 3] [--latency-ms 20]
                               [--concurrency 64] [--profile] [--previous-ref REF]

`--profile` adds a cProfile (CPU timer) of the event-loop sender at the largest size.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from pathlib import Path
from typing import ClassVar

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "functions" / "dist" / "stream_processor.zip"
PREVIOUS = REPO / ".build" / "bench" / "previous" / "stream_processor.zip"
IMPLEMENTATIONS = ("threaded", "event-loop")
REGION = "us-east-1"
WARM_UP_POSTS = 300
# A session token as long as a Lambda function's (they run to about 1,000 characters).
TOKEN = "IQoJb3JpZ2luX2VjE" + "x" * 1000
BODY = json.dumps(
    {
        "type": "incident",
        "event": "created",
        "incident_id": "inc-0001",
        "severity": "HIGH",
        "status": "OPEN",
        "title": "Security group allows 0.0.0.0/0 on port 22",
        "account": "111111111111",
        "region": REGION,
        "timestamp": "2026-11-23T10:00:00Z",
        "resource": "arn:aws:ec2:us-east-1:111111111111:security-group/sg-0123456789abcdef0",
        "data": {"detector": "guardduty", "finding": "x" * 200},
    },
    separators=(",", ":"),
).encode()


# -- the endpoint ------------------------------------------------------------------------
class _Endpoint(asyncio.Protocol):
    """Answers each `POST .../@connections/{id}` with 200 after the latency; counts per id."""

    counts: ClassVar[Counter[str]] = Counter()  # one endpoint per process
    latency = 0.02
    ok = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 0\r\n\r\n"

    def connection_made(self, transport) -> None:
        self.transport = transport
        self.buffer = bytearray()
        self.loop = asyncio.get_running_loop()

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while (end := self.buffer.find(b"\r\n\r\n")) >= 0:
            head = bytes(self.buffer[:end]).decode("latin-1")
            length = 0
            for line in head.split("\r\n")[1:]:
                name, _, value = line.partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            if len(self.buffer) < end + 4 + length:
                return
            del self.buffer[: end + 4 + length]
            method, target, _ = head.split(" ", 2)
            if method == "GET":
                prefix = target.partition("?prefix=")[2]
                ids = {cid: n for cid, n in self.counts.items() if cid.startswith(prefix)}
                stats = {"ids": len(ids), "copies": sum(ids.values())}
                stats["most"] = max(ids.values(), default=0)
                body = json.dumps(stats).encode()
                self.transport.write(
                    b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
                )
                continue
            if "Authorization: AWS4-HMAC-SHA256 " not in head:
                self.transport.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
                continue
            self.counts[target.rpartition("/")[2]] += 1
            self.loop.call_later(self.latency, self._answer)

    def _answer(self) -> None:
        if not self.transport.is_closing():
            self.transport.write(self.ok)


def serve(ca_dir: Path, latency_ms: float) -> None:
    """Run the TLS endpoint; print its base URL as the first line of stdout."""
    from dev.harness.tls_test_ca import TestCa

    ca = TestCa(ca_dir / "ca.pem", ca_dir / "server.pem", ca_dir / "server-key.pem")
    _Endpoint.latency = latency_ms / 1000

    async def run() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(
            _Endpoint, "127.0.0.1", 0, ssl=ca.server_context(), backlog=1024
        )
        print(f"https://127.0.0.1:{server.sockets[0].getsockname()[1]}", flush=True)
        await server.serve_forever()

    asyncio.run(run())


def stats(base_url: str, prefix: str, ca_file: Path) -> dict[str, int]:
    import ssl

    context = ssl.create_default_context(cafile=str(ca_file))
    with urllib.request.urlopen(f"{base_url}/_stats?prefix={prefix}", context=context) as answer:
        return json.load(answer)


# -- one measured run (in a fresh process) -----------------------------------------------
def measure(implementation: str, size: int, url: str, run_tag: str, concurrency: int) -> dict:
    sys.path.insert(0, str(PREVIOUS if implementation == "threaded" else PACKAGE))
    from botocore.credentials import ReadOnlyCredentials

    credentials = ReadOnlyCredentials("AKIDBENCHMARK", "benchmark-secret", TOKEN)
    send = _senders(url, credentials, concurrency)[implementation]
    send([f"warm-{run_tag}-{n}=" for n in range(WARM_UP_POSTS)])
    ids = [f"{run_tag}-{n}=" for n in range(size)]
    cpu, wall = time.process_time(), time.perf_counter()
    delivered = send(ids)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {"cpu_s": cpu, "wall_s": wall, "delivered": delivered}


def _senders(url: str, credentials, concurrency: int) -> dict:
    """The senders the library on sys.path has (the previous one: threaded only)."""
    try:
        from incident_ws.connections_sender import ConnectionsSender
    except ImportError:
        ConnectionsSender = None
    try:
        from incident_ws.clients import keepalive_http
    except ImportError:
        keepalive_http = None
    senders = {}
    if keepalive_http is not None:
        senders["threaded"] = _threaded(url, credentials, concurrency, keepalive_http())
    if ConnectionsSender is not None:
        sender = ConnectionsSender(concurrency)

        def event_loop(ids: list[str]) -> int:
            counts = sender.send(url, REGION, credentials, ((cid, (BODY,)) for cid in ids))
            return counts.delivered

        senders["event-loop"] = event_loop
    return senders


def _threaded(url: str, credentials, concurrency: int, http):
    from concurrent.futures import ThreadPoolExecutor

    from incident_ws.connection_poster import ConnectionPoster, PostOutcome

    def threaded(ids: list[str]) -> int:
        poster = ConnectionPoster(url, REGION, credentials, http)
        with ThreadPoolExecutor(concurrency) as posts:
            tasks = [posts.submit(poster.post, cid, BODY) for cid in ids]
            return sum(task.result().outcome is PostOutcome.DELIVERED for task in tasks)

    return threaded


def profile(size: int, url: str, concurrency: int) -> str:
    """cProfile (CPU timer) of one warm event-loop send of `size` posts."""
    sys.path.insert(0, str(PACKAGE))
    from botocore.credentials import ReadOnlyCredentials

    credentials = ReadOnlyCredentials("AKIDBENCHMARK", "benchmark-secret", TOKEN)
    send = _senders(url, credentials, concurrency)["event-loop"]
    send([f"warm-profile-{n}=" for n in range(WARM_UP_POSTS)])
    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    send([f"profile-{n}=" for n in range(size)])
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(25)
    return out.getvalue()


# -- the whole benchmark -----------------------------------------------------------------
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs=2, default=[2000, 6000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--latency-ms", type=float, default=20)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument(
        "--previous-ref",
        default=os.environ.get("BENCH_BASELINE_REF") or "main",
        help="git ref the threaded sender is built from",
    )
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)  # the endpoint process
    parser.add_argument("--measure", nargs=4, help=argparse.SUPPRESS)  # one measured run
    parser.add_argument("--profile-run", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.serve, args.latency_ms)
    elif args.measure:
        implementation, size, url, tag = args.measure
        print(json.dumps(measure(implementation, int(size), url, tag, args.concurrency)))
    elif args.profile_run:
        size, url = args.profile_run
        print(profile(int(size), url, args.concurrency))
    else:
        run_all(args)


def run_all(args: argparse.Namespace) -> None:
    from dev.bench.previous import PreviousBuildError, build_previous
    from dev.harness.tls_test_ca import TestCa

    if not PACKAGE.is_file():
        sys.exit(f"{PACKAGE} is missing: run `make package`")
    try:
        build_previous(args.previous_ref, PREVIOUS.parent)
    except PreviousBuildError as error:
        sys.exit(f"bench failed: {error}")
    with tempfile.TemporaryDirectory(prefix="bench-sender-") as scratch:
        ca = TestCa.create(Path(scratch) / "ca")
        # Both senders verify the endpoint with the default context, which trusts this CA.
        env = {**os.environ, "SSL_CERT_FILE": str(ca.ca_file), "PYTHONPATH": str(REPO)}
        command = [sys.executable, "-m", "dev.bench.sender", "--latency-ms", str(args.latency_ms)]
        command += ["--concurrency", str(args.concurrency)]

        def child(*arguments: str) -> str:
            return subprocess.run(
                [*command, *arguments],
                capture_output=True,
                check=True,
                env=env,
                cwd=REPO,
                text=True,
            ).stdout

        log = Path(scratch) / "endpoint.log"
        with log.open("wb") as err:
            endpoint = subprocess.Popen(
                [*command, "--serve", str(ca.ca_file.parent)],
                stdout=subprocess.PIPE,
                stderr=err,
                env=env,
                cwd=REPO,
            )
        try:
            base_url = endpoint.stdout.readline().decode().strip()
            if not base_url.startswith("https://"):
                sys.exit(f"the endpoint did not start: {log.read_text()}")
            url = f"{base_url}/prod"
            cpu: dict[tuple[str, int], list[float]] = {}
            wall: dict[tuple[str, int], list[float]] = {}
            for repeat in range(args.repeats):
                for size in args.sizes:
                    for implementation in IMPLEMENTATIONS:
                        tag = f"{implementation}-{size}-{repeat}"
                        measured = json.loads(
                            child("--measure", implementation, str(size), url, tag)
                        )
                        _check_once(stats(base_url, tag, ca.ca_file), size, tag, measured)
                        cpu.setdefault((implementation, size), []).append(measured["cpu_s"])
                        wall.setdefault((implementation, size), []).append(measured["wall_s"])
            print(_table(args, cpu, wall))
            if args.profile:
                print(child("--profile-run", str(max(args.sizes)), url))
        finally:
            endpoint.terminate()
            endpoint.wait(timeout=10)


def _check_once(seen: dict[str, int], size: int, tag: str, measured: dict) -> None:
    if measured["delivered"] != size or seen != {"ids": size, "copies": size, "most": 1}:
        sys.exit(f"{tag}: delivered {measured['delivered']} of {size}; the endpoint saw {seen}")


def _table(args, cpu, wall) -> str:
    small, large = args.sizes
    lines = [
        f"TLS endpoint, {args.latency_ms:g} ms per answer, {args.concurrency} in flight, "
        f"median of {args.repeats} fresh processes per cell (CPU s / wall s)",
        "",
        f"| sender | N = {small:,} | N = {large:,} | marginal CPU per message |",
        "|---|--:|--:|--:|",
    ]
    for implementation in IMPLEMENTATIONS:
        medians = {
            size: (
                statistics.median(cpu[(implementation, size)]),
                statistics.median(wall[(implementation, size)]),
            )
            for size in args.sizes
        }
        marginal_ms = (medians[large][0] - medians[small][0]) / (large - small) * 1000
        lines.append(
            f"| {implementation} | {medians[small][0]:.2f} / {medians[small][1]:.2f} "
            f"| {medians[large][0]:.2f} / {medians[large][1]:.2f} | {marginal_ms:.3f} ms |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
