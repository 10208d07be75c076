"""Presence: the connections table's stream announces clients online and offline (with why) to
their channel, scoped like messages; the `presence` route lists the channel's members.

Rows are written by the connect and disconnect handlers, and the records are the ones moto's
stream gives for them; a TTL deletion is that REMOVE record with the `userIdentity` DynamoDB
gives it (moto never expires items)."""

from __future__ import annotations

import datetime
import json
import re

import pytest

from dev.harness.lambda_context import LambdaContext
from tests.support.events import API_ID, STAGE, connect_event, disconnect_event, route_event
from tests.support.lambda_zip import load_module
from tests.support.stream_records import ConnectionsTable, IncidentTable, as_deleted_by_ttl
from tests.unit.helpers import LIMITS, connection, fail_scan_pages, parse_log_event

TENANT = "111122223333"
OTHER_TENANT = "444455556666"
MESSAGE_ID = re.compile(r"[0-9]{10}-[0-9]{40}")


@pytest.fixture
def connections():
    return ConnectionsTable("HistoryConnections")


def channels(fake_api, **extra) -> str:
    endpoint = fake_api.endpoint(f"mgmt/{API_ID}/{STAGE}")  # the local emulator's form
    history = {"table": "HistoryConnections", "endpoint": endpoint, "presence": True, **extra}
    return json.dumps({"history": history})


@pytest.fixture
def presence(load, connections, fake_api):
    return load("presence", CHANNELS=channels(fake_api))


@pytest.fixture
def connect(load, connections):
    handler = load(
        "connect",
        CONNECTIONS_TABLE="HistoryConnections",
        CHANNEL_NAME="history",
        AUTHORIZATION_TYPE="jwt",
    )

    def connect_client(connection_id: str, scope: str = "*", **query: str) -> dict:
        authorizer = {"principalId": f"user-{connection_id}", "accounts": scope}
        response = handler.handler(
            connect_event(
                connection_id, {"clientId": connection_id, **query}, authorizer=authorizer
            ),
            None,
        )
        assert response["statusCode"] == 200
        return connections.table.get_item(Key={"connectionId": connection_id})["Item"]

    return connect_client


@pytest.fixture
def disconnect(load, connections):
    handler = load("disconnect", CONNECTIONS_TABLE="HistoryConnections", CHANNEL_NAME="history")
    return lambda connection_id: handler.handler(disconnect_event(connection_id), None)


def announced(fake_api, connection_id: str) -> list[dict]:
    return [
        frame
        for frame in (json.loads(body) for body in fake_api.bodies(connection_id))
        if frame["type"] == "presence"
    ]


def iso(epoch_milliseconds) -> str:
    moment = datetime.datetime.fromtimestamp(int(epoch_milliseconds) / 1000, datetime.UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def expected_id(record: dict) -> str:
    dynamodb = record["dynamodb"]
    return f"{dynamodb['ApproximateCreationDateTime']:010d}-{dynamodb['SequenceNumber']:0>40}"


# -- events ---------------------------------------------------------------------------------


def test_a_client_connecting_is_announced_online(presence, connect, connections, fake_api):
    connect("watcher")
    connections.records()
    row = connect("newcomer", account=TENANT, region="eu-west-1")
    event = connections.event()

    response = presence.handler(event, LambdaContext(60))

    [record] = event["Records"]
    expected = {
        "type": "presence",
        "id": expected_id(record),
        "event": "online",
        "clientId": "newcomer",
        "account": TENANT,
        "region": "eu-west-1",
        "since": iso(row["createdAt"]),
        "reason": None,
    }
    assert announced(fake_api, "watcher") == [expected]
    assert announced(fake_api, "newcomer") == [expected]
    assert response == {"batchItemFailures": []}


def test_a_client_disconnecting_is_announced_offline_disconnected(
    presence, connect, disconnect, connections, fake_api
):
    connect("watcher")
    row = connect("leaver", region="us-east-1")
    connections.records()
    disconnect("leaver")

    presence.handler(connections.event(), LambdaContext(60))

    [offline] = announced(fake_api, "watcher")
    assert offline["event"] == "offline"
    assert offline["reason"] == "disconnected"
    assert (offline["clientId"], offline["account"], offline["region"]) == (
        "leaver",
        None,
        "us-east-1",
    )
    assert offline["since"] == iso(row["createdAt"])
    assert MESSAGE_ID.fullmatch(offline["id"])


def test_a_row_deleted_by_the_ttl_service_is_announced_offline_expired(
    presence, connect, connections, fake_api
):
    connect("watcher")
    connect("stale")
    connections.records()
    connections.delete({"connectionId": "stale"})
    [remove] = connections.records()

    presence.handler({"Records": [as_deleted_by_ttl(remove)]}, LambdaContext(60))

    [offline] = announced(fake_api, "watcher")
    assert (offline["event"], offline["reason"], offline["clientId"]) == (
        "offline",
        "expired",
        "stale",
    )


def test_a_connection_found_gone_is_announced_offline_gone_once(
    load, presence, connect, connections, fake_api
):
    connect("watcher")
    connect("ghost")
    connections.table.update_item(  # connected a minute ago: its $connect is surely over
        Key={"connectionId": "ghost"},
        UpdateExpression="SET createdAt = createdAt - :minute",
        ExpressionAttributeValues={":minute": 60_000},
    )
    connections.records()
    fake_api.gone("ghost")
    heartbeat = load("heartbeat", CHANNELS=channels(fake_api))
    heartbeat.handler({}, None)
    fake_api.received.clear()
    event = connections.event()

    presence.handler(event, LambdaContext(60))

    assert [r["eventName"] for r in event["Records"]] == ["MODIFY", "REMOVE"]
    [offline] = announced(fake_api, "watcher")
    assert (offline["event"], offline["reason"], offline["clientId"]) == (
        "offline",
        "gone",
        "ghost",
    )


def test_a_ttl_deletion_of_a_row_marked_gone_says_expired(presence, connections, fake_api):
    connections.put(connection("watcher"))
    connections.put(connection("ghost", goneAt=1))
    connections.records()
    connections.delete({"connectionId": "ghost"})
    [remove] = connections.records()

    presence.handler({"Records": [as_deleted_by_ttl(remove)]}, LambdaContext(60))

    [offline] = announced(fake_api, "watcher")
    assert offline["reason"] == "expired"


def test_a_remove_by_anyone_but_the_ttl_service_is_not_expired(presence, connections, fake_api):
    connections.put(connection("watcher"))
    connections.put(connection("leaver"))
    connections.records()
    connections.delete({"connectionId": "leaver"})
    [remove] = connections.records()
    someone = {"type": "Service", "principalId": "lambda.amazonaws.com"}

    presence.handler({"Records": [{**remove, "userIdentity": someone}]}, LambdaContext(60))

    [offline] = announced(fake_api, "watcher")
    assert offline["reason"] == "disconnected"


def test_presence_events_follow_stream_order_with_ids_stable_across_a_retry(
    presence, connect, disconnect, connections, fake_api
):
    connect("watcher")
    connections.records()
    connect("a")
    connect("b")
    disconnect("a")
    event = connections.event()

    presence.handler(event, LambdaContext(60))
    presence.handler(event, LambdaContext(60))  # Lambda delivering the batch again

    first, again = announced(fake_api, "watcher")[:3], announced(fake_api, "watcher")[3:]
    assert [(f["clientId"], f["event"]) for f in first] == [
        ("a", "online"),
        ("b", "online"),
        ("a", "offline"),
    ]
    assert [f["id"] for f in first] == sorted(f["id"] for f in first)
    assert len({f["id"] for f in first}) == 3
    assert again == first


def test_presence_is_scoped_like_messages(presence, connect, connections, fake_api):
    connect("analyst")
    connect("tenant", scope=TENANT)
    connect("other-tenant", scope=OTHER_TENANT)
    connect("both-tenants", scope=f"{TENANT},{OTHER_TENANT}")
    connections.records()
    connect("filtered-analyst", account=TENANT)
    connect("scoped-client", scope=OTHER_TENANT)
    connect("roaming-analyst")

    presence.handler(connections.event(), LambdaContext(60))

    def seen(connection_id: str) -> list[str]:
        return [f["clientId"] for f in announced(fake_api, connection_id)]

    everyone = ["filtered-analyst", "scoped-client", "roaming-analyst"]
    assert seen("analyst") == everyone
    assert seen("tenant") == ["filtered-analyst"]
    assert seen("other-tenant") == ["scoped-client"]
    assert seen("both-tenants") == ["filtered-analyst", "scoped-client"]
    assert [f["account"] for f in announced(fake_api, "analyst")] == [TENANT, OTHER_TENANT, None]


def test_an_account_filter_of_the_receiver_applies_to_presence(
    presence, connect, connections, fake_api
):
    connect("watching-tenant", account=TENANT)
    connections.records()
    connect("tenant-client", account=TENANT)
    connect("other-client", account=OTHER_TENANT)
    connect("no-account")

    presence.handler(connections.event(), LambdaContext(60))

    assert [f["clientId"] for f in announced(fake_api, "watching-tenant")] == [
        "tenant-client",
        "no-account",
    ]


def test_presence_counts_a_gone_connection_but_leaves_it_in_its_table(
    presence, connect, connections, fake_api, caplog
):
    connect("ghost")
    connections.records()
    fake_api.gone("ghost")
    connect("newcomer")

    presence.handler(connections.event(), LambdaContext(60))

    assert connections.table.get_item(Key={"connectionId": "ghost"}).get("Item") is not None
    [summary] = parse_log_event(caplog, "presence_batch_processed")
    assert summary["channels"]["history"]["gone"] == 1
    assert summary["channels"]["history"]["delivered"] == 1


def test_records_that_reached_no_one_on_a_channel_that_could_not_be_read_are_retried(
    presence, connect, connections, fake_api
):
    for n in range(4):
        connect(f"c{n}")
    event = connections.event()
    fail_scan_pages(presence.PRESENCE.fan_out.dynamodb, "HistoryConnections", 1, failing_from=1)

    response = presence.handler(event, LambdaContext(60))

    assert response == {
        "batchItemFailures": [
            {"itemIdentifier": r["dynamodb"]["SequenceNumber"]} for r in event["Records"]
        ]
    }


def test_a_record_of_a_table_without_presence_is_skipped_and_logged(
    presence, connections, fake_api, caplog
):
    connections.put(connection("watcher"))
    connections.records()
    other = ConnectionsTable("EventsConnections")
    other.put(connection("elsewhere"))

    response = presence.handler(other.event(), LambdaContext(60))

    assert response == {"batchItemFailures": []}
    assert fake_api.received == []
    [skipped] = parse_log_event(caplog, "record_skipped")
    assert "eventSourceARN" in skipped["reason"]


@pytest.mark.parametrize(
    "damage",
    [
        lambda r: {**r, "dynamodb": {k: v for k, v in r["dynamodb"].items() if k != "NewImage"}},
        lambda r: {**r, "dynamodb": {**r["dynamodb"], "NewImage": {"x": {"S": "no id"}}}},
        lambda r: {**r, "dynamodb": {**r["dynamodb"], "SequenceNumber": "not a number"}},
        lambda r: {**r, "dynamodb": {**r["dynamodb"], "ApproximateCreationDateTime": None}},
        lambda r: {**r, "eventName": "TRUNCATE"},
        lambda r: {**r, "dynamodb": "odd"},
    ],
    ids=["no-image", "no-connection-id", "sequence", "no-time", "event-name", "no-section"],
)
def test_an_unreadable_record_is_skipped_and_the_others_announced(
    presence, connections, fake_api, caplog, damage
):
    connections.put(connection("watcher"))
    connections.records()
    connections.put(connection("broken"))
    connections.put(connection("fine"))
    broken, fine = connections.records()

    response = presence.handler({"Records": [damage(broken), fine]}, LambdaContext(60))

    assert response == {"batchItemFailures": []}
    assert [f["clientId"] for f in announced(fake_api, "watcher")] == ["dashboard"]
    assert len(parse_log_event(caplog, "record_skipped")) == 1


# -- members --------------------------------------------------------------------------------


def ask_members(presence, connection_id: str, api_id: str = API_ID, stage: str = STAGE) -> dict:
    event = route_event(connection_id, '{"action": "presence"}', "presence", api_id, stage)
    return presence.handler(event, LambdaContext(60))


def members_frames(fake_api, connection_id: str) -> list[dict]:
    return [json.loads(body) for body in fake_api.bodies(connection_id)]


def test_the_presence_route_lists_the_live_members_oldest_first(presence, connections, fake_api):
    connections.put(connection("first", clientId="a", createdAt=1795392000000, account=TENANT))
    connections.put(connection("second", clientId="b", createdAt=1795392001000, region="eu-west-1"))
    connections.put(connection("expired", clientId="c", createdAt=1795391000000, ttl=1))

    response = ask_members(presence, "second")

    assert response == {"statusCode": 200}
    assert members_frames(fake_api, "second") == [
        {
            "type": "presence_members",
            "members": [
                {
                    "clientId": "a",
                    "account": TENANT,
                    "region": None,
                    "since": "2026-11-23T00:00:00.000Z",
                },
                {
                    "clientId": "b",
                    "account": None,
                    "region": "eu-west-1",
                    "since": "2026-11-23T00:00:01.000Z",
                },
            ],
            "truncated": False,
        }
    ]


def test_the_members_are_scoped_like_messages(presence, connections, fake_api):
    connections.put(connection("tenant", clientId="tenant", accounts={TENANT}))
    connections.put(connection("mine", clientId="mine", account=TENANT))
    connections.put(connection("theirs", clientId="theirs", accounts={OTHER_TENANT}))
    connections.put(connection("analyst", clientId="analyst"))

    ask_members(presence, "tenant")
    ask_members(presence, "analyst")

    def listed(connection_id: str) -> set[str]:
        [frame] = members_frames(fake_api, connection_id)
        return {m["clientId"] for m in frame["members"]}

    assert listed("tenant") == {"tenant", "mine"}
    assert listed("analyst") == {"tenant", "mine", "theirs", "analyst"}


def test_more_members_than_the_maximum_are_truncated(presence, connections, fake_api):
    with connections.table.batch_writer() as batch:
        for n in range(LIMITS.MAX_PRESENCE_MEMBERS + 1):
            batch.put_item(Item=connection(f"c{n:04d}", clientId=f"c{n:04d}"))

    ask_members(presence, "c0000")

    [frame] = members_frames(fake_api, "c0000")
    assert len(frame["members"]) == LIMITS.MAX_PRESENCE_MEMBERS
    assert frame["truncated"] is True


def test_a_members_frame_never_exceeds_the_message_size_limit(presence, connections, fake_api):
    with connections.table.batch_writer() as batch:
        for n in range(LIMITS.MAX_PRESENCE_MEMBERS):
            batch.put_item(Item=connection(f"c{n:04d}", clientId=f"{n:04d}" + "x" * 124))

    ask_members(presence, "c0000")

    [body] = fake_api.bodies("c0000")
    frame = json.loads(body)
    assert len(body) <= LIMITS.MAX_MESSAGE_BYTES
    assert 0 < len(frame["members"]) < LIMITS.MAX_PRESENCE_MEMBERS
    assert frame["truncated"] is True


def test_a_requester_that_is_not_registered_gets_an_error_frame(
    presence, connections, fake_api, caplog
):
    connections.put(connection("member"))

    response = ask_members(presence, "stranger")

    assert response == {"statusCode": 200}
    [error] = members_frames(fake_api, "stranger")
    assert (error["type"], error["action"], error["field"]) == ("error", "presence", None)
    assert parse_log_event(caplog, "presence_members_failed")


def test_a_request_from_an_api_stage_without_presence_is_logged_and_answered_200(
    presence, connections, fake_api, caplog
):
    connections.put(connection("c1"))

    response = ask_members(presence, "c1", api_id="zzz999", stage=STAGE)

    assert response == {"statusCode": 200}
    assert fake_api.received == []
    [failed] = parse_log_event(caplog, "presence_members_failed")
    assert failed["apiId"] == "zzz999"


# -- configuration --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def config():
    return load_module("presence", "incident_ws.config")


@pytest.mark.parametrize(
    ("endpoint", "api_id", "stage", "serves"),
    [
        ("https://abc123.execute-api.eu-west-1.amazonaws.com/prod", "abc123", "prod", True),
        ("https://abc123.execute-api.eu-west-1.amazonaws.com/prod", "abc123", "dev", False),
        ("https://abc123.execute-api.eu-west-1.amazonaws.com/prod", "xyz789", "prod", False),
        ("http://127.0.0.1:4510/mgmt/abc123/prod", "abc123", "prod", True),
        ("http://127.0.0.1:4510/mgmt/abc123/prod", "abc12", "prod", False),
        ("http://127.0.0.1:4510/mgmt/abc123/prod", None, "prod", False),
        ("http://127.0.0.1:4510/prod", "127", "prod", False),
    ],
)
def test_a_route_request_belongs_to_the_channel_of_its_api_stage(
    config, endpoint, api_id, stage, serves
):
    channel = config.ChannelConfig("history", "t", endpoint, "eu-west-1")

    assert channel.serves(api_id, stage) is serves


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (json.dumps({"history": {"table": "t", "endpoint": "https://x/prod"}}), "presence"),
        (
            json.dumps({"history": {"table": "t", "endpoint": "https://x/p", "presence": "yes"}}),
            r"CHANNELS\['history'\]\.presence",
        ),
    ],
)
def test_presence_cold_start_fails_naming_what_is_wrong(load, value, message):
    with pytest.raises(Exception, match=message) as raised:
        load("presence", CHANNELS=value)
    assert type(raised.value).__name__ == "ConfigError"


def test_presence_serves_only_the_channels_that_have_it_on(load, fake_api):
    both = {
        "history": {"table": "H", "endpoint": fake_api.endpoint("h"), "presence": True},
        "events": {"table": "E", "endpoint": fake_api.endpoint("e"), "presence": False},
    }

    presence = load("presence", CHANNELS=json.dumps(both))

    assert list(presence.CONFIG.channels) == ["history"]


def test_incident_table_records_never_reach_the_presence_channels(presence, fake_api, caplog):
    incidents = IncidentTable()
    incidents.put({"incident_id": "i-1"})

    response = presence.handler(incidents.event(), LambdaContext(60))

    assert response == {"batchItemFailures": []}
    assert fake_api.received == []
