"""`$connect` REQUEST authorizer of a channel: verify the caller's OIDC token."""

import logging

from incident_ws.auth import Authorizer, KeySet, Unauthorized, load_authorizer_config
from incident_ws.logs import log_event

logger = logging.getLogger(__name__)

CONFIG = load_authorizer_config()
AUTHORIZER = Authorizer(CONFIG, KeySet(CONFIG.issuer))


def handler(event, context):
    try:
        return AUTHORIZER.authorize(event)
    except Unauthorized:
        raise Exception("Unauthorized") from None  # the message API Gateway answers 401 for
    except Exception as error:  # a bug must refuse the connection, never let it through
        log_event(logger, logging.ERROR, "authorizer_failed", error=repr(error))
        raise Exception("Unauthorized") from None
