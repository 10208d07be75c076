"""The findings function's environment, read once at cold start."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from ..config import ConfigError
from .incident import ITEM_ATTRIBUTES

DEFAULT_HASH_KEY = "incident_id"
MAX_ATTRIBUTE_NAME_CHARS = 255
# `action` would make the stream processor read the incident as a remediation log.
_TAKEN = frozenset(ITEM_ATTRIBUTES) | {"action"}


@dataclass(frozen=True)
class FindingsConfig:
    table: str
    hash_key: str = DEFAULT_HASH_KEY
    range_key: str | None = None


def load_findings_config(env: Mapping[str, str] = os.environ) -> FindingsConfig:
    table = env.get("INCIDENT_TABLE", "").strip()
    if not table:
        raise ConfigError("INCIDENT_TABLE is required and must not be empty")
    hash_key = _attribute_name(env, "INCIDENT_HASH_KEY") or DEFAULT_HASH_KEY
    if hash_key != DEFAULT_HASH_KEY and hash_key in _TAKEN:
        raise ConfigError(f"INCIDENT_HASH_KEY {hash_key!r} is an attribute of the incident item")
    range_key = _attribute_name(env, "INCIDENT_RANGE_KEY")
    if range_key is not None and (range_key in _TAKEN or range_key == hash_key):
        raise ConfigError(
            f"INCIDENT_RANGE_KEY {range_key!r} is the partition key or an attribute of the "
            "incident item"
        )
    return FindingsConfig(table, hash_key, range_key)


def _attribute_name(env: Mapping[str, str], variable: str) -> str | None:
    """None when unset or empty; the name otherwise, if DynamoDB would accept it."""
    name = env.get(variable, "")
    if not name.strip():
        return None
    if name != name.strip() or len(name) > MAX_ATTRIBUTE_NAME_CHARS:
        raise ConfigError(
            f"{variable} must be an attribute name of 1-{MAX_ATTRIBUTE_NAME_CHARS} characters "
            f"without surrounding spaces, got {name!r}"
        )
    return name
