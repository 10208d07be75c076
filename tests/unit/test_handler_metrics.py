"""Every handler's metrics, read from what it printed as CloudWatch would read them: each line
valid EMF (tests/support/emf.py), each metric one of its function's in the catalogue with its
unit and dimensions (`emitted`), and the figures those of what the invocation did — on the
paths that succeed and on those that fail."""

from __future__ import annotations

import json
import socket
import time

import pytest

from dev.harness.fake_connections_api import FakeConnectionsApi, Slow
from dev.harness.lambda_context import LambdaContext
from dev.harness.oidc_issuer import OidcIssuer, SigningKey
from tests.support.authorizer_events import authorizer_event
from tests.support.events import (
    API_ID,
    STAGE,
    connect_event,
    disconnect_event,
    route_event,
    schedule_event,
)
from tests.support.finding_events import findings_of, sample_event, with_findings
from tests.support.lambda_zip import load_module
from tests.support.stream_records import ConnectionsTable, IncidentTable
from tests.unit.helpers import (
    LIMITS,
    channels_env,
    connection,
    emitted,
    emitted_points,
    metric,
    parse_log_event,
)

TENANT = "111122223333"
AUDIENCE = "incident-websocket-dashboard"


def closed_endpoint() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}/prod"


def add_connections(table, *connection_ids: str, **attributes) -> None:
    for connection_id in connection_ids:
        table.put_item(Item=connection(connection_id, **attributes))


# -- connect ----------------------------------------------------------------------------------


@pytest.fixture
def connect(load, table):
    return load(
        "connect", CONNECTIONS_TABLE=table.name, CHANNEL_NAME="history", AUTHORIZATION_TYPE="jwt"
    )


def jwt_connect_event(connection_id: str = "c1", scope: str = "*", **query: str) -> dict:
    authorizer = {"principalId": "analyst", "accounts": scope}
    return connect_event(connection_id, query or None, authorizer=authorizer)


def rejected(reason: str, function: str = "connect") -> tuple:
    return metric("ConnectionsRejected", Function=function, Channel="history", Reason=reason)


def test_connect_counts_a_stored_connection_as_accepted(connect, capsys):
    connect.handler(jwt_connect_event(), None)

    assert emitted(capsys) == {
        metric("ConnectionsAccepted", Function="connect", Channel="history"): 1
    }


@pytest.mark.parametrize(
    ("event", "status", "reason"),
    [
        (jwt_connect_event(clientId="not valid!"), 400, "validation"),
        (connect_event("c1", {"clientId": "x"}), 403, "forbidden"),  # no authorizer context
        (jwt_connect_event(scope=TENANT, account="444455556666"), 403, "forbidden"),
    ],
    ids=["bad-parameter", "no-principal", "account-outside-scope"],
)
def test_connect_counts_a_refused_connection_by_reason(connect, capsys, event, status, reason):
    response = connect.handler(event, None)

    assert response["statusCode"] == status
    assert emitted(capsys) == {rejected(reason): 1}


def test_connect_counts_a_connection_it_could_not_store_as_a_store_error(load, capsys):
    connect = load(
        "connect", CONNECTIONS_TABLE="NoSuchTable", CHANNEL_NAME="history", AUTHORIZATION_TYPE="jwt"
    )

    response = connect.handler(jwt_connect_event(), None)

    assert response["statusCode"] == 500
    assert emitted(capsys) == {rejected("store_error"): 1}


def test_connect_without_channel_name_reports_its_table_as_the_channel(load, table, capsys):
    connect = load("connect", CONNECTIONS_TABLE=table.name, AUTHORIZATION_TYPE="none")

    connect.handler(connect_event("c1"), None)

    assert emitted(capsys) == {
        metric("ConnectionsAccepted", Function="connect", Channel=table.name): 1
    }


# -- authorizer ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def signing_key() -> SigningKey:
    return SigningKey.generate(2048, kid="signing-key")


@pytest.fixture
def issuer(signing_key):
    with OidcIssuer(audience=AUDIENCE, keys=[signing_key]) as issuer:
        yield issuer


@pytest.fixture
def authorizer(load, issuer, monkeypatch):
    monkeypatch.delenv("ALLOWED_ORIGINS", raising=False)
    return load(
        "authorizer",
        OIDC_ISSUER=issuer.url,
        OIDC_AUDIENCES=AUDIENCE,
        ACCOUNTS_CLAIM="accounts",
        ALLOWED_ORIGINS="https://soc.example.com",
        CHANNEL_NAME="history",
    )


def by_scope(scope: str) -> tuple:
    return metric("ConnectionsByScope", Function="authorizer", Channel="history", Reason=scope)


@pytest.mark.parametrize(("claim", "scope"), [(["*"], "unscoped"), ([TENANT], "scoped")])
def test_the_authorizer_counts_an_allowed_principal_and_the_kind_of_its_scope(
    authorizer, issuer, capsys, claim, scope
):
    authorizer.handler(authorizer_event(issuer.mint(accounts=claim)), None)

    assert emitted(capsys) == {
        metric("Authorized", Function="authorizer", Channel="history"): 1,
        by_scope(scope): 1,
    }


def test_the_authorizer_counts_a_refused_token_as_unauthorized(authorizer, capsys):
    with pytest.raises(Exception, match="Unauthorized"):
        authorizer.handler(authorizer_event("not.a.token"), None)

    assert emitted(capsys) == {rejected("unauthorized", "authorizer"): 1}


def test_the_authorizer_counts_a_deny_as_forbidden(authorizer, issuer, capsys):
    event = authorizer_event(issuer.mint(accounts=["*"]), headers={"Origin": "https://evil.test"})

    answer = authorizer.handler(event, None)

    assert answer["policyDocument"]["Statement"][0]["Effect"] == "Deny"
    assert emitted(capsys) == {rejected("forbidden", "authorizer"): 1}


def test_the_authorizer_counts_an_unexpected_error_as_unauthorized(
    authorizer, issuer, capsys, monkeypatch
):
    def broken(event):
        raise KeyError("a bug")

    monkeypatch.setattr(authorizer.AUTHORIZER, "authorize", broken)

    with pytest.raises(Exception, match="Unauthorized"):
        authorizer.handler(authorizer_event(issuer.mint()), None)

    assert emitted(capsys) == {rejected("unauthorized", "authorizer"): 1}


def test_an_authorizer_without_channel_name_emits_no_metrics_and_says_so(
    load, issuer, capsys, caplog, monkeypatch
):
    monkeypatch.delenv("ALLOWED_ORIGINS", raising=False)
    authorizer = load("authorizer", OIDC_ISSUER=issuer.url, OIDC_AUDIENCES=AUDIENCE)

    authorizer.handler(authorizer_event(issuer.mint()), None)

    assert emitted(capsys) == {}
    [off] = parse_log_event(caplog, "metrics_off")
    assert off == {"function": "authorizer", "reason": "CHANNEL_NAME is not set"}


# -- disconnect ---------------------------------------------------------------------------------


DISCONNECTIONS = metric("Disconnections", Function="disconnect", Channel="history")


@pytest.fixture
def disconnect(load, table):
    return load("disconnect", CONNECTIONS_TABLE=table.name, CHANNEL_NAME="history")


def test_disconnect_counts_the_disconnection_and_how_long_it_was_connected(
    disconnect, table, capsys
):
    created = int((time.time() - 90) * 1000)
    table.put_item(Item=connection("c1", createdAt=created))

    disconnect.handler(disconnect_event("c1"), None)

    figures = emitted(capsys)
    [connected] = figures.pop(metric("ConnectedDuration", Function="disconnect", Channel="history"))
    assert 90 <= connected < 90 + 60
    assert figures == {DISCONNECTIONS: 1}


@pytest.mark.parametrize("stored", [False, True], ids=["unknown", "table-failure"])
def test_disconnect_of_a_connection_it_could_not_delete_counts_no_duration(
    load, table, capsys, stored
):
    table_name = table.name if not stored else "NoSuchTable"
    disconnect = load("disconnect", CONNECTIONS_TABLE=table_name, CHANNEL_NAME="history")

    disconnect.handler(disconnect_event("c1"), None)

    assert emitted(capsys) == {DISCONNECTIONS: 1}


# -- stream_processor ---------------------------------------------------------------------------


@pytest.fixture
def incidents():
    return IncidentTable()


def stream(name: str, channel: str | None = None) -> tuple:
    if channel is None:
        return metric(name, Function="stream_processor")
    return metric(name, Function="stream_processor", Channel=channel)


def channel_figures(figures: dict, channel: str) -> dict:
    """A channel's counts, by metric name (its times left out)."""
    return {
        name: value
        for (name, dimensions), value in figures.items()
        if dict(dimensions).get("Channel") == channel and not isinstance(value, list)
    }


def test_the_stream_processor_counts_the_batch_and_every_channel_s_outcomes(
    load, make_connections_table, incidents, fake_api, capsys
):
    add_connections(make_connections_table("history-connections"), "h1", "h2")
    make_connections_table("events-connections")
    fake_api.gone("h2")
    processor = load(
        "stream_processor",
        CHANNELS=channels_env(
            history=("history-connections", fake_api.endpoint("history")),
            events=("events-connections", fake_api.endpoint("events")),
        ),
        ROUTES=json.dumps({"incident": ["history", "events"], "remediation": ["history"]}),
    )
    incidents.put({"incident_id": "i-0"})
    incidents.records()
    incidents.put({"incident_id": "i-1"})
    incidents.put({"incident_id": "r-1", "action": "isolate"})
    incidents.delete({"incident_id": "i-0"})  # a record, but no message

    processor.handler(incidents.event(), LambdaContext(60))

    figures = emitted(capsys)
    assert {name: figures[stream(name)] for name in ("Records", "Messages", "FailedRecords")} == {
        "Records": 3,
        "Messages": 2,
        "FailedRecords": 0,
    }
    assert channel_figures(figures, "history") == {
        "ConnectionsRead": 2,
        "Delivered": 2,
        "Gone": 1,
        "Failed": 0,
        "Unattempted": 0,
        "Retried": 0,
        "PossibleDuplicates": 0,
    }
    assert channel_figures(figures, "events")["ConnectionsRead"] == 0


def test_end_to_end_latency_is_one_value_per_message_delivered_on_a_channel(
    load, make_connections_table, incidents, fake_api, capsys
):
    add_connections(make_connections_table("history-connections"), "h1", "h2")
    make_connections_table("events-connections")
    processor = load(
        "stream_processor",
        CHANNELS=channels_env(
            history=("history-connections", fake_api.endpoint("history")),
            events=("events-connections", fake_api.endpoint("events")),
        ),
        ROUTES=json.dumps({"incident": ["history", "events"]}),
    )
    incidents.put({"incident_id": "i-1"})
    incidents.put({"incident_id": "i-2"})
    event = incidents.event()
    for record in event["Records"]:  # as if written a minute ago
        record["dynamodb"]["ApproximateCreationDateTime"] -= 60

    processor.handler(event, LambdaContext(60))

    figures = emitted(capsys)
    latencies = figures[stream("EndToEndLatency", "history")]
    assert len(latencies) == 2
    assert all(60_000 <= latency < 120_000 for latency in latencies)
    assert stream("EndToEndLatency", "events") not in figures  # no connection, no latency
    assert len(figures[stream("FanOutDuration", "history")]) == 1
    assert len(figures[stream("FanOutDuration", "events")]) == 1


def test_a_failed_channel_still_reports_its_counts(
    load, make_connections_table, incidents, fake_api, capsys
):
    add_connections(make_connections_table("history-connections"), "h1")
    add_connections(make_connections_table("events-connections"), "e1", "e2")
    processor = load(
        "stream_processor",
        CHANNELS=channels_env(
            history=("history-connections", fake_api.endpoint("history")),
            events=("events-connections", closed_endpoint()),
        ),
        ROUTES=json.dumps({"incident": ["history", "events"]}),
    )
    incidents.put({"incident_id": "i-1"})

    processor.handler(incidents.event(), LambdaContext(60))

    figures = emitted(capsys)
    events = channel_figures(figures, "events")
    assert (events["ConnectionsRead"], events["Delivered"], events["Failed"]) == (2, 0, 2)
    assert events["Retried"] == 2 * LIMITS.POST_MAX_RETRIES
    assert channel_figures(figures, "history")["Delivered"] == 1
    assert stream("EndToEndLatency", "events") not in figures


def test_posts_the_deadline_left_unattempted_are_counted(
    load, make_connections_table, incidents, capsys, caplog
):
    ids = ("c1", "c2", "c3")
    add_connections(make_connections_table("history-connections"), *ids)
    incidents.put({"incident_id": "i-1"})
    with FakeConnectionsApi() as slow_api:
        for connection_id in ids:
            slow_api.respond(connection_id, Slow(1.0))
        processor = load(
            "stream_processor",
            CHANNELS=channels_env(history=("history-connections", slow_api.endpoint())),
            ROUTES=json.dumps({"incident": ["history"]}),
            MAX_CONCURRENCY="1",
        )

        response = processor.handler(
            incidents.event(), LambdaContext(LIMITS.DEADLINE_MARGIN_SECONDS + 1.5)
        )

    figures = emitted(capsys)
    history = channel_figures(figures, "history")
    [summary] = parse_log_event(caplog, "stream_batch_processed")
    assert history["Unattempted"] == summary["channels"]["history"]["unattempted"] >= 1
    assert history["Delivered"] + history["Unattempted"] == len(ids)
    assert figures[stream("FailedRecords")] == len(response["batchItemFailures"])


def test_messages_a_channel_could_not_log_are_counted(
    load, make_connections_table, incidents, fake_api, capsys
):
    make_connections_table("history-connections")
    make_connections_table("events-connections")
    channels = {
        "history": {
            "table": "history-connections",
            "endpoint": fake_api.endpoint("history"),
            "messages_table": "NoSuchTable",
        },
        "events": {"table": "events-connections", "endpoint": fake_api.endpoint("events")},
    }
    processor = load(
        "stream_processor",
        CHANNELS=json.dumps(channels),
        ROUTES=json.dumps({"incident": ["history", "events"]}),
    )
    incidents.put({"incident_id": "i-1"})
    incidents.put({"incident_id": "i-2"})

    processor.handler(incidents.event(), LambdaContext(60))

    figures = emitted(capsys)
    assert figures[stream("LogFailed", "history")] == 2
    assert stream("LogFailed", "events") not in figures  # it keeps no log


def test_a_stream_processor_that_raises_still_writes_what_it_counted(
    load, make_connections_table, incidents, fake_api, capsys, monkeypatch
):
    make_connections_table("history-connections")
    processor = load(
        "stream_processor",
        CHANNELS=channels_env(history=("history-connections", fake_api.endpoint())),
        ROUTES=json.dumps({"incident": ["history"]}),
    )

    def broken(*args, **kwargs):
        raise RuntimeError("a bug in the fan-out")

    monkeypatch.setattr(processor.FAN_OUT, "send", broken)
    incidents.put({"incident_id": "i-1"})

    with pytest.raises(RuntimeError):
        processor.handler(incidents.event(), LambdaContext(60))

    figures = emitted(capsys)
    assert (figures[stream("Records")], figures[stream("Messages")]) == (1, 1)


def test_an_event_without_records_counts_none(load, make_connections_table, fake_api, capsys):
    make_connections_table("history-connections")
    processor = load(
        "stream_processor",
        CHANNELS=channels_env(history=("history-connections", fake_api.endpoint())),
        ROUTES=json.dumps({"incident": ["history"]}),
    )

    processor.handler({"not": "a stream event"}, None)

    assert emitted(capsys) == {
        stream("Records"): 0,
        stream("Messages"): 0,
        stream("FailedRecords"): 0,
    }


# -- heartbeat ---------------------------------------------------------------------------------


def test_the_heartbeat_reports_every_channel_with_a_dead_endpoint_among_them(
    load, make_connections_table, fake_api, capsys
):
    add_connections(make_connections_table("history-connections"), "h1", "h2", "h3")
    add_connections(make_connections_table("events-connections"), "e1")
    make_connections_table("remediation-connections")
    fake_api.gone("h3")
    heartbeat = load(
        "heartbeat",
        CHANNELS=channels_env(
            history=("history-connections", fake_api.endpoint("history")),
            events=("events-connections", closed_endpoint()),
            remediation=("remediation-connections", fake_api.endpoint("remediation")),
        ),
    )

    heartbeat.handler(schedule_event(), LambdaContext(60))

    def counts(connections, delivered, gone, failed):
        return {
            "Connections": connections,
            "Delivered": delivered,
            "Gone": gone,
            "Failed": failed,
            "Unattempted": 0,
        }

    figures = emitted(capsys)
    assert {key: channel_figures(figures, key) for key in ("history", "events", "remediation")} == {
        "history": counts(3, 2, 1, 0),
        "events": counts(1, 0, 0, 1),
        "remediation": counts(0, 0, 0, 0),  # the gauge says: nobody is connected
    }


# -- findings ----------------------------------------------------------------------------------


@pytest.fixture
def incident_table(dynamodb):
    return dynamodb.create_table(
        TableName="Incident",
        KeySchema=[{"AttributeName": "incident_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "incident_id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


@pytest.fixture
def findings(load, incident_table, monkeypatch):
    for name in ("INCIDENT_HASH_KEY", "INCIDENT_RANGE_KEY"):
        monkeypatch.delenv(name, raising=False)
    return load("findings", INCIDENT_TABLE=incident_table.name)


def findings_figures(source: str, written=0, stale=0, skipped=0, failed=0) -> dict:
    counts = {
        "FindingsWritten": written,
        "FindingsStale": stale,
        "FindingsSkipped": skipped,
        "FindingsFailed": failed,
    }
    return {metric(name, Function="findings", Source=source): n for name, n in counts.items()}


@pytest.mark.parametrize(
    ("name", "source"),
    [
        ("guardduty/bitcoin-tool-high.json", "guardduty"),
        ("securityhub/control-ec2-19-critical.json", "securityhub"),
        ("securityhub/v2-vulnerability-critical.json", "securityhub"),
    ],
)
def test_findings_are_counted_written_by_their_source(findings, capsys, name, source):
    findings.handler(sample_event(name), None)

    assert emitted(capsys) == findings_figures(source, written=1)


def test_a_replayed_finding_is_counted_stale(findings, capsys):
    event = sample_event("guardduty/bitcoin-tool-high.json")
    findings.handler(event, None)
    capsys.readouterr()

    findings.handler(event, None)

    assert emitted(capsys) == findings_figures("guardduty", stale=1)


def test_a_finding_that_cannot_become_an_incident_is_counted_skipped(findings, capsys):
    good = findings_of("securityhub/control-ec2-19-critical.json")
    bad = {**good[0], "Id": "bad-finding-1", "AwsAccountId": None}
    event = with_findings("securityhub/control-ec2-19-critical.json", [*good, bad])

    findings.handler(event, None)

    assert emitted(capsys) == findings_figures("securityhub", written=1, skipped=1)


def test_an_event_of_another_source_is_counted_skipped_as_other(findings, capsys):
    findings.handler({"source": "aws.health", "detail-type": "AWS Health Event"}, None)

    assert emitted(capsys) == findings_figures("other", skipped=1)


def test_a_failed_write_is_counted_although_the_event_raises(findings, incident_table, capsys):
    def throttled(request, **_):
        from botocore.awsrequest import AWSResponse

        request.url = "https://dynamodb.unreachable.invalid/"
        body = b'{"__type": "com.amazonaws.dynamodb.v20120810#InternalServerError"}'
        return AWSResponse(request.url, 500, {}, _RawBody(body))

    findings.DYNAMODB.meta.events.register_first("before-send.dynamodb.PutItem", throttled)

    with pytest.raises(Exception, match="not written"):
        findings.handler(sample_event("guardduty/bitcoin-tool-high.json"), None)

    assert emitted(capsys) == findings_figures("guardduty", failed=1)


class _RawBody:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_) -> list[bytes]:
        return [self._body]


# -- replay ------------------------------------------------------------------------------------


@pytest.fixture
def replay(load, table, make_messages_table, fake_api):
    make_messages_table("HistoryMessages")
    return load(
        "replay",
        CHANNEL_NAME="history",
        CONNECTIONS_TABLE=table.name,
        MESSAGES_TABLE="HistoryMessages",
        MANAGEMENT_ENDPOINT=fake_api.endpoint(),
    )


def ask(replay, connection_id: str, **request) -> None:
    body = json.dumps({"action": "replay", **request})
    replay.handler(route_event(connection_id, body), LambdaContext(60))


def replay_figures(requests=1, messages=0, rejected=0) -> dict:
    counts = {"ReplayRequests": requests, "ReplayMessages": messages, "ReplayRejected": rejected}
    return {metric(name, Function="replay", Channel="history"): n for name, n in counts.items()}


def log_messages(dynamodb, count: int) -> None:
    for number in range(count):
        message_id = f"{1795444800 + number:010d}-{number:040d}"
        body = json.dumps({"type": "incident", "id": message_id, "incident_id": f"i-{number}"})
        dynamodb.Table("HistoryMessages").put_item(
            Item={"channel": "history", "id": message_id, "body": body}
        )


def test_replay_counts_the_request_and_the_messages_it_sent(replay, table, dynamodb, capsys):
    table.put_item(Item=connection("c1"))
    log_messages(dynamodb, 3)

    ask(replay, "c1", last=2)

    assert emitted(capsys) == replay_figures(messages=2)


def test_replay_counts_a_bad_request_as_rejected(replay, table, capsys):
    table.put_item(Item=connection("c1"))

    ask(replay, "c1")

    assert emitted(capsys) == replay_figures(rejected=1)


def test_replay_of_an_unregistered_connection_counts_the_request_only(replay, capsys):
    ask(replay, "c1", last=2)

    assert emitted(capsys) == replay_figures()


def test_replay_that_fails_unexpectedly_still_counts_the_request(replay, capsys, monkeypatch):
    def broken(*args):
        raise RuntimeError("a bug")

    monkeypatch.setattr(replay.REPLAYER, "answer", broken)

    replay.handler(route_event("c1", json.dumps({"action": "replay", "last": 2})), None)

    assert emitted(capsys) == {metric("ReplayRequests", Function="replay", Channel="history"): 1}


# -- presence ----------------------------------------------------------------------------------


@pytest.fixture
def presence_table():
    return ConnectionsTable("HistoryConnections")


def presence_channels(endpoint: str) -> str:
    return json.dumps(
        {"history": {"table": "HistoryConnections", "endpoint": endpoint, "presence": True}}
    )


def presence_figures(events: int, delivered: int, failed: int) -> dict:
    counts = {"PresenceEvents": events, "Delivered": delivered, "Failed": failed}
    return {metric(name, Function="presence", Channel="history"): n for name, n in counts.items()}


def test_presence_counts_its_events_and_their_posts(load, presence_table, fake_api, capsys):
    presence = load("presence", CHANNELS=presence_channels(fake_api.endpoint()))
    presence_table.put(connection("watcher"))
    presence_table.put(connection("newcomer"))

    presence.handler(presence_table.event(), LambdaContext(60))

    # Both are connected when the batch is sent: each hears both arrivals.
    assert emitted(capsys) == presence_figures(events=2, delivered=4, failed=0)


def test_presence_counts_posts_to_a_dead_endpoint_as_failed(load, presence_table, capsys):
    presence = load("presence", CHANNELS=presence_channels(closed_endpoint()))
    presence_table.put(connection("watcher"))

    presence.handler(presence_table.event(), LambdaContext(60))

    assert emitted(capsys) == presence_figures(events=1, delivered=0, failed=1)


def test_the_presence_members_route_emits_no_metrics(load, presence_table, fake_api, capsys):
    endpoint = fake_api.endpoint(f"mgmt/{API_ID}/{STAGE}")
    presence = load("presence", CHANNELS=presence_channels(endpoint))
    presence_table.put(connection("c1"))

    presence.handler(route_event("c1", '{"action": "presence"}', "presence"), LambdaContext(60))

    assert emitted_points(capsys) == []


# -- every handler ------------------------------------------------------------------------------


def test_every_handler_is_covered_here():
    """A new handler gets its metrics tests in this file."""
    metrics = load_module("stream_processor", "incident_ws.metrics")
    covered = {
        "connect",
        "authorizer",
        "disconnect",
        "stream_processor",
        "heartbeat",
        "findings",
        "replay",
        "presence",
    }

    assert covered == set(metrics.FUNCTIONS)
