"""`$connect` REQUEST authorizer of a channel: verify the caller's OIDC token."""

import logging

from incident_ws.auth import Authorizer, KeySet, Unauthorized, load_authorizer_config
from incident_ws.auth.policy import allows, scoped
from incident_ws.logs import log_event
from incident_ws.metrics import Metrics, Recorder

logger = logging.getLogger(__name__)

CONFIG = load_authorizer_config()
AUTHORIZER = Authorizer(CONFIG, KeySet(CONFIG.issuer))
METRICS = (
    Metrics.from_environment("authorizer", channels=(CONFIG.channel,))
    if CONFIG.channel
    else Metrics.off("authorizer", "CHANNEL_NAME is not set")
)


def handler(event, context):
    with METRICS.recording() as metrics:
        try:
            answer = AUTHORIZER.authorize(event)
        except Unauthorized:
            _rejected(metrics, "unauthorized")
            raise Exception("Unauthorized") from None  # the message API Gateway answers 401 for
        except Exception as error:  # a bug must refuse the connection, never let it through
            log_event(logger, logging.ERROR, "authorizer_failed", error=repr(error))
            _rejected(metrics, "unauthorized")
            raise Exception("Unauthorized") from None
        if not allows(answer):
            _rejected(metrics, "forbidden")
            return answer
        metrics.count("Authorized", Channel=CONFIG.channel)
        scope = "scoped" if scoped(answer) else "unscoped"
        metrics.count("ConnectionsByScope", Channel=CONFIG.channel, Reason=scope)
        return answer


def _rejected(metrics: Recorder, reason: str) -> None:
    metrics.count("ConnectionsRejected", Channel=CONFIG.channel, Reason=reason)
