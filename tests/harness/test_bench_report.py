"""The benchmark's results.md: what it says with and without sharded runs."""

from __future__ import annotations

from dev.bench.report import (
    Measurement,
    Method,
    Section,
    ShardedMeasurement,
    ShardedSection,
    render,
)

METHOD = Method(latency_ms=20, repeats=1, package="stream_processor.zip", previous="abc")


def _main_section() -> Section:
    return Section(
        "Plain HTTP",
        "on a full core",
        [
            Measurement("stream_processor", 1000, "128", 0.5, 0.2, 1000),
            Measurement("stream_processor", 10000, "128", 3.5, 0.8, 10000),
        ],
    )


def _render(sharded: ShardedSection | None) -> str:
    scans = {1000: 0.2, 10000: 1.5}
    return render({}, METHOD, _main_section(), scans, [], None, sharded=sharded)


def test_a_run_without_sharded_sizes_has_no_sharded_section_nor_verdict():
    text = _render(ShardedSection("set-up"))

    assert "sharded path" not in text
    assert "N = 10,000 posted in ≤ 2.5 s after the table read" in text


def test_a_sharded_run_of_100000_gives_its_verdict_and_its_segments():
    run = ShardedMeasurement(100_000, "64", 23.58, 3.14, 6.01, 100_000, (33741, 33293, 32966))

    text = _render(ShardedSection("set-up", [run]))

    assert "N = 100,000 delivered exactly once through the sharded path: met" in text
    assert "33,741" in text or "33741" in text
