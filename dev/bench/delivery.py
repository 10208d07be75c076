"""Proof of delivery from the fake `@connections` server: every connection got exactly one copy."""

from __future__ import annotations

import json
import ssl
import urllib.request
from collections import Counter
from collections.abc import Collection
from pathlib import Path


class DeliveryError(AssertionError):
    """A run did not deliver exactly one copy to every connection."""


class ReceivedCounts:
    """Per-connection received counts from the fake's `GET /_stats`, compared across a run."""

    def __init__(self, base_url: str, ca_file: Path | None = None) -> None:
        self._url = f"{base_url}/_stats"
        self._context = None if ca_file is None else ssl.create_default_context(cafile=ca_file)

    def snapshot(self) -> tuple[Counter[str], int]:
        """Copies received per connection, and posts throttled (429), so far."""
        with urllib.request.urlopen(self._url, timeout=60, context=self._context) as response:
            stats = json.load(response)
        return Counter(stats["connections"]), stats.get("throttled", 0)

    def delivered_once(
        self, before: Counter[str], after: Counter[str], expected: Collection[str], run: str
    ) -> int:
        """The number delivered between the snapshots; DeliveryError unless it is one each."""
        expected = set(expected)
        received = after - before
        missing = [cid for cid in expected if received[cid] == 0]
        repeated = {cid: count for cid, count in received.items() if count > 1}
        unexpected = [cid for cid in received if cid not in expected]
        if missing or repeated or unexpected:
            raise DeliveryError(
                f"{run}: {len(missing)} of {len(expected)} connections got nothing "
                f"(e.g. {missing[:3]}), {len(repeated)} got more than one copy "
                f"(e.g. {dict(list(repeated.items())[:3])}), {len(unexpected)} unknown ids "
                f"were posted to (e.g. {unexpected[:3]})"
            )
        return received.total()
