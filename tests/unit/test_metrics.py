"""The metrics helper and its catalogue: what one invocation's recorder writes as EMF lines,
where (METRICS_NAMESPACE), split at EMF's limits, flushed even when the invocation fails, and
that a call the catalogue does not allow is dropped and logged, never raised."""

from __future__ import annotations

import json

import pytest

from tests.support.emf import read_emf
from tests.support.lambda_zip import load_module
from tests.unit.helpers import channels_env, parse_log_event

NAMESPACE = "IncidentWebSocket/secops"
NOW = 1795444801.2345


@pytest.fixture
def metrics_module():
    return load_module("stream_processor", "incident_ws.metrics")


@pytest.fixture
def written() -> list[str]:
    return []


@pytest.fixture
def stream_metrics(metrics_module, written):
    """The stream processor's metrics on the channels `events` and `history`."""
    return metrics_module.Metrics(
        "stream_processor", NAMESPACE, ("events", "history"), written.append, lambda: NOW
    )


def lines(written: list[str]) -> list[dict]:
    return [json.loads(line) for line in written]


# -- what is written ---------------------------------------------------------------------------


def test_a_count_is_added_up_over_the_invocation_and_written_once(stream_metrics, written):
    with stream_metrics.recording() as metrics:
        metrics.count("Delivered", 2, Channel="history")
        metrics.count("Delivered", 3, Channel="history")

    assert lines(written) == [
        {
            "_aws": {
                "Timestamp": 1795444801234,
                "CloudWatchMetrics": [
                    {
                        "Namespace": NAMESPACE,
                        "Dimensions": [["Function", "Channel"]],
                        "Metrics": [{"Name": "Delivered", "Unit": "Count"}],
                    }
                ],
            },
            "Function": "stream_processor",
            "Channel": "history",
            "Delivered": 5,
        }
    ]


def test_a_zero_count_is_still_written(stream_metrics, written):
    with stream_metrics.recording() as metrics:
        metrics.count("Failed", 0, Channel="history")

    assert lines(written)[0]["Failed"] == 0


def test_every_value_of_a_time_is_written_so_that_cloudwatch_has_its_percentiles(
    stream_metrics, written
):
    with stream_metrics.recording() as metrics:
        for latency in (612.5, 80.0, 1900.25):
            metrics.observe("EndToEndLatency", latency, Channel="history")

    [line] = lines(written)
    assert line["EndToEndLatency"] == [612.5, 80.0, 1900.25]
    assert line["_aws"]["CloudWatchMetrics"][0]["Metrics"] == [
        {"Name": "EndToEndLatency", "Unit": "Milliseconds"}
    ]


def test_each_set_of_dimension_values_has_its_own_line(stream_metrics, written):
    with stream_metrics.recording() as metrics:
        metrics.count("Records", 4)
        metrics.count("Delivered", 1, Channel="events")
        metrics.count("Delivered", 2, Channel="history")
        metrics.count("Gone", 1, Channel="history")

    by_dimensions = {
        tuple(line.get(name) for name in line["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0]): {
            m["Name"]: line[m["Name"]] for m in line["_aws"]["CloudWatchMetrics"][0]["Metrics"]
        }
        for line in lines(written)
    }
    assert by_dimensions == {
        ("stream_processor",): {"Records": 4},
        ("stream_processor", "events"): {"Delivered": 1},
        ("stream_processor", "history"): {"Delivered": 2, "Gone": 1},
    }


def test_more_than_100_values_of_a_metric_are_split_over_lines(stream_metrics, written):
    with stream_metrics.recording() as metrics:
        metrics.count("Delivered", 7, Channel="history")
        for latency in range(250):
            metrics.observe("EndToEndLatency", latency, Channel="history")

    points = read_emf("\n".join(written))  # each line valid EMF: at most 100 values a metric
    assert [len(p.values) for p in points if p.name == "EndToEndLatency"] == [100, 100, 50]
    assert [v for p in points if p.name == "EndToEndLatency" for v in p.values] == list(range(250))
    assert [p.values for p in points if p.name == "Delivered"] == [(7,)]


def test_more_metrics_than_a_line_may_hold_are_split_over_lines(
    metrics_module, stream_metrics, written, monkeypatch
):
    monkeypatch.setattr(metrics_module, "MAX_METRICS_PER_DIRECTIVE", 2)
    names = ("Delivered", "Gone", "Failed", "Unattempted", "Retried")

    with stream_metrics.recording() as metrics:
        for value, name in enumerate(names):
            metrics.count(name, value, Channel="history")

    assert [len(line["_aws"]["CloudWatchMetrics"][0]["Metrics"]) for line in lines(written)] == [
        2,
        2,
        1,
    ]
    assert {p.name: p.values for p in read_emf("\n".join(written))} == {
        name: (value,) for value, name in enumerate(names)
    }


def test_what_was_recorded_is_written_when_the_invocation_raises(stream_metrics, written):
    with pytest.raises(RuntimeError), stream_metrics.recording() as metrics:
        metrics.count("Records", 3)
        raise RuntimeError("the handler failed")

    assert [line["Records"] for line in lines(written)] == [3]


def test_an_invocation_that_recorded_nothing_writes_nothing(stream_metrics, written):
    with stream_metrics.recording():
        pass

    assert written == []


def test_lines_are_printed_to_stdout_one_json_object_each(metrics_module, capsys):
    metrics = metrics_module.Metrics("heartbeat", NAMESPACE, ("events",))

    with metrics.recording() as recorder:
        recorder.count("Connections", 3, Channel="events")

    [point] = read_emf(capsys.readouterr().out)
    assert (point.name, point.values, point.dimension("Channel")) == ("Connections", (3,), "events")


def test_a_line_that_cannot_be_written_never_breaks_the_invocation(
    metrics_module, metric_errors, caplog
):
    def closed(line: str) -> None:
        raise OSError("stdout is closed")

    metrics = metrics_module.Metrics("heartbeat", NAMESPACE, ("events",), closed)

    with metrics.recording() as recorder:
        recorder.count("Connections", 3, Channel="events")

    [failure] = parse_log_event(caplog, "metrics_not_written")
    assert "stdout is closed" in failure["error"]
    metric_errors.clear()


# -- the namespace --------------------------------------------------------------------------


@pytest.mark.parametrize("namespace", [None, "", "   "])
def test_without_a_namespace_metrics_are_off_and_a_warning_says_so_once(
    metrics_module, namespace, capsys, caplog
):
    env = {} if namespace is None else {"METRICS_NAMESPACE": namespace}
    metrics = metrics_module.Metrics.from_environment("heartbeat", ("events",), env)

    for _ in range(2):
        with metrics.recording() as recorder:
            recorder.count("Connections", 3, Channel="events")
            recorder.count("NotAMetric")  # not even checked

    assert capsys.readouterr().out == ""
    [warning] = parse_log_event(caplog, "metrics_off")
    assert warning == {"function": "heartbeat", "reason": "METRICS_NAMESPACE is not set"}


@pytest.mark.parametrize(
    "namespace", ["IncidentWebSocket/secops", "a.b-c_d/e#f:g", "N" * 255, "AWSome/x"]
)
def test_a_cloudwatch_namespace_is_accepted(metrics_module, namespace):
    metrics = metrics_module.Metrics.from_environment(
        "heartbeat", ("events",), {"METRICS_NAMESPACE": namespace}
    )

    assert metrics.namespace == namespace


@pytest.mark.parametrize(
    "namespace", ["AWS/Lambda", "with space", "N" * 256, "dollar$", "ünïcode", "a\nb"]
)
def test_a_namespace_cloudwatch_would_refuse_stops_the_cold_start_naming_it(
    metrics_module, namespace
):
    with pytest.raises(Exception, match="METRICS_NAMESPACE") as raised:
        metrics_module.Metrics.from_environment(
            "heartbeat", ("events",), {"METRICS_NAMESPACE": namespace}
        )

    assert type(raised.value).__name__ == "ConfigError"


def test_a_handler_with_a_malformed_namespace_fails_its_cold_start(load, fake_api):
    with pytest.raises(Exception, match="METRICS_NAMESPACE"):
        load(
            "heartbeat",
            CHANNELS=channels_env(events=("events-connections", fake_api.endpoint())),
            METRICS_NAMESPACE="AWS/Lambda",
        )


@pytest.mark.parametrize("key", ["événements", " ", "k" * 1025])
def test_a_channel_key_cloudwatch_would_refuse_turns_metrics_off_with_a_warning(
    metrics_module, capsys, caplog, key
):
    metrics = metrics_module.Metrics.from_environment(
        "heartbeat", ("events", key), {"METRICS_NAMESPACE": NAMESPACE}
    )

    with metrics.recording() as recorder:
        recorder.count("Connections", 3, Channel="events")

    assert capsys.readouterr().out == ""
    [warning] = parse_log_event(caplog, "metrics_off")
    assert "no CloudWatch dimension values" in warning["reason"]


# -- calls the catalogue does not allow -------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "name", "value", "dimensions"),
    [
        ("count", "NotAMetric", 1, {"Channel": "history"}),
        ("count", "Delivered", 1, {}),
        ("count", "Delivered", 1, {"Channel": "history", "Reason": "validation"}),
        ("count", "Delivered", 1, {"Channel": "dashboard-7"}),
        ("count", "Delivered", 1, {"Channel": 7}),
        ("count", "Records", 1, {"Channel": "history"}),
        ("count", "EndToEndLatency", 1, {"Channel": "history"}),
        ("observe", "Delivered", 1.0, {"Channel": "history"}),
        ("count", "Delivered", -1, {"Channel": "history"}),
        ("count", "Delivered", 1.5, {"Channel": "history"}),
        ("count", "Delivered", True, {"Channel": "history"}),
        ("observe", "EndToEndLatency", float("nan"), {"Channel": "history"}),
        ("observe", "EndToEndLatency", float("inf"), {"Channel": "history"}),
        ("observe", "EndToEndLatency", -0.5, {"Channel": "history"}),
        ("observe", "EndToEndLatency", "12", {"Channel": "history"}),
    ],
)
def test_a_call_the_catalogue_does_not_allow_is_dropped_and_logged_never_raised(
    stream_metrics, written, metric_errors, caplog, call, name, value, dimensions
):
    with stream_metrics.recording() as metrics:
        getattr(metrics, call)(name, value, **dimensions)
        metrics.count("Records", 1)

    assert [list(line) for line in lines(written)] == [["_aws", "Function", "Records"]]
    [rejected] = parse_log_event(caplog, "metric_rejected")
    assert (rejected["function"], rejected["metric"]) == ("stream_processor", name)
    assert [line.split(" ", 1)[0] for line in metric_errors] == ["metric_rejected"]
    metric_errors.clear()


@pytest.mark.parametrize(
    ("function", "name", "dimensions"),
    [
        ("connect", "ConnectionsRejected", {"Channel": "history", "Reason": "unauthorized"}),
        ("authorizer", "ConnectionsRejected", {"Channel": "history", "Reason": "store_error"}),
        ("authorizer", "ConnectionsByScope", {"Channel": "history", "Reason": "111122223333"}),
        ("findings", "FindingsWritten", {"Source": "aws.guardduty"}),
        ("heartbeat", "Records", {}),
        ("presence", "Gone", {"Channel": "history"}),
    ],
)
def test_a_dimension_value_outside_its_function_s_vocabulary_is_rejected(
    metrics_module, written, metric_errors, function, name, dimensions
):
    metrics = metrics_module.Metrics(function, NAMESPACE, ("history",), written.append)

    with metrics.recording() as recorder:
        recorder.count(name, **dimensions)

    assert written == []
    assert len(metric_errors) == 1
    metric_errors.clear()


# -- the catalogue ------------------------------------------------------------------------------

# The contract the Terraform alarms and dashboard are built on: renaming a metric, changing its
# unit or its dimensions is a change for every deployment's alarms.
CONTRACT = {
    "connect": {
        "ConnectionsAccepted": ("Count", ("Function", "Channel")),
        "ConnectionsRejected": ("Count", ("Function", "Channel", "Reason")),
    },
    "authorizer": {
        "ConnectionsRejected": ("Count", ("Function", "Channel", "Reason")),
        "Authorized": ("Count", ("Function", "Channel")),
        "ConnectionsByScope": ("Count", ("Function", "Channel", "Reason")),
    },
    "disconnect": {
        "Disconnections": ("Count", ("Function", "Channel")),
        "ConnectedDuration": ("Seconds", ("Function", "Channel")),
    },
    "stream_processor": {
        **{name: ("Count", ("Function",)) for name in ("Records", "Messages", "FailedRecords")},
        **{
            name: ("Count", ("Function", "Channel"))
            for name in (
                "Delivered",
                "Gone",
                "Failed",
                "Retried",
                "Unattempted",
                "PossibleDuplicates",
                "ConnectionsRead",
                "LogFailed",
            )
        },
        "EndToEndLatency": ("Milliseconds", ("Function", "Channel")),
        "FanOutDuration": ("Milliseconds", ("Function", "Channel")),
    },
    "heartbeat": {
        name: ("Count", ("Function", "Channel"))
        for name in ("Connections", "Delivered", "Gone", "Failed", "Unattempted")
    },
    "findings": {
        name: ("Count", ("Function", "Source"))
        for name in ("FindingsWritten", "FindingsStale", "FindingsSkipped", "FindingsFailed")
    },
    "replay": {
        name: ("Count", ("Function", "Channel"))
        for name in ("ReplayRequests", "ReplayMessages", "ReplayRejected")
    },
    "presence": {
        name: ("Count", ("Function", "Channel"))
        for name in ("PresenceEvents", "Delivered", "Failed")
    },
}
REASONS = {
    ("connect", "ConnectionsRejected"): ("validation", "forbidden", "store_error"),
    ("authorizer", "ConnectionsRejected"): ("unauthorized", "forbidden"),
    ("authorizer", "ConnectionsByScope"): ("scoped", "unscoped"),
}


def test_the_catalogue_is_the_contract_of_the_alarms_and_the_dashboard(metrics_module):
    catalogue = {}
    for entry in metrics_module.CATALOGUE:
        catalogue.setdefault(entry.function, {})[entry.name] = (entry.unit, entry.dimensions)

    assert catalogue == CONTRACT
    assert set(catalogue) == set(metrics_module.FUNCTIONS)


def test_reasons_and_sources_are_fixed_words(metrics_module):
    assert {
        (m.function, m.name): m.reasons for m in metrics_module.CATALOGUE if m.reasons
    } == REASONS
    assert metrics_module.SOURCES == ("guardduty", "securityhub", "other")


def test_a_metric_name_has_one_unit_and_one_dimension_set_whichever_function_emits_it(
    metrics_module,
):
    seen = {}
    for entry in metrics_module.CATALOGUE:
        assert seen.setdefault(entry.name, (entry.unit, entry.dimensions)) == (
            entry.unit,
            entry.dimensions,
        ), entry.name


def test_every_metric_fits_emf(metrics_module):
    for entry in metrics_module.CATALOGUE:
        assert entry.dimensions[0] == "Function"
        assert len(entry.dimensions) <= 30
        assert entry.unit in ("Count", "Seconds", "Milliseconds")
        assert entry.meaning
        assert ("Reason" in entry.dimensions) == bool(entry.reasons)
