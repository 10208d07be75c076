"""Message ids: unique, identical across a retried delivery of the same stream record, and in
stream order within a shard, so that a client can drop duplicates and resume from one."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.support.lambda_zip import load_module
from tests.support.stream_records import IncidentTable
from tests.unit.helpers import channels_env, connection, parse_log_event

ROUTES = json.dumps({"incident": ["history"], "remediation": ["history"]})


@pytest.fixture(scope="module")
def message_ids():
    return load_module("stream_processor", "incident_ws.message_ids")


@pytest.fixture
def incidents():
    return IncidentTable()


@pytest.fixture
def processor(load, make_connections_table, fake_api):
    make_connections_table("HistoryConnections").put_item(Item=connection("c1"))
    return load(
        "stream_processor",
        CHANNELS=channels_env(history=("HistoryConnections", fake_api.endpoint())),
        ROUTES=ROUTES,
    )


def received_ids(fake_api) -> list[str]:
    return [json.loads(body)["id"] for body in fake_api.bodies("c1")]


def test_every_message_of_a_batch_has_its_own_id_in_stream_order(processor, incidents, fake_api):
    for n in range(6):
        incidents.put({"incident_id": f"i-{n % 2}", "status": str(n)})
    incidents.put({"incident_id": "i-0", "action": "isolate"})

    processor.handler(incidents.event(), None)

    ids = received_ids(fake_api)
    assert len(ids) == len(set(ids)) == 7
    assert ids == sorted(ids)


def test_the_id_is_the_records_creation_second_and_its_padded_sequence_number(
    processor, incidents, fake_api
):
    incidents.put({"incident_id": "i-1"})
    event = incidents.event()

    processor.handler(event, None)

    dynamodb = event["Records"][0]["dynamodb"]
    created, sequence = dynamodb["ApproximateCreationDateTime"], dynamodb["SequenceNumber"]
    assert received_ids(fake_api) == [f"{created:010d}-{'0' * (40 - len(sequence))}{sequence}"]


def test_a_retried_record_carries_the_same_id(processor, incidents, fake_api):
    incidents.put({"incident_id": "i-1"})
    incidents.put({"incident_id": "i-2"})
    event = incidents.event()

    processor.handler(event, None)
    processor.handler(event, None)  # Lambda delivering the batch again

    first, again = received_ids(fake_api)[:2], received_ids(fake_api)[2:]
    assert again == first


def test_ids_grow_across_batches_of_the_same_shard(processor, incidents, fake_api):
    incidents.put({"incident_id": "i-1"})
    processor.handler(incidents.event(), None)
    incidents.put({"incident_id": "i-1", "status": "CLOSED"})
    processor.handler(incidents.event(), None)

    first, second = received_ids(fake_api)
    assert first < second


@pytest.mark.parametrize(
    "damage",
    [
        {"ApproximateCreationDateTime": None},
        {"ApproximateCreationDateTime": "1795444800"},
        {"ApproximateCreationDateTime": True},
        {"SequenceNumber": None},
        {"SequenceNumber": ""},
        {"SequenceNumber": "12a"},
        {"SequenceNumber": "1" * 41},
    ],
    ids=repr,
)
def test_a_record_without_what_an_id_is_made_of_is_skipped_and_the_others_go_out(
    processor, incidents, fake_api, caplog, damage
):
    incidents.put({"incident_id": "odd"})
    incidents.put({"incident_id": "fine"})
    odd, fine = incidents.records()
    odd = {**odd, "dynamodb": {**odd["dynamodb"], **damage}}

    response = processor.handler({"Records": [odd, fine]}, None)

    assert response == {"batchItemFailures": []}
    assert [json.loads(b)["incident_id"] for b in fake_api.bodies("c1")] == ["fine"]
    [skipped] = parse_log_event(caplog, "record_skipped")
    assert "message id" in skipped["reason"]


seconds = st.integers(min_value=0, max_value=10**10 - 1)
sequence_numbers = st.integers(min_value=0, max_value=10**40 - 1)


@given(first=st.tuples(seconds, sequence_numbers), second=st.tuples(seconds, sequence_numbers))
def test_ids_compare_as_creation_time_then_sequence_number(message_ids, first, second):
    def identifier(created: int, sequence: int) -> str:
        return message_ids.message_id(
            {"ApproximateCreationDateTime": created, "SequenceNumber": str(sequence)}
        )

    a, b = identifier(*first), identifier(*second)

    assert message_ids.MESSAGE_ID.fullmatch(a)
    assert (a < b) == (first < second)
    assert (a == b) == (first == second)


@pytest.mark.parametrize(
    ("created", "sequence"),
    [
        (-1, "1"),
        (10**10, "1"),
        (math.nan, "1"),
        (math.inf, "1"),
        (False, "1"),
        ("1795444800", "1"),
        (1795444800, "-1"),
        (1795444800, "1.5"),
        (1795444800, "١٢"),  # digits, but not ASCII ones
        (1795444800, 1),
    ],
    ids=repr,
)
def test_a_value_that_is_no_creation_time_or_sequence_number_makes_no_id(
    message_ids, created, sequence
):
    with pytest.raises(message_ids.NoMessageId):
        message_ids.message_id({"ApproximateCreationDateTime": created, "SequenceNumber": sequence})


def test_a_fractional_creation_time_counts_its_whole_seconds(message_ids):
    identifier = message_ids.message_id(
        {"ApproximateCreationDateTime": 1795444800.9, "SequenceNumber": "7"}
    )

    assert identifier == f"1795444800-{7:040d}"
