"""The sizing model: measured figures and AWS's documented facts → the module's defaults and the
cost of one broadcast. `python -m dev.bench.sizing` prints it (dev/bench/sizing/__main__.py).

Lambda gives a function CPU in proportion to its memory, 1,769 MB = one vCPU. The broadcasting
functions post from one event loop, so they never use more than one core; the others run one
request at a time. A CPU time measured on a full core therefore takes CPU time / share of wall
time at a memory whose share of a vCPU is memory / 1,769 MB.
"""

from __future__ import annotations

import importlib.util
import math
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]


def _load_limits():
    """functions/lib/incident_ws/limits.py as the handlers read it (it imports nothing)."""
    path = REPO_ROOT / "functions" / "lib" / "incident_ws" / "limits.py"
    spec = importlib.util.spec_from_file_location("incident_ws_limits", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


LIMITS = _load_limits()

################################################################################
# AWS's documented facts (us-east-1 list prices as published in 2025; x86_64, the default)
################################################################################

MB_PER_VCPU = 1769  # Lambda developer guide, "Configuring Lambda function memory"
MIN_MEMORY_MB, MAX_MEMORY_MB = 128, 10240
MEMORY_STEP_MB = 64  # Lambda accepts 1 MB steps; the defaults are rounded up to 64 MB
ACCOUNT_REQUESTS_PER_SECOND = 10_000  # API Gateway's account throttle per Region (adjustable)
LAMBDA_USD_PER_GB_SECOND = 0.0000166667
LAMBDA_USD_PER_REQUEST = 0.20 / 1e6
API_GATEWAY_USD_PER_MESSAGE = 1.00 / 1e6  # WebSocket messages (32 KB units), first billion
API_GATEWAY_USD_PER_CONNECTION_MINUTE = 0.25 / 1e6
DYNAMODB_USD_PER_READ_UNIT = 0.125 / 1e6  # on demand, since the November 2024 price cut

################################################################################
# Measured on this repository's 2-core machine (20 ms per post at the fake @connections)
################################################################################

BENCH_RUN = (
    'BENCH_SEQUENTIAL_MAX=0 BENCH_CONCURRENCY="64 128 256" make bench BENCH_SIZES="500 2000"'
)
SENDER_RUN = "make bench-sender"
READS_RUN = "python -m dev.bench.reads"
HANDLER_CPU_RUN = "python -m dev.bench.handler_cpu --calls 300 --cold-starts 5"

# BENCH_RUN: marginal CPU per delivered message under a 0.145-core cgroup share, plain HTTP
# (table read and posts), and its fixed part per invocation (500 messages took 56 ms of CPU,
# 2,000 took 170 ms).
CPU_PER_MESSAGE_SHARE_MS = 0.076
FIXED_CPU_PER_INVOCATION_MS = 56 - 500 * CPU_PER_MESSAGE_SHARE_MS
# SENDER_RUN: the sender alone over TLS, 10,000 posts at 256 in flight, CPU / posts
# (TLS handshakes included).
CPU_PER_MESSAGE_TLS_MS = 0.083
# Posts on AWS are TLS and the handler also reads the table: the larger figure is used.
CPU_PER_MESSAGE_MS = max(CPU_PER_MESSAGE_SHARE_MS, CPU_PER_MESSAGE_TLS_MS)
# The fake @connections answers after 20 ms: API Gateway's own latency was not measured.
POST_LATENCY_SECONDS = 0.020
# READS_RUN (10,000 connections over 100 accounts, 10 % unscoped): read units
# DynamoDB charges for the Scan of the whole table, and for the two Queries of one account's
# audience and `*`.
SCAN_READ_UNITS_PER_10K = 267
QUERY_READ_UNITS_PER_10K = 7
# Reads overlap the posts (each page is posted as it arrives), so a pass waits on the table for
# its first page, and at worst a page and its retry: the longest DynamoDB call the broadcasting
# handlers make. moto's Scan rate (1,000-row pages in up to 0.96 s) is not DynamoDB's.
READ_ALLOWANCE_SECONDS = LIMITS.LONGEST_DYNAMODB_CALL_SECONDS
# Full-core CPU of one cold start (init: import from the zip, clients created; plus the first
# call) and of a warm call. authorizer: BENCH_RUN (dev/bench/authorization.py, median of 10
# cold starts and 2,000 warm calls); the others: HANDLER_CPU_RUN (median of 5; replay and
# findings: init only, their first call unmeasured).
COLD_START_CPU_MS = {
    "authorizer": 53.7 + 4.9,
    "connect": 300.7 + 6.7,
    "disconnect": 333.1 + 6.6,
    "replay": 327.4,
    "findings": 270.4,
}
WARM_CALL_CPU_MS = {"authorizer": 0.26, "connect": 2.75, "disconnect": 2.10}

################################################################################
# Rules
################################################################################

# The broadcasting functions keep MAX_CONCURRENCY posts in flight; they are sized for throughput.
FAN_OUT_FUNCTIONS = ("stream_processor", "fanout_worker", "heartbeat", "presence")


@dataclass(frozen=True)
class LatencyBudget:
    warm_ms: float
    cold_ms: float
    why: str


# A client waits for its handshake (authorizer, then connect) and for its replay: each function
# on that path gets a cold start of at most 1 s and a warm call of at most 25 ms of CPU. Nobody
# waits for disconnect or findings: a quarter of disconnect's 10 s timeout.
WAITED_FOR = LatencyBudget(25, 1000, "a client waits for it")
BACKGROUND = LatencyBudget(250, 2500, "nobody waits for it")
LATENCY_BUDGETS = {
    "connect": WAITED_FOR,
    "authorizer": WAITED_FOR,
    "replay": WAITED_FOR,
    "disconnect": BACKGROUND,
    "findings": BACKGROUND,
}
FUNCTIONS = (
    "connect",
    "disconnect",
    "authorizer",
    "replay",
    "stream_processor",
    "heartbeat",
    "presence",
    "fanout_worker",
    "findings",
)

# The module's default timeouts (variables.tf, lambda_timeouts): a worker has the stream
# processor's minus 10 s, and every segment must end within the shorter one.
STREAM_PROCESSOR_TIMEOUT_SECONDS = 60
FANOUT_WORKER_TIMEOUT_SECONDS = STREAM_PROCESSOR_TIMEOUT_SECONDS - 10
# What the model cannot see (API Gateway's latency, Lambda's CPU against this machine's, a slow
# page): a segment is given half of what one invocation reaches in its budget.
SAFETY_FACTOR = 0.5


def share_of_vcpu(memory_mb: float) -> float:
    """What one event loop gets of a vCPU at this memory: at most one core."""
    return min(1.0, memory_mb / MB_PER_VCPU)


def rounded_memory(memory_mb: float) -> int:
    stepped = math.ceil(memory_mb / MEMORY_STEP_MB) * MEMORY_STEP_MB
    return max(MIN_MEMORY_MB, min(MAX_MEMORY_MB, stepped))


def posts_per_second_in_flight() -> float:
    """What `max_concurrency`'s default lets one invocation post, when CPU keeps up."""
    return LIMITS.DEFAULT_MAX_CONCURRENCY / POST_LATENCY_SECONDS


def fan_out_memory_mb() -> int:
    """The knee: CPU per message times the messages/s the posts in flight allow = the vCPU share."""
    needed_vcpu = posts_per_second_in_flight() * CPU_PER_MESSAGE_MS / 1000
    return rounded_memory(needed_vcpu * MB_PER_VCPU)


def latency_memory_mb(function: str) -> int:
    """The smallest memory whose cold start and warm call stay within the function's budget."""
    budget = LATENCY_BUDGETS[function]
    needed_vcpu = max(
        COLD_START_CPU_MS[function] / budget.cold_ms,
        WARM_CALL_CPU_MS.get(function, 0.0) / budget.warm_ms,
    )
    return rounded_memory(needed_vcpu * MB_PER_VCPU)


def memory_sizes() -> dict[str, int]:
    return {
        function: fan_out_memory_mb()
        if function in FAN_OUT_FUNCTIONS
        else latency_memory_mb(function)
        for function in FUNCTIONS
    }


def messages_per_second(memory_mb: int) -> float:
    """What one broadcasting invocation reaches: bound by its posts in flight or by its CPU."""
    cpu_bound = share_of_vcpu(memory_mb) / (CPU_PER_MESSAGE_MS / 1000)
    return min(posts_per_second_in_flight(), cpu_bound, ACCOUNT_REQUESTS_PER_SECOND)


def segment_budget_seconds() -> float:
    return FANOUT_WORKER_TIMEOUT_SECONDS - LIMITS.DEADLINE_MARGIN_SECONDS - READ_ALLOWANCE_SECONDS


def connections_per_worker() -> int:
    """Rounded down to a thousand."""
    reach = messages_per_second(fan_out_memory_mb()) * segment_budget_seconds() * SAFETY_FACTOR
    return int(reach // 1000 * 1000)


def max_workers() -> int:
    """Enough segments to carry the account's request rate; more would only wait on 429s."""
    return math.ceil(ACCOUNT_REQUESTS_PER_SECOND / messages_per_second(fan_out_memory_mb()))


################################################################################
# One broadcast
################################################################################


@dataclass(frozen=True)
class Broadcast:
    connections: int
    segments: int
    wall_seconds: float
    gb_seconds: float
    lambda_usd: float
    messages_usd: float
    scan_usd: float
    query_usd: float
    connected_hour_usd: float

    @property
    def total_usd(self) -> float:
        return self.lambda_usd + self.messages_usd + self.scan_usd


def broadcast(connections: int) -> Broadcast:
    """One message to every connection of one channel, at the defaults."""
    memory = fan_out_memory_mb()
    segments = max(1, min(max_workers(), math.ceil(connections / connections_per_worker())))
    rate = min(segments * messages_per_second(memory), ACCOUNT_REQUESTS_PER_SECOND)
    fixed = FIXED_CPU_PER_INVOCATION_MS / 1000 / share_of_vcpu(memory)
    wall = fixed + connections / rate
    gb_seconds = segments * memory / 1024 * wall  # the stream processor waits for its workers
    return Broadcast(
        connections=connections,
        segments=segments,
        wall_seconds=wall,
        gb_seconds=gb_seconds,
        lambda_usd=gb_seconds * LAMBDA_USD_PER_GB_SECOND + segments * LAMBDA_USD_PER_REQUEST,
        messages_usd=connections * API_GATEWAY_USD_PER_MESSAGE,
        scan_usd=connections * SCAN_READ_UNITS_PER_10K / 10_000 * DYNAMODB_USD_PER_READ_UNIT,
        query_usd=connections * QUERY_READ_UNITS_PER_10K / 10_000 * DYNAMODB_USD_PER_READ_UNIT,
        connected_hour_usd=connections * 60 * API_GATEWAY_USD_PER_CONNECTION_MINUTE,
    )


################################################################################
# Output
################################################################################

BROADCAST_SIZES = (1_000, 10_000, 100_000)
TIMES, MINUS = "\u00d7", "\u2212"  # as README.md writes them


def _usd(value: float) -> str:
    """Two significant digits (the model is no more precise than that), never an exponent."""
    decimals = max(2, 1 - math.floor(math.log10(value)))
    return f"${value:.{decimals}f}"


def memory_table() -> str:
    sizes = memory_sizes()
    rows = [
        "| function | memory | rule | figure |",
        "|---|--:|---|---|",
    ]
    knee = posts_per_second_in_flight() * CPU_PER_MESSAGE_MS / 1000
    for function in FUNCTIONS:
        if function in FAN_OUT_FUNCTIONS:
            rule = "throughput: the knee where CPU stops being the bottleneck"
            figure = (
                f"{LIMITS.DEFAULT_MAX_CONCURRENCY} posts in flight / "
                f"{POST_LATENCY_SECONDS * 1000:.0f} ms {TIMES} {CPU_PER_MESSAGE_MS} ms of CPU = "
                f"{knee:.2f} vCPU"
            )
        else:
            budget = LATENCY_BUDGETS[function]
            rule = (
                f"latency ({budget.why}): cold start ≤ {budget.cold_ms / 1000:g} s, "
                f"warm call ≤ {budget.warm_ms:g} ms"
            )
            share = share_of_vcpu(sizes[function])
            cold = COLD_START_CPU_MS[function] / share
            figure = f"cold start {COLD_START_CPU_MS[function]:.0f} ms of CPU → {cold:.0f} ms"
            if function in WARM_CALL_CPU_MS:
                warm = WARM_CALL_CPU_MS[function] / share
                figure += f"; warm call {WARM_CALL_CPU_MS[function]} ms → {warm:.1f} ms"
        rows.append(f"| {function} | {sizes[function]} MB | {rule} | {figure} |")
    return "\n".join(rows)


def inputs_table() -> str:
    def cold_and_warm(functions: tuple[str, ...]) -> str:
        return "; ".join(
            f"{function} {COLD_START_CPU_MS[function]:.1f} ms"
            + (f", {WARM_CALL_CPU_MS[function]} ms" if function in WARM_CALL_CPU_MS else "")
            for function in functions
        )

    rows = [
        "| input | figure | measured by |",
        "|---|---|---|",
        f"| CPU per delivered message | {CPU_PER_MESSAGE_MS} ms | the larger of "
        f"{CPU_PER_MESSAGE_SHARE_MS} ms (marginal: table read and posts, plain HTTP, under a "
        f"0.145-core cgroup share; `{BENCH_RUN}`) and {CPU_PER_MESSAGE_TLS_MS} ms (the sender "
        f"alone over TLS, 10,000 posts at 256 in flight, handshakes included; `{SENDER_RUN}`) |",
        f"| fixed CPU per invocation | {FIXED_CPU_PER_INVOCATION_MS:.0f} ms | the same run: "
        "500 messages took 56 ms of CPU |",
        f"| posts in flight | {LIMITS.DEFAULT_MAX_CONCURRENCY} | `max_concurrency`'s default "
        "(functions/lib/incident_ws/limits.py) |",
        f"| post latency | {POST_LATENCY_SECONDS * 1000:.0f} ms | **assumed**: the bench's fake "
        "`@connections`; API Gateway's own was not measured |",
        f"| table read allowance | {READ_ALLOWANCE_SECONDS:g} s | reads overlap the posts: a pass "
        "waits at worst for one page and its retry (the handlers' longest DynamoDB call); "
        "DynamoDB's Scan rate was not measured (moto's is not DynamoDB's) |",
        f"| read units per 10,000 connections | Scan {SCAN_READ_UNITS_PER_10K}, one-account "
        f"Query {QUERY_READ_UNITS_PER_10K} | `{READS_RUN}` (100 accounts, 10 % unscoped) |",
        "| CPU of a cold start (init and first call) and of a warm call, full core | "
        f"{cold_and_warm(('authorizer',))} | `{BENCH_RUN}` |",
        f"| | {cold_and_warm(('connect', 'disconnect'))} | `{HANDLER_CPU_RUN}` |",
        f"| | {cold_and_warm(('replay', 'findings'))} (init only) | the same |",
    ]
    return "\n".join(rows)


def sharding_text() -> str:
    memory = fan_out_memory_mb()
    rate = messages_per_second(memory)
    return (
        f"connections_per_worker = {rate:,.0f} messages/s at {memory} MB {TIMES} "
        f"({FANOUT_WORKER_TIMEOUT_SECONDS} s {MINUS} {LIMITS.DEADLINE_MARGIN_SECONDS:g} s "
        f"{MINUS} {READ_ALLOWANCE_SECONDS:g} s = {segment_budget_seconds():g} s) {TIMES} "
        f"{SAFETY_FACTOR:g}"
        f" = {connections_per_worker():,}\n"
        f"max_workers = ⌈{ACCOUNT_REQUESTS_PER_SECOND:,} requests/s / {rate:,.0f} messages/s⌉"
        f" = {max_workers()}"
    )


def cost_table() -> str:
    rows = [
        "| connections | invocations | wall time | GB-seconds | Lambda | API Gateway messages "
        "| DynamoDB Scan | total | one-account Query instead of the Scan "
        "| connections open for an hour |",
        "|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for size in BROADCAST_SIZES:
        b = broadcast(size)
        rows.append(
            f"| {size:,} | {b.segments} | {b.wall_seconds:.1f} s | {b.gb_seconds:.2g} "
            f"| {_usd(b.lambda_usd)} | {_usd(b.messages_usd)} | {_usd(b.scan_usd)} "
            f"| {_usd(b.total_usd)} | {_usd(b.query_usd)} | {_usd(b.connected_hour_usd)} |"
        )
    return "\n".join(rows)
