"""The `replay` route: a connection gets the logged messages it missed, in id order, filtered
exactly as live delivery filters them, bounded, and closed by `replay_complete`; bad input gets
an error frame naming the field, and the answer is always 200."""

from __future__ import annotations

import json

import pytest

from dev.harness.lambda_context import LambdaContext
from tests.support.events import route_event
from tests.support.stream_records import IncidentTable
from tests.unit.helpers import LIMITS, connection, parse_log_event

TENANT = "111122223333"
OTHER_TENANT = "444455556666"
MAX_MESSAGES = 5
BEGINNING = f"{0:010d}-{0:040d}"  # before every message id
ROUTES = json.dumps({"incident": ["history"], "remediation": ["history"]})


@pytest.fixture
def history(make_connections_table):
    return make_connections_table("HistoryConnections")


@pytest.fixture
def log_table(make_messages_table):
    return make_messages_table("HistoryMessages")


@pytest.fixture
def incidents():
    return IncidentTable()


@pytest.fixture
def processor(load, history, log_table, fake_api):
    channels = {
        "history": {
            "table": "HistoryConnections",
            "endpoint": fake_api.endpoint(),
            "messages_table": "HistoryMessages",
        }
    }
    return load("stream_processor", CHANNELS=json.dumps(channels), ROUTES=ROUTES)


@pytest.fixture
def replay(load, history, log_table, fake_api):
    return load(
        "replay",
        CHANNEL_NAME="history",
        CONNECTIONS_TABLE="HistoryConnections",
        MESSAGES_TABLE="HistoryMessages",
        MANAGEMENT_ENDPOINT=fake_api.endpoint(),
        REPLAY_MAX_MESSAGES=str(MAX_MESSAGES),
    )


@pytest.fixture
def publish(processor, incidents):
    """`publish(*items)`: write the items and run the stream processor on their records; the
    ids of their messages, in order."""

    def publish_items(*items: dict) -> list[str]:
        for item in items:
            incidents.put(item)
        event = incidents.event()
        processor.handler(event, None)
        return [message_id(record) for record in event["Records"]]

    return publish_items


def message_id(record: dict) -> str:
    dynamodb = record["dynamodb"]
    return f"{dynamodb['ApproximateCreationDateTime']:010d}-{dynamodb['SequenceNumber']:0>40}"


def ask(replay, connection_id: str, **request) -> dict:
    body = json.dumps({"action": "replay", **request})
    return replay.handler(route_event(connection_id, body), LambdaContext(60))


def frames(fake_api, connection_id: str) -> list[dict]:
    return [json.loads(body) for body in fake_api.bodies(connection_id)]


def incident_ids(received: list[dict]) -> list[str]:
    return [f["incident_id"] for f in received if f["type"] in ("incident", "remediation")]


def closing(received: list[dict]) -> list[dict]:
    return [f for f in received if f["type"].startswith("replay_")]


# -- what is sent ---------------------------------------------------------------------------


def test_since_sends_the_messages_after_that_id_in_order_then_replay_complete(
    publish, replay, history, fake_api
):
    ids = publish(*({"incident_id": f"i-{n}"} for n in range(4)))
    history.put_item(Item=connection("late"))

    response = ask(replay, "late", since=ids[0])

    received = frames(fake_api, "late")
    assert response == {"statusCode": 200}
    assert [f["id"] for f in received[:-1]] == ids[1:]
    assert incident_ids(received) == ["i-1", "i-2", "i-3"]
    assert received[-1] == {"type": "replay_complete", "count": 3, "lastId": ids[-1]}


def test_last_sends_the_newest_messages_oldest_first(publish, replay, history, fake_api):
    ids = publish(*({"incident_id": f"i-{n}"} for n in range(4)))
    history.put_item(Item=connection("late"))

    ask(replay, "late", last=2)

    received = frames(fake_api, "late")
    assert incident_ids(received) == ["i-2", "i-3"]
    assert received[-1] == {"type": "replay_complete", "count": 2, "lastId": ids[-1]}


def test_a_replayed_message_is_byte_for_byte_what_was_posted_live(
    publish, replay, history, fake_api
):
    history.put_item(Item=connection("live"))
    publish({"incident_id": "i-1", "title": "Ünïcode ☃", "count": 3}, {"incident_id": "i-1"})

    ask(replay, "live", last=2)

    live, replayed = fake_api.bodies("live")[:2], fake_api.bodies("live")[2:4]
    assert replayed == live


def test_nothing_missed_gives_only_replay_complete_with_the_id_asked_for_left_out(
    publish, replay, history, fake_api
):
    ids = publish({"incident_id": "i-1"})
    history.put_item(Item=connection("c1"))

    ask(replay, "c1", since=ids[-1])

    assert frames(fake_api, "c1") == [{"type": "replay_complete", "count": 0, "lastId": None}]


def test_an_empty_log_gives_only_replay_complete(replay, history, fake_api):
    history.put_item(Item=connection("c1"))

    ask(replay, "c1", last=3)

    assert frames(fake_api, "c1") == [{"type": "replay_complete", "count": 0, "lastId": None}]


def test_only_the_channels_own_log_entries_are_replayed(replay, history, log_table, fake_api):
    history.put_item(Item=connection("c1"))
    other = {"type": "incident", "id": f"{1795444800:010d}-{1:040d}", "incident_id": "other"}
    log_table.put_item(Item={"channel": "events", "id": other["id"], "body": json.dumps(other)})

    ask(replay, "c1", last=3)

    assert frames(fake_api, "c1") == [{"type": "replay_complete", "count": 0, "lastId": None}]


# -- filtering ------------------------------------------------------------------------------


def test_account_and_region_filters_apply_as_in_live_delivery(publish, replay, history, fake_api):
    publish(
        {"incident_id": "a-eu", "account": TENANT, "region": "eu-west-1"},
        {"incident_id": "a-us", "account": TENANT, "region": "us-east-1"},
        {"incident_id": "b-eu", "account": OTHER_TENANT, "region": "eu-west-1"},
        {"incident_id": "no-account"},
    )
    history.put_item(Item=connection("a-in-eu", account=TENANT, region="eu-west-1"))
    history.put_item(Item=connection("everything"))

    ask(replay, "a-in-eu", last=MAX_MESSAGES)
    ask(replay, "everything", last=MAX_MESSAGES)

    assert incident_ids(frames(fake_api, "a-in-eu")) == ["a-eu", "no-account"]
    assert incident_ids(frames(fake_api, "everything")) == ["a-eu", "a-us", "b-eu", "no-account"]


def test_a_scoped_connection_replays_only_its_accounts(publish, replay, history, fake_api):
    publish(
        {"incident_id": "mine", "account": TENANT},
        {"incident_id": "theirs", "account": OTHER_TENANT},
        {"incident_id": "no-account"},
    )
    history.put_item(Item=connection("tenant", accounts={TENANT}))

    ask(replay, "tenant", last=MAX_MESSAGES)

    assert incident_ids(frames(fake_api, "tenant")) == ["mine"]


def test_last_counts_only_the_messages_the_connection_accepts(publish, replay, history, fake_api):
    publish(
        {"incident_id": "mine-1", "account": TENANT},
        {"incident_id": "mine-2", "account": TENANT},
        {"incident_id": "theirs-1", "account": OTHER_TENANT},
        {"incident_id": "theirs-2", "account": OTHER_TENANT},
    )
    history.put_item(Item=connection("tenant", accounts={TENANT}))

    ask(replay, "tenant", last=2)

    assert incident_ids(frames(fake_api, "tenant")) == ["mine-1", "mine-2"]


def test_a_connection_whose_stored_scope_is_unreadable_replays_nothing(
    publish, replay, history, fake_api
):
    publish({"incident_id": "i-1", "account": TENANT}, {"incident_id": "no-account"})
    history.put_item(Item=connection("odd", accounts=TENANT))  # a string, not a set

    ask(replay, "odd", last=MAX_MESSAGES)

    assert frames(fake_api, "odd") == [{"type": "replay_complete", "count": 0, "lastId": None}]


def test_messages_are_found_beyond_the_first_page_of_the_log(replay, history, log_table, fake_api):
    ids = [f"{1795444800:010d}-{n:040d}" for n in range(1, 131)]
    with log_table.batch_writer() as batch:
        for n, identifier in enumerate(ids):
            account = TENANT if n >= 127 else OTHER_TENANT
            body = {
                "type": "incident",
                "id": identifier,
                "incident_id": f"i-{n}",
                "account": account,
            }
            batch.put_item(Item={"channel": "history", "id": identifier, "body": json.dumps(body)})
    history.put_item(Item=connection("tenant", accounts={TENANT}))

    ask(replay, "tenant", since=ids[0])

    assert incident_ids(frames(fake_api, "tenant")) == ["i-127", "i-128", "i-129"]


# -- bounds ---------------------------------------------------------------------------------


def test_more_than_the_maximum_ends_with_replay_truncated_at_the_last_id_sent(
    publish, replay, history, fake_api
):
    ids = publish(*({"incident_id": f"i-{n}"} for n in range(MAX_MESSAGES + 3)))
    history.put_item(Item=connection("late"))

    ask(replay, "late", since=ids[0])

    received = frames(fake_api, "late")
    sent = ids[1 : MAX_MESSAGES + 1]
    assert [f["id"] for f in received[:MAX_MESSAGES]] == sent
    assert closing(received) == [
        {"type": "replay_truncated", "lastId": sent[-1]},
        {"type": "replay_complete", "count": MAX_MESSAGES, "lastId": sent[-1]},
    ]


def test_replaying_again_from_the_truncation_point_sends_the_rest(
    publish, replay, history, fake_api
):
    ids = publish(*({"incident_id": f"i-{n}"} for n in range(MAX_MESSAGES + 3)))
    history.put_item(Item=connection("late"))
    ask(replay, "late", since=ids[0])
    [truncated] = [f for f in frames(fake_api, "late") if f["type"] == "replay_truncated"]
    fake_api.received.clear()

    ask(replay, "late", since=truncated["lastId"])

    received = frames(fake_api, "late")
    assert [f["id"] for f in received[:-1]] == ids[MAX_MESSAGES + 1 :]
    assert closing(received) == [{"type": "replay_complete", "count": 2, "lastId": ids[-1]}]


def test_exactly_the_maximum_is_complete_without_a_truncation_marker(
    publish, replay, history, fake_api
):
    ids = publish(*({"incident_id": f"i-{n}"} for n in range(MAX_MESSAGES + 1)))
    history.put_item(Item=connection("late"))

    ask(replay, "late", since=ids[0])

    assert closing(frames(fake_api, "late")) == [
        {"type": "replay_complete", "count": MAX_MESSAGES, "lastId": ids[-1]}
    ]


def test_messages_the_connection_does_not_accept_do_not_count_toward_the_maximum(
    publish, replay, history, fake_api
):
    ids = publish(
        *({"incident_id": f"theirs-{n}", "account": OTHER_TENANT} for n in range(MAX_MESSAGES)),
        *({"incident_id": f"mine-{n}", "account": TENANT} for n in range(MAX_MESSAGES)),
    )
    history.put_item(Item=connection("tenant", accounts={TENANT}))

    ask(replay, "tenant", since=BEGINNING)

    received = frames(fake_api, "tenant")
    assert incident_ids(received) == [f"mine-{n}" for n in range(MAX_MESSAGES)]
    assert closing(received) == [
        {"type": "replay_complete", "count": MAX_MESSAGES, "lastId": ids[-1]}
    ]


def test_a_replay_out_of_time_says_where_to_resume_and_still_completes(
    publish, replay, history, fake_api
):
    ids = publish({"incident_id": "i-1"}, {"incident_id": "i-2"})
    history.put_item(Item=connection("late"))
    # Time enough for the closing frames, none to read the log.
    context = LambdaContext(LIMITS.REPLY_DEADLINE_MARGIN_SECONDS - 1)

    replay.handler(route_event("late", json.dumps({"action": "replay", "since": ids[0]})), context)

    assert frames(fake_api, "late") == [
        {"type": "replay_truncated", "lastId": ids[0]},
        {"type": "replay_complete", "count": 0, "lastId": None},
    ]


# -- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ("not json", "body"),
        ('["replay"]', "body"),
        ('"replay"', "body"),
        ("", "body"),
        (None, "body"),
        ('{"action": "replay"}', "body"),
        ('{"action": "replay", "since": null, "last": null}', "body"),
        (json.dumps({"action": "replay", "since": f"{1:010d}-{1:040d}", "last": 1}), "body"),
        ('{"action": "replay", "since": "42"}', "since"),
        ('{"action": "replay", "since": 1795444800}', "since"),
        (json.dumps({"action": "replay", "since": f"{1:010d}-{1:040d} "}), "since"),
        (json.dumps({"action": "replay", "since": f"{1:09d}-{1:041d}"}), "since"),
        ('{"action": "replay", "since": ["x"]}', "since"),
        ('{"action": "replay", "last": 0}', "last"),
        ('{"action": "replay", "last": -3}', "last"),
        (json.dumps({"action": "replay", "last": MAX_MESSAGES + 1}), "last"),
        ('{"action": "replay", "last": 1e9}', "last"),
        ('{"action": "replay", "last": 2.0}', "last"),
        ('{"action": "replay", "last": "2"}', "last"),
        ('{"action": "replay", "last": true}', "last"),
    ],
)
def test_bad_input_gets_an_error_frame_naming_the_field(
    replay, history, fake_api, caplog, body, field
):
    history.put_item(Item=connection("c1"))

    response = replay.handler(route_event("c1", body), LambdaContext(60))

    [error] = frames(fake_api, "c1")
    assert response == {"statusCode": 200}
    assert error["type"] == "error"
    assert error["action"] == "replay"
    assert error["field"] == field
    assert isinstance(error["message"], str)
    assert error["message"]
    [rejected] = parse_log_event(caplog, "replay_rejected")
    assert rejected["field"] == field


def test_a_null_since_counts_as_not_given(publish, replay, history, fake_api):
    publish({"incident_id": "i-1"})
    history.put_item(Item=connection("c1"))

    ask(replay, "c1", since=None, last=1)

    assert incident_ids(frames(fake_api, "c1")) == ["i-1"]


def test_other_keys_of_the_request_are_ignored(publish, replay, history, fake_api):
    publish({"incident_id": "i-1"})
    history.put_item(Item=connection("c1"))

    ask(replay, "c1", last=1, note="from the dashboard", since_ms=3)

    assert incident_ids(frames(fake_api, "c1")) == ["i-1"]


# -- failures -------------------------------------------------------------------------------


def test_a_connection_that_is_not_registered_gets_an_error_frame_and_no_message(
    publish, replay, fake_api, caplog
):
    publish({"incident_id": "i-1"})

    response = ask(replay, "stranger", last=1)

    assert response == {"statusCode": 200}
    assert frames(fake_api, "stranger") == [
        {
            "type": "error",
            "action": "replay",
            "field": None,
            "message": "this connection is not registered",
        }
    ]
    assert parse_log_event(caplog, "replay_failed")


def test_a_connection_whose_ttl_has_passed_is_not_registered(publish, replay, history, fake_api):
    publish({"incident_id": "i-1"})
    history.put_item(Item=connection("expired", ttl=1))

    ask(replay, "expired", last=1)

    [error] = frames(fake_api, "expired")
    assert error["type"] == "error"
    assert error["field"] is None


def test_a_log_that_cannot_be_read_gets_an_error_frame(replay, history, log_table, fake_api):
    history.put_item(Item=connection("c1"))
    log_table.delete()

    response = ask(replay, "c1", last=1)

    assert response == {"statusCode": 200}
    [error] = frames(fake_api, "c1")
    assert (error["type"], error["field"]) == ("error", None)


def test_a_connections_table_that_cannot_be_read_gets_an_error_frame(
    replay, history, fake_api, caplog
):
    history.delete()

    response = ask(replay, "c1", last=1)

    assert response == {"statusCode": 200}
    [error] = frames(fake_api, "c1")
    assert (error["type"], error["field"]) == ("error", None)
    [failed] = parse_log_event(caplog, "replay_failed")
    assert "ResourceNotFoundException" in failed["error"]


def test_a_requester_gone_mid_replay_stops_it_and_is_not_deleted(
    publish, replay, history, fake_api
):
    publish(*({"incident_id": f"i-{n}"} for n in range(3)))
    history.put_item(Item=connection("c1"))
    fake_api.script("c1", 200, 410)

    ask(replay, "c1", since=BEGINNING)

    assert fake_api.attempts["c1"] == 2
    assert len(fake_api.received) == 1
    assert history.get_item(Key={"connectionId": "c1"}).get("Item") is not None


def test_an_event_without_a_connection_id_is_answered_200_and_logged(replay, fake_api, caplog):
    response = replay.handler({"body": '{"action": "replay", "last": 1}'}, LambdaContext(60))

    assert response == {"statusCode": 200}
    assert fake_api.received == []
    assert parse_log_event(caplog, "replay_failed")


def test_one_summary_line_per_request(publish, replay, history, fake_api, caplog):
    ids = publish({"incident_id": "i-1"}, {"incident_id": "i-2"})
    history.put_item(Item=connection("c1"))

    ask(replay, "c1", since=ids[0])

    [summary] = parse_log_event(caplog, "replay_sent")
    assert summary["channel"] == "history"
    assert summary["connectionId"] == "c1"
    assert summary["since"] == ids[0]
    assert (summary["sent"], summary["lastId"], summary["truncated"]) == (1, ids[1], False)


# -- configuration --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("missing_or_bad", "variable"),
    [
        ({"CHANNEL_NAME": ""}, "CHANNEL_NAME"),
        ({"CONNECTIONS_TABLE": ""}, "CONNECTIONS_TABLE"),
        ({"MESSAGES_TABLE": ""}, "MESSAGES_TABLE"),
        ({"MANAGEMENT_ENDPOINT": ""}, "MANAGEMENT_ENDPOINT"),
        ({"MANAGEMENT_ENDPOINT": "ftp://x/prod"}, "MANAGEMENT_ENDPOINT"),
        ({"REPLAY_MAX_MESSAGES": "0"}, "REPLAY_MAX_MESSAGES"),
        ({"REPLAY_MAX_MESSAGES": "many"}, "REPLAY_MAX_MESSAGES"),
    ],
)
def test_replay_cold_start_fails_naming_the_variable(load, missing_or_bad, variable):
    env = {
        "CHANNEL_NAME": "history",
        "CONNECTIONS_TABLE": "HistoryConnections",
        "MESSAGES_TABLE": "HistoryMessages",
        "MANAGEMENT_ENDPOINT": "https://abc123.execute-api.eu-west-1.amazonaws.com/prod",
        **missing_or_bad,
    }

    with pytest.raises(Exception, match=variable) as raised:
        load("replay", **env)
    assert type(raised.value).__name__ == "ConfigError"


def test_replay_max_messages_defaults_to_its_documented_value(load):
    replay = load(
        "replay",
        CHANNEL_NAME="history",
        CONNECTIONS_TABLE="HistoryConnections",
        MESSAGES_TABLE="HistoryMessages",
        MANAGEMENT_ENDPOINT="https://abc123.execute-api.eu-west-1.amazonaws.com/prod",
    )

    assert replay.CONFIG.max_messages == LIMITS.DEFAULT_REPLAY_MAX_MESSAGES == 500
