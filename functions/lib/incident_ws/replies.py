"""Answers to a connection's own request (the `replay` and `presence` routes): frames posted
to that one connection, in order, until one is not delivered."""

from __future__ import annotations

from botocore.credentials import ReadOnlyCredentials

from .connections_sender import ConnectionsSender, Outcome, PostResult
from .deadline import Deadline
from .messages import frame


def error_frame(action: str, field: str | None, message: str) -> bytes:
    """What a client is told when its request cannot be answered: `field` names what is wrong
    with the request, or is None when the request was fine but could not be answered now."""
    return frame({"type": "error", "action": action, "field": field, "message": message})


class Reply:
    """Posts to the requesting connection, through the container's sender. A frame that
    cannot be delivered (410, rejected, or failed after the retries) ends the reply: `lost`
    says why, and nothing more is posted. A frame the deadline kept from starting leaves the
    connection usable for later frames."""

    def __init__(
        self,
        sender: ConnectionsSender,
        endpoint: str,
        region: str,
        credentials: ReadOnlyCredentials,
        connection_id: str,
    ) -> None:
        self._sender = sender
        self._endpoint = endpoint
        self._region = region
        self._credentials = credentials
        self._connection_id = connection_id
        self.lost: str | None = None

    def send(self, body: bytes, deadline: Deadline) -> bool:
        """Whether `body` was delivered."""
        if self.lost is not None:
            return False
        results: list[PostResult] = []
        self._sender.send(
            self._endpoint,
            self._region,
            self._credentials,
            [(self._connection_id, (body,))],
            deadline.at,
            results.append,
        )
        [result] = results
        if result.outcome is Outcome.DELIVERED:
            return True
        if result.outcome is Outcome.GONE:
            self.lost = "gone"
        elif result.outcome is not Outcome.UNATTEMPTED:
            self.lost = f"post failed: {result.detail}"
        return False
