"""The deployed heartbeat, fired by the emulator's scheduler (sped up by TIME_SCALE)."""

from __future__ import annotations

import time

from tests.e2e.helpers import (
    HEARTBEAT_SECONDS,
    connected_a_minute_ago,
    connections_table,
    eventually,
    rows_of,
)


def is_ping_sent_after(moment: float):
    return lambda message: message.get("type") == "ping" and message["timestamp"] > moment


def test_vanished_client_is_removed_by_the_next_heartbeat_while_live_clients_get_their_ping(
    stack, open_client
):
    live = open_client("events")
    vanishing = open_client("events")
    [row] = rows_of(stack, "events", vanishing.client_id)

    vanishing.vanish()
    # The emulator sees the reset and runs $disconnect. AWS delivers $disconnect on a best-effort
    # basis, so put the row back as it is left when that event is lost: only the heartbeat's
    # 410 from the @connections API can clean it up now.
    eventually(lambda: rows_of(stack, "events", vanishing.client_id) == [])
    connections_table(stack, "events").put_item(Item=connected_a_minute_ago(row))
    restored_at = time.time()

    live.wait_for(is_ping_sent_after(restored_at), timeout=3 * HEARTBEAT_SECONDS + 2)
    eventually(lambda: rows_of(stack, "events", vanishing.client_id) == [])
    assert rows_of(stack, "events", live.client_id)
