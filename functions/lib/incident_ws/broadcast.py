"""Fan-out of messages to a channel's connections with bounded concurrency."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field

from botocore.exceptions import BotoCoreError, ClientError

from .connections import Connection, ConnectionStore
from .logs import log_event
from .management_api import ConnectionsApi, Outcome

logger = logging.getLogger(__name__)


@dataclass
class DeliveryCounts:
    """Per-post outcomes; `gone` connections were deleted, `retried` counts retries."""

    delivered: int = 0
    gone: int = 0
    failed: int = 0
    retried: int = 0

    def add(self, other: DeliveryCounts) -> None:
        self.delivered += other.delivered
        self.gone += other.gone
        self.failed += other.failed
        self.retried += other.retried

    def as_dict(self) -> dict[str, int]:
        return {k: getattr(self, k) for k in ("delivered", "gone", "failed", "retried")}


@dataclass(frozen=True)
class Delivery:
    """The messages (encoded, in stream order) one connection must receive."""

    connection: Connection
    bodies: Sequence[bytes] = field(default_factory=tuple)


def broadcast(
    deliveries: Iterable[Delivery],
    api: ConnectionsApi,
    store: ConnectionStore,
    executor: Executor,
) -> DeliveryCounts:
    """Run one task per connection on `executor` (its worker count is the bound on posts in
    flight); each task posts its messages in order, so every connection sees stream order.
    Tasks are submitted while `deliveries` is consumed, so posting starts with its first item."""
    counts = DeliveryCounts()
    tasks = [executor.submit(_deliver, d, api, store) for d in deliveries if d.bodies]
    for task in tasks:
        counts.add(task.result())
    return counts


def _deliver(delivery: Delivery, api: ConnectionsApi, store: ConnectionStore) -> DeliveryCounts:
    counts = DeliveryCounts()
    connection_id = delivery.connection.connection_id
    for body in delivery.bodies:
        result = api.post(connection_id, body)
        counts.retried += result.retries
        if result.outcome is Outcome.DELIVERED:
            counts.delivered += 1
        elif result.outcome is Outcome.GONE:
            counts.gone += 1
            _forget(store, connection_id)
            return counts  # the rest of its messages would be gone too
        else:
            counts.failed += 1
            log_event(
                logger,
                logging.WARNING,
                "post_failed",
                table=store.table,
                connectionId=connection_id,
                status=result.detail,
                retries=result.retries,
            )
    return counts


def _forget(store: ConnectionStore, connection_id: str) -> None:
    try:
        store.delete(connection_id)
    except (BotoCoreError, ClientError) as error:  # a failed cleanup must not stop the rest
        log_event(
            logger,
            logging.ERROR,
            "gone_connection_delete_failed",
            table=store.table,
            connectionId=connection_id,
            error=repr(error),
        )
