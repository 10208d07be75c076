"""EMF lines in a function's output become metrics as CloudWatch Logs extracts them: checked
against the format, aggregated per namespace, metric, dimensions and unit."""

from __future__ import annotations

import json
from typing import Any

import pytest

from dev.emulator.embedded_metrics import (
    MAX_KEPT_VALUES,
    Datapoint,
    InvalidEmf,
    MetricStore,
    extract,
)

NAMESPACE = "IncidentWebSocket/test"
TIMESTAMP = 1_795_444_801_234


def emf(
    metrics: dict[str, tuple[str, Any]],
    dimensions: list[list[str]] | None = None,
    namespace: str = NAMESPACE,
    **root: Any,
) -> str:
    """One EMF line: `metrics` is name → (unit, value or list of values)."""
    dimensions = [["Function", "Channel"]] if dimensions is None else dimensions
    document = {
        "_aws": {
            "Timestamp": TIMESTAMP,
            "CloudWatchMetrics": [
                {
                    "Namespace": namespace,
                    "Dimensions": dimensions,
                    "Metrics": [
                        {"Name": name, "Unit": unit} for name, (unit, _) in metrics.items()
                    ],
                }
            ],
        },
        "Function": "stream_processor",
        "Channel": "history",
        **{name: value for name, (_, value) in metrics.items()},
        **root,
    }
    return json.dumps(document)


HISTORY = (("Channel", "history"), ("Function", "stream_processor"))


def with_document(line: str, change: Any) -> str:
    document = json.loads(line)
    change(document)
    return json.dumps(document)


# --------------------------------------------------------------------------------------------
# Extraction
# --------------------------------------------------------------------------------------------


def test_a_line_gives_each_metric_with_its_unit_dimensions_and_value():
    line = emf({"Delivered": ("Count", 4), "FanOutDuration": ("Milliseconds", 12.5)})

    assert extract(line) == [
        Datapoint(NAMESPACE, "Delivered", "Count", HISTORY, (4,)),
        Datapoint(NAMESPACE, "FanOutDuration", "Milliseconds", HISTORY, (12.5,)),
    ]


def test_a_list_of_values_gives_every_value():
    line = emf({"EndToEndLatency": ("Milliseconds", [612.4, 655, 700.1])})

    (point,) = extract(line)

    assert point.values == (612.4, 655, 700.1)


def test_log_lines_that_are_not_emf_give_nothing():
    lines = [
        "INFO incident_ws.broadcast delivered",
        '{"level": "INFO", "message": "delivered", "Channel": "history"}',
        '{"_aws" is not JSON',
        '["_aws"]',
        "",
    ]

    assert [extract(line) for line in lines] == [None] * len(lines)


def test_every_directive_of_a_line_and_every_dimension_set_of_a_directive_is_extracted():
    line = with_document(
        emf({"Delivered": ("Count", 3)}, dimensions=[["Function", "Channel"], ["Function"]]),
        lambda document: document["_aws"]["CloudWatchMetrics"].append(
            {"Namespace": "Other", "Dimensions": [["Channel"]], "Metrics": [{"Name": "Delivered"}]}
        ),
    )

    assert extract(line) == [
        Datapoint(NAMESPACE, "Delivered", "Count", HISTORY, (3,)),
        Datapoint(NAMESPACE, "Delivered", "Count", (("Function", "stream_processor"),), (3,)),
        Datapoint("Other", "Delivered", "None", (("Channel", "history"),), (3,)),
    ]


def test_a_directive_without_dimension_sets_gives_metrics_without_dimensions():
    (point,) = extract(emf({"Records": ("Count", 2)}, dimensions=[]))

    assert point.dimensions == ()


def test_dimensions_are_one_set_whatever_their_order():
    (one,) = extract(emf({"Delivered": ("Count", 1)}, dimensions=[["Function", "Channel"]]))
    (other,) = extract(emf({"Delivered": ("Count", 1)}, dimensions=[["Channel", "Function"]]))

    assert one.dimensions == other.dimensions == HISTORY


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda d: d.update(_aws=[]), "`_aws` is not an object"),
        (lambda d: d["_aws"].pop("Timestamp"), "Timestamp"),
        (lambda d: d["_aws"].update(Timestamp="now"), "Timestamp"),
        (lambda d: d["_aws"].pop("CloudWatchMetrics"), "CloudWatchMetrics"),
        (lambda d: d["_aws"]["CloudWatchMetrics"][0].pop("Namespace"), "Namespace"),
        (lambda d: d["_aws"]["CloudWatchMetrics"][0].update(Namespace="AWS/Lambda"), "Namespace"),
        (lambda d: d["_aws"]["CloudWatchMetrics"][0].update(Namespace="a" * 256), "Namespace"),
        (lambda d: d["_aws"]["CloudWatchMetrics"][0].update(Dimensions=["Channel"]), "set"),
        (lambda d: d.pop("Channel"), "dimension 'Channel'"),
        (lambda d: d.update(Channel=7), "dimension 'Channel'"),
        (lambda d: d.update(Channel="historé"), "dimension 'Channel'"),
        (lambda d: d["_aws"]["CloudWatchMetrics"][0]["Metrics"][0].update(Unit="ms"), "Unit"),
        (lambda d: d["_aws"]["CloudWatchMetrics"][0]["Metrics"][0].pop("Name"), "metric name"),
        (lambda d: d.pop("Delivered"), "Delivered: value None"),
        (lambda d: d.update(Delivered="4"), "Delivered: value '4'"),
        (lambda d: d.update(Delivered=True), "Delivered: value True"),
        (lambda d: d.update(Delivered=[1, "2"]), "Delivered: value '2'"),
        (lambda d: d.update(Delivered=[]), "Delivered: 0 values"),
        (lambda d: d.update(Delivered=[1] * 101), "Delivered: 101 values"),
    ],
)
def test_an_emf_line_that_breaks_the_format_is_refused_with_the_reason(change, reason):
    line = with_document(emf({"Delivered": ("Count", 4)}), change)

    with pytest.raises(InvalidEmf, match=reason.replace("(", r"\(")):
        extract(line)


def test_more_than_thirty_dimensions_in_a_set_are_refused():
    names = [f"D{i}" for i in range(31)]
    line = emf({"Delivered": ("Count", 1)}, dimensions=[names], **dict.fromkeys(names, "x"))

    with pytest.raises(InvalidEmf, match="31 dimensions"):
        extract(line)


def test_more_than_a_hundred_metrics_in_a_directive_are_refused():
    line = emf({f"M{i}": ("Count", 1) for i in range(101)})

    with pytest.raises(InvalidEmf, match="at most 100"):
        extract(line)


def test_deeply_nested_json_is_a_log_line_not_a_crash():
    line = '{"_aws": ' + "[" * 100_000 + "]" * 100_000 + "}"

    assert extract(line) is None


# --------------------------------------------------------------------------------------------
# Aggregation
# --------------------------------------------------------------------------------------------


def test_a_series_adds_up_count_sum_minimum_maximum_and_percentiles_over_lines():
    store = MetricStore()
    store.add_line(emf({"EndToEndLatency": ("Milliseconds", [float(v) for v in range(1, 51)])}))
    store.add_line(emf({"EndToEndLatency": ("Milliseconds", [float(v) for v in range(51, 101)])}))

    (series,) = store.summary()["metrics"]

    assert series == {
        "namespace": NAMESPACE,
        "metric": "EndToEndLatency",
        "dimensions": {"Channel": "history", "Function": "stream_processor"},
        "unit": "Milliseconds",
        "count": 100,
        "sum": 5050.0,
        "min": 1.0,
        "max": 100.0,
        "p50": 50.0,
        "p99": 99.0,
        "keptValues": 100,
    }


def test_a_count_written_once_per_invocation_is_one_sample_of_its_value():
    store = MetricStore()
    store.add_line(emf({"Delivered": ("Count", 4)}))
    store.add_line(emf({"Delivered": ("Count", 0)}))

    (series,) = store.summary()["metrics"]

    assert (series["count"], series["sum"], series["min"], series["max"]) == (2, 4, 0, 4)


def test_series_are_told_apart_by_namespace_metric_dimensions_and_unit_and_listed_in_order():
    store = MetricStore()
    store.add_line(emf({"Delivered": ("Count", 1)}, Channel="live"))
    store.add_line(emf({"Delivered": ("Count", 1)}))
    store.add_line(emf({"Delivered": ("Count", 1)}, namespace="Another"))
    store.add_line(emf({"Delivered": ("None", 1)}))
    store.add_line(emf({"ConnectionsRead": ("Count", 1)}))

    listed = [
        (s["namespace"], s["metric"], s["dimensions"]["Channel"], s["unit"])
        for s in store.summary()["metrics"]
    ]

    assert listed == [
        ("Another", "Delivered", "history", "Count"),
        (NAMESPACE, "ConnectionsRead", "history", "Count"),
        (NAMESPACE, "Delivered", "history", "Count"),
        (NAMESPACE, "Delivered", "history", "None"),
        (NAMESPACE, "Delivered", "live", "Count"),
    ]


def test_a_refused_line_adds_nothing_and_is_counted():
    store = MetricStore()
    store.add_line(emf({"Delivered": ("Count", 1)}))
    broken = with_document(emf({"Delivered": ("Count", 5)}), lambda d: d.update(Channel=None))

    with pytest.raises(InvalidEmf):
        store.add_line(broken)

    summary = store.summary()
    assert [s["sum"] for s in summary["metrics"]] == [1]
    assert summary["rejectedLines"] == 1


def test_plain_log_lines_add_nothing():
    store = MetricStore()

    store.add_line("INFO incident_ws.broadcast delivered")

    assert store.summary() == {"metrics": [], "rejectedLines": 0}


def test_a_series_keeps_a_bounded_sample_of_its_values_and_exact_totals():
    store = MetricStore()
    values = list(range(MAX_KEPT_VALUES * 3))
    for first in range(0, len(values), 100):
        store.add_line(emf({"FanOutDuration": ("Milliseconds", values[first : first + 100])}))

    (series,) = store.summary()["metrics"]

    assert series["keptValues"] == MAX_KEPT_VALUES
    assert (series["count"], series["sum"]) == (len(values), sum(values))
    assert (series["min"], series["max"]) == (0, len(values) - 1)
    assert abs(series["p50"] - len(values) / 2) < len(values) * 0.05
