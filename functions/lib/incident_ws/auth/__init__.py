"""The `$connect` Lambda authorizer: OIDC JWTs verified with the standard library."""

from incident_ws.auth.authorizer import Authorizer
from incident_ws.auth.config import AuthorizerConfig, load_authorizer_config
from incident_ws.auth.errors import Forbidden, Unauthorized
from incident_ws.auth.jwks import KeySet
from incident_ws.auth.tokens import SUBPROTOCOL

__all__ = [
    "SUBPROTOCOL",
    "Authorizer",
    "AuthorizerConfig",
    "Forbidden",
    "KeySet",
    "Unauthorized",
    "load_authorizer_config",
]
