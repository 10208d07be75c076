"""The decision for one `$connect`: who is connecting, and may they.

No token, or one that does not verify → `Unauthorized` (401). A verified token whose
principal may not connect (Origin not allowed, account scope missing or unreadable) →
a Deny policy (403). Otherwise an Allow policy with the principal and its account scope.
Each decision logs one line — `authorized`, `unauthorized` or `forbidden` — that never
holds token material.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from incident_ws.auth import policy
from incident_ws.auth.accounts import account_scope
from incident_ws.auth.claims import check_claims
from incident_ws.auth.config import AuthorizerConfig, normalise_origin
from incident_ws.auth.errors import Forbidden, Unauthorized
from incident_ws.auth.jwks import KeySet
from incident_ws.auth.jws import parse, verified_payload
from incident_ws.auth.tokens import token_from_event
from incident_ws.limits import MAX_LOGGED_EVENT_CHARS
from incident_ws.logs import log_event
from incident_ws.websocket_events import header, log_fields, method_arn

logger = logging.getLogger(__name__)


class Authorizer:
    def __init__(
        self, config: AuthorizerConfig, keys: KeySet, clock: Callable[[], float] = time.time
    ) -> None:
        self.config = config
        self.keys = keys
        self._clock = clock

    def authorize(self, event: Any) -> dict[str, Any]:
        """An Allow or Deny policy for `event`, or Unauthorized."""
        fields = log_fields(event)
        origin = header(event, "Origin")
        if origin is not None:
            fields["origin"] = origin[:MAX_LOGGED_EVENT_CHARS]
        try:
            arn = method_arn(event)
            if arn is None:
                raise Unauthorized("malformed_event")
            found = token_from_event(event)
            if found is None:
                raise Unauthorized("no_token")
            token, source = found
            fields["tokenSource"] = source
            principal_id, claims = self.verify(token)
        except Unauthorized as refusal:
            log_event(logger, logging.WARNING, "unauthorized", reason=refusal.reason, **fields)
            raise
        fields["principalId"] = principal_id
        try:
            self._check_origin(origin)
            accounts = account_scope(claims, self.config.accounts_claim)
        except Forbidden as refusal:
            log_event(logger, logging.WARNING, "forbidden", reason=refusal.reason, **fields)
            return policy.deny(principal_id, arn)
        log_event(logger, logging.INFO, "authorized", accounts=accounts, **fields)
        return policy.allow(principal_id, arn, accounts)

    def verify(self, token: str) -> tuple[str, dict[str, Any]]:
        """(principal, claims) of a token signed by the issuer for us, else Unauthorized."""
        jws = parse(token)
        claims = verified_payload(jws, self.keys.key(jws.kid))
        config = self.config
        return check_claims(claims, config.issuer, config.audiences, self._clock()), claims

    def _check_origin(self, origin: str | None) -> None:
        # Browsers always send Origin on a WebSocket handshake and page scripts cannot change
        # it; a client without one is not a browser, and could send any Origin it liked.
        allowed = self.config.allowed_origins
        if origin is not None and allowed is not None and normalise_origin(origin) not in allowed:
            raise Forbidden("origin_not_allowed")
