"""What a message's `data` carries on each channel (`CHANNELS[<key>].data_attributes`): the
whole item (null), nothing ([]), or only the listed attributes."""

from __future__ import annotations

import json

import pytest

from tests.support.lambda_zip import load_module
from tests.support.stream_records import IncidentTable
from tests.unit.helpers import LIMITS, connection

ITEM = {
    "incident_id": "i-1",
    "title": "SSH open to the world",
    "severity": "HIGH",
    "account": "111122223333",
    "evidence": {"cidr": "0.0.0.0/0", "port": 22},
    "owner_email": "someone@example.com",
}


@pytest.fixture
def incidents():
    return IncidentTable()


def processor_with_data(load, make_connections_table, fake_api, **data_attributes):
    """The stream processor with one channel per keyword, `key=<its data_attributes>`, each
    with one connection named after the channel; every message type goes to every channel."""
    channels = {}
    for key, attributes in data_attributes.items():
        make_connections_table(f"{key}-connections").put_item(Item=connection(key))
        channels[key] = {
            "table": f"{key}-connections",
            "endpoint": fake_api.endpoint(key),
            "data_attributes": attributes,
        }
    routes = {"incident": list(channels), "remediation": list(channels)}
    return load("stream_processor", CHANNELS=json.dumps(channels), ROUTES=json.dumps(routes))


def received(fake_api, connection_id: str) -> dict:
    [body] = fake_api.bodies(connection_id)
    return json.loads(body)


def test_each_channel_receives_the_data_it_is_configured_for(
    load, make_connections_table, fake_api, incidents
):
    processor = processor_with_data(
        load,
        make_connections_table,
        fake_api,
        whole=None,
        nothing=[],
        summary=["title", "severity"],
    )
    incidents.put(ITEM)

    processor.handler(incidents.event(), None)

    whole, nothing, summary = (received(fake_api, key) for key in ("whole", "nothing", "summary"))
    assert whole["data"] == ITEM
    assert "data" not in nothing
    assert summary["data"] == {"title": ITEM["title"], "severity": ITEM["severity"]}
    for message in (nothing, summary):
        assert {k: v for k, v in message.items() if k != "data"} == {
            k: v for k, v in whole.items() if k != "data"
        }


def test_a_channel_without_data_attributes_receives_the_whole_item(
    load, make_connections_table, fake_api, incidents
):
    table = make_connections_table("plain-connections")
    table.put_item(Item=connection("plain"))
    channels = {"plain": {"table": "plain-connections", "endpoint": fake_api.endpoint("plain")}}
    processor = load(
        "stream_processor",
        CHANNELS=json.dumps(channels),
        ROUTES=json.dumps({"incident": ["plain"]}),
    )
    incidents.put(ITEM)

    processor.handler(incidents.event(), None)

    assert received(fake_api, "plain")["data"] == ITEM


def test_listed_attributes_the_item_lacks_are_left_out_not_null(
    load, make_connections_table, fake_api, incidents
):
    processor = processor_with_data(
        load, make_connections_table, fake_api, summary=["title", "remediation_hint", "owner"]
    )
    incidents.put(ITEM)

    processor.handler(incidents.event(), None)

    assert received(fake_api, "summary")["data"] == {"title": ITEM["title"]}


def test_data_with_none_of_the_listed_attributes_is_an_empty_object(
    load, make_connections_table, fake_api, incidents
):
    processor = processor_with_data(load, make_connections_table, fake_api, summary=["ticket"])
    incidents.put(ITEM)

    processor.handler(incidents.event(), None)

    assert received(fake_api, "summary")["data"] == {}


def test_the_size_limit_applies_to_each_channels_encoding(
    load, make_connections_table, fake_api, incidents
):
    processor = processor_with_data(
        load, make_connections_table, fake_api, whole=None, summary=["title"]
    )
    incidents.put({**ITEM, "evidence": "x" * LIMITS.MAX_MESSAGE_BYTES})

    processor.handler(incidents.event(), None)

    whole, summary = received(fake_api, "whole"), received(fake_api, "summary")
    assert whole["truncated"] is True
    assert "data" not in whole
    assert summary["data"] == {"title": ITEM["title"]}
    assert "truncated" not in summary


@pytest.fixture
def stream():
    return load_module("stream_processor", "incident_ws.stream")


def test_a_message_is_encoded_once_per_distinct_choice_of_data(stream, incidents):
    incidents.put(ITEM)
    [message] = stream.batch_messages(incidents.records())
    routing = {"incident": ("whole", "also-whole", "titles", "also-titles", "nothing")}
    data_attributes = {
        "whole": None,
        "also-whole": None,
        "titles": ("title",),
        "also-titles": ("title",),
        "nothing": (),
    }

    routed = stream.route([message], routing, data_attributes)

    assert routed["whole"][0] is message
    assert routed["also-whole"][0] is message
    assert routed["titles"][0] is routed["also-titles"][0]
    bodies = {key: messages[0].body for key, messages in routed.items()}
    assert len(set(bodies.values())) == 3


@pytest.mark.parametrize(
    "value",
    ["title", [1], [""], ["title", None], [["title"]], {"title": True}, True, 0],
    ids=repr,
)
def test_malformed_data_attributes_fail_cold_start_naming_them(load, fake_api, value):
    channels = {
        "history": {"table": "t", "endpoint": fake_api.endpoint(), "data_attributes": value}
    }

    with pytest.raises(Exception, match=r"CHANNELS\['history'\]\.data_attributes"):
        load(
            "stream_processor",
            CHANNELS=json.dumps(channels),
            ROUTES=json.dumps({"incident": ["history"]}),
        )
