"""The metrics the functions emitted during the demo, as a table for the terminal: one row per
metric and dimensions, the figures CloudWatch would show for the whole run. Series that stayed
at 0 (a handler reports every count, also when nothing happened) are left out and counted."""

from __future__ import annotations

from typing import Any

FUNCTION = "Function"
HEADINGS = ("metric", "dimensions", "unit", "count", "sum", "p99")
NUMBERS = 3  # the last columns, aligned right


def metrics_table(summary: dict[str, Any], everything_at: str = "") -> list[str]:
    """The lines of the table of `summary` (what the emulator's metrics endpoint answers, which
    `everything_at` may name): a heading per namespace, rows grouped by function."""
    listed = summary.get("metrics", [])
    if not listed:
        return ["No metrics were emitted (the functions write them only with METRICS_NAMESPACE)."]
    shown = [s for s in listed if not s["min"] == s["max"] == 0]
    lines = []
    for namespace in sorted({s["namespace"] for s in shown}):
        rows = [_row(s) for s in sorted(shown, key=_by_function) if s["namespace"] == namespace]
        lines += [f"Metrics in {namespace}, as CloudWatch would extract them from the logs:"]
        lines += [f"  {line}" for line in _aligned([HEADINGS, *rows])]
    zeros = len(listed) - len(shown)
    if zeros:
        where = f": {everything_at}" if everything_at else ""
        more = "more " if shown else ""
        lines.append(f"{zeros} {more}series stayed at 0 (every series{where}).")
    rejected = summary.get("rejectedLines", 0)
    if rejected:
        lines.append(
            f"{rejected} EMF line{'s' if rejected != 1 else ''} broke the format and gave no"
            " metrics: see the Lambda logs."
        )
    return lines


def _by_function(series: dict[str, Any]) -> tuple[str, str, list[tuple[str, str]]]:
    dimensions = series["dimensions"]
    return dimensions.get(FUNCTION, ""), series["metric"], sorted(dimensions.items())


def _row(series: dict[str, Any]) -> tuple[str, ...]:
    dimensions = series["dimensions"]
    # The function first: it is what a reader looks for.
    names = sorted(dimensions, key=lambda name: (name != FUNCTION, name))
    return (
        series["metric"],
        " ".join(f"{name}={dimensions[name]}" for name in names),
        series["unit"],
        str(series["count"]),
        _number(series["sum"]),
        _number(series["p99"]),
    )


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def _aligned(rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    text_columns = len(widths) - NUMBERS
    return [
        "  ".join(
            cell.ljust(width) if column < text_columns else cell.rjust(width)
            for column, (cell, width) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in rows
    ]
