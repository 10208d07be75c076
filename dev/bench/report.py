"""dev/bench/results.md: the machine, the measurements and the verdicts, as Markdown."""

from __future__ import annotations

import os
import platform
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import version

TARGET_SPEEDUP = 20
TARGET_MARGINAL_CPU_MS = 0.10
TARGET_POSTING_SIZE = 10_000
TARGET_POSTING_S = 2.5
TARGET_SHARDED_SIZE = 100_000
SEQUENTIAL = "sequential"
PREVIOUS = "previous stream_processor"
HANDLER = "stream_processor"


@dataclass(frozen=True)
class Measurement:
    implementation: str  # SEQUENTIAL, PREVIOUS or HANDLER
    connections: int
    concurrency: str  # MAX_CONCURRENCY, "1" for the sequential loop
    wall_s: float
    cpu_s: float
    delivered: int
    throttled: int = 0  # posts the rate-limited fake answered 429

    @property
    def cpu_ms_per_message(self) -> float:
        return self.cpu_s * 1000 / self.delivered

    @property
    def messages_per_s(self) -> float:
        return self.delivered / self.wall_s


@dataclass(frozen=True)
class ShardedMeasurement:
    """A broadcast the stream processor shared with fan-out worker invocations."""

    connections: int
    concurrency: str
    wall_s: float
    cpu_s: float  # the stream processor's process
    workers_cpu_s: float  # the worker processes (started before the run)
    delivered: int
    segments: tuple[int, ...]  # connections each segment read, segment 0 (in-process) first

    @property
    def total_cpu_s(self) -> float:
        return self.cpu_s + self.workers_cpu_s

    @property
    def cpu_ms_per_message(self) -> float:
        return self.total_cpu_s * 1000 / self.delivered

    @property
    def messages_per_s(self) -> float:
        return self.delivered / self.wall_s


@dataclass
class ShardedSection:
    """The sharded fan-out's runs, and how they were set up."""

    description: str
    rows: list[ShardedMeasurement] = field(default_factory=list)


@dataclass(frozen=True)
class Method:
    latency_ms: int  # the fake's delay per post
    repeats: int  # stream_processor runs per figure (the median is shown)
    package: str  # the stream_processor zip, as given
    previous: str  # the git ref and commit the previous stream_processor was built from


@dataclass
class Section:
    """A mode's measurements: a heading, what it is, and its rows."""

    title: str
    description: str
    rows: list[Measurement] = field(default_factory=list)
    marginal: bool = True  # show the marginal CPU per implementation


def median_run(runs: list[Measurement]) -> Measurement:
    """The run with the median wall time (the upper one of an even count)."""
    ordered = sorted(runs, key=lambda run: run.wall_s)
    return ordered[len(ordered) // 2]


def marginal_cpu_ms(rows: Sequence[Measurement], implementation: str) -> float | None:
    """What one more delivered message costs in CPU: the difference between the smallest and
    the largest size's CPU over the difference in messages, so that what every invocation
    pays once (imports, clients, the first handshakes) drops out. None without two sizes."""
    runs = sorted(
        (r for r in rows if r.implementation == implementation), key=lambda r: r.connections
    )
    if len(runs) < 2 or runs[0].delivered == runs[-1].delivered:
        return None
    small, large = runs[0], runs[-1]
    return (large.cpu_s - small.cpu_s) * 1000 / (large.delivered - small.delivered)


def machine() -> dict[str, str]:
    return {
        "date (UTC)": datetime.now(UTC).strftime("%Y-%m-%d %H:%M"),
        "CPU": _cpu_model(),
        "cores": str(os.cpu_count()),
        "load average (1 min) at start": load_average(),
        "Python": platform.python_version(),
        "boto3 / botocore": f"{version('boto3')} / {version('botocore')}",
        "OS": platform.platform(),
    }


def load_average() -> str:
    """The machine is shared: a busy one makes every figure slower."""
    return f"{os.getloadavg()[0]:.2f}"


def render(
    info: dict[str, str],
    method: Method,
    main: Section,
    scans: dict[int, float],
    modes: list[Section],
    sweep: Section | None,
    more: list[str] | None = None,
    sharded: ShardedSection | None = None,
) -> str:
    """The whole file; `more` are further lines (sections) at its end."""
    baseline = {r.connections: r for r in main.rows if r.implementation == SEQUENTIAL}
    lines = [
        "# Benchmark: broadcasting one incident",
        "",
        "Written by `make bench` (`dev/bench/run.py`); do not edit by hand.",
        "",
        "One INSERT stream record is broadcast to N connections (rows in a moto server) through "
        f"a fake `@connections` server that answers every post after {method.latency_ms} ms. "
        f"`{HANDLER}` is imported from `{method.package}`; `{PREVIOUS}` is the same handler "
        f"built from {method.previous} (its threaded poster), run on the same servers and rows; "
        f"`{SEQUENTIAL}` is the original function's loop (`dev/bench/sequential.py`: scan, then "
        "`post_to_connection` one by one). Each run is a fresh process; wall and process CPU "
        f"time cover the invocation only. Figures are the median of {method.repeats} runs "
        "unless a section says otherwise. Every run is checked: each connection received "
        "exactly one copy.",
        "",
        *(f"- {key}: {value}" for key, value in info.items()),
        "",
        "## Targets",
        "",
        *_verdicts(main, modes, scans, baseline, sharded),
        "",
        f"## {main.title}",
        "",
        main.description,
        "",
        *_table(main.rows, baseline),
        "",
        *_marginals(main),
        "",
        "## Where the wall time goes",
        "",
        "moto is slow to serve a Scan; the Scan column is moto serving the same paginated "
        "Scan alone (median of 3). The original loop reads every row before its first post, so "
        "for it wall - Scan is its posting time. stream_processor posts each page as it "
        "arrives, so for it wall - Scan is what the broadcast costs beyond reading the table "
        "(the posting phase after the table read).",
        "",
        *_breakdown(main.rows, scans),
    ]
    for section in [*modes, *([sweep] if sweep else [])]:
        lines += ["", f"## {section.title}", "", section.description, ""]
        lines += _table(section.rows, baseline, throttled=any(r.throttled for r in section.rows))
        if section.marginal:
            lines += ["", *_marginals(section)]
    if sharded is not None and sharded.rows:
        lines += ["", *render_sharded(sharded, scans)]
    if more:
        lines += ["", *more]
    return "\n".join(lines) + "\n"


def render_sharded(section: ShardedSection, scans: dict[int, float]) -> list[str]:
    """The sharded fan-out's section: its runs, the connections of each segment, the CPU of the
    stream processor and of the workers."""
    lines = [
        "## Sharded fan-out",
        "",
        section.description,
        "",
        "| N | segments | connections per segment (segment 0 first) | wall s | moto Scan s "
        "| stream_processor CPU s | workers CPU s | CPU ms / message | messages/s |",
        "|--:|--:|---|--:|--:|--:|--:|--:|--:|",
    ]
    for run in section.rows:
        scan = scans.get(run.connections)
        lines.append(
            f"| {run.connections:,} | {len(run.segments)} "
            f"| {' / '.join(f'{n:,}' for n in run.segments)} | {run.wall_s:.2f} "
            f"| {'' if scan is None else f'{scan:.2f}'} | {run.cpu_s:.2f} "
            f"| {run.workers_cpu_s:.2f} | {run.cpu_ms_per_message:.3f} "
            f"| {run.messages_per_s:,.0f} |"
        )
    marginal = sharded_marginal_cpu_ms(section.rows)
    if marginal is not None:
        lines += [
            "",
            "Marginal CPU per delivered message, stream processor and workers together "
            f"(smallest and largest N): {marginal:.3f} ms.",
        ]
    return lines


def sharded_marginal_cpu_ms(rows: Sequence[ShardedMeasurement]) -> float | None:
    runs = sorted(rows, key=lambda r: r.connections)
    if len(runs) < 2 or runs[0].delivered == runs[-1].delivered:
        return None
    small, large = runs[0], runs[-1]
    return (large.total_cpu_s - small.total_cpu_s) * 1000 / (large.delivered - small.delivered)


def _verdicts(
    main: Section,
    modes: list[Section],
    scans: dict[int, float],
    baseline: dict,
    sharded: ShardedSection | None = None,
) -> list[str]:
    lines = []
    for section in [main, *modes]:
        if not section.marginal:
            continue
        marginal = marginal_cpu_ms(section.rows, HANDLER)
        if marginal is None:
            continue
        verdict = "met" if marginal <= TARGET_MARGINAL_CPU_MS else "**missed**"
        previous = marginal_cpu_ms(section.rows, PREVIOUS)
        was = "" if previous is None else f" (previous: {previous:.3f} ms)"
        lines.append(
            f"- marginal CPU per delivered message ≤ {TARGET_MARGINAL_CPU_MS:.2f} ms, "
            f"{section.title}: {verdict}, {marginal:.3f} ms{was}."
        )
    handler = next(
        (
            r
            for r in main.rows
            if r.implementation == HANDLER and r.connections == TARGET_POSTING_SIZE
        ),
        None,
    )
    if handler is not None:
        posting = handler.wall_s - scans[TARGET_POSTING_SIZE]
        verdict = "met" if posting <= TARGET_POSTING_S else "**missed**"
        lines.append(
            f"- N = {TARGET_POSTING_SIZE:,} posted in ≤ {TARGET_POSTING_S} s after the table "
            f"read (wall - moto Scan): {verdict}, {posting:.2f} s."
        )
    if TARGET_POSTING_SIZE in baseline and handler is not None:
        speedup = baseline[TARGET_POSTING_SIZE].wall_s / handler.wall_s
        verdict = "met" if speedup >= TARGET_SPEEDUP else "**missed**"
        lines.append(
            f"- N = {TARGET_POSTING_SIZE:,} at least {TARGET_SPEEDUP}x faster than sequential in "
            f"wall time: {verdict}, {speedup:.1f}x."
        )
    largest = max(sharded.rows, key=lambda r: r.connections) if sharded and sharded.rows else None
    if largest is not None and largest.connections >= TARGET_SHARDED_SIZE:
        lines.append(
            f"- N = {largest.connections:,} delivered exactly once through the sharded path: "
            f"met, {len(largest.segments)} segments in {largest.wall_s:.2f} s."
        )
    return lines or ["- (the sizes run give no verdict: run two sizes, 10,000 among them)"]


def _table(
    runs: list[Measurement], baseline: dict[int, Measurement], throttled: bool = False
) -> list[str]:
    rows = [
        "| implementation | N | MAX_CONCURRENCY | wall s | CPU ms / message | messages/s "
        + ("| throttled (429) " if throttled else "")
        + "| speed-up vs sequential |",
        "|---|--:|--:|--:|--:|--:|" + ("--:|" if throttled else "") + "--:|",
    ]
    for run in runs:
        sequential = baseline.get(run.connections)
        speedup = "" if sequential is None else f"{sequential.wall_s / run.wall_s:.1f}x"
        rows.append(
            f"| {run.implementation} | {run.connections:,} | {run.concurrency} "
            f"| {run.wall_s:.2f} | {run.cpu_ms_per_message:.3f} | {run.messages_per_s:,.0f} "
            + (f"| {run.throttled:,} " if throttled else "")
            + f"| {speedup} |"
        )
    return rows


def _marginals(section: Section) -> list[str]:
    figures = []
    for implementation in (PREVIOUS, HANDLER):
        marginal = marginal_cpu_ms(section.rows, implementation)
        if marginal is not None:
            figures.append(f"{implementation} {marginal:.3f} ms")
    if not figures:
        return ["Marginal CPU per delivered message: needs two sizes."]
    return [
        "Marginal CPU per delivered message (CPU difference between the smallest and the "
        "largest N over the difference in messages): " + "; ".join(figures) + "."
    ]


def _breakdown(runs: list[Measurement], scans: dict[int, float]) -> list[str]:
    rows = [
        "| implementation | N | moto Scan s | wall - Scan s |",
        "|---|--:|--:|--:|",
    ]
    for run in runs:
        scan = scans[run.connections]
        rows.append(
            f"| {run.implementation} | {run.connections:,} | {scan:.2f} | {run.wall_s - scan:.2f} |"
        )
    return rows


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"
