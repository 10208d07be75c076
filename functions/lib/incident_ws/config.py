"""Environment configuration of the handlers (SPEC §2), parsed once at cold start.

Every problem raises `ConfigError` with a message that names the variable, so a
misconfigured function fails loudly on its first invocation instead of guessing.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

DEFAULT_CONNECTION_TTL_SECONDS = 10_800
DEFAULT_MAX_CONCURRENCY = 64  # dev/bench/results.md: the knee of the sweep at 20 ms per post
MESSAGE_TYPES = ("incident", "remediation")
SEED_CHANNEL_NAME = "default"
# Seed 000 prefixes → the default channel keys of SPEC §1.
SEED_HEARTBEAT_CHANNELS = {"EVENT": "events", "REMED": "remediation", "HISTORY": "history"}

_EXECUTE_API_HOST = re.compile(r"^[^.]+\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$")


class ConfigError(RuntimeError):
    """A required environment variable is missing or malformed."""


@dataclass(frozen=True)
class Channel:
    name: str
    table: str
    endpoint: str  # normalised: scheme://host[:port][/prefix], no trailing slash
    region: str  # signing region: the execute-api host's, else AWS_REGION


@dataclass(frozen=True)
class ConnectConfig:
    table: str
    channel: str
    ttl_seconds: int
    store_source_ip: bool


@dataclass(frozen=True)
class DisconnectConfig:
    table: str
    channel: str


@dataclass(frozen=True)
class BroadcastConfig:
    """stream_processor and heartbeat: the channels, and who gets which message type."""

    channels: dict[str, Channel]
    routes: dict[str, tuple[str, ...]]
    max_concurrency: int


def normalise_endpoint(value: str, variable: str) -> str:
    """`https://` is assumed without a scheme; a trailing `/` is dropped."""
    endpoint = value.strip().rstrip("/")
    if "://" not in endpoint:
        endpoint = f"https://{endpoint}"
    scheme, _, rest = endpoint.partition("://")
    if scheme not in ("http", "https") or not rest or rest.startswith("/") or " " in rest:
        raise ConfigError(f"{variable}: {value!r} is not a WebSocket management endpoint URL")
    return endpoint


def region_of_endpoint(endpoint: str) -> str | None:
    """The region in an `{api}.execute-api.{region}.amazonaws.com` host, else None."""
    host = endpoint.partition("://")[2].split("/", 1)[0].split(":", 1)[0]
    match = _EXECUTE_API_HOST.match(host)
    return match.group(1) if match else None


def load_connect_config(env: Mapping[str, str] = os.environ) -> ConnectConfig:
    table = _required(env, "CONNECTIONS_TABLE")
    return ConnectConfig(
        table=table,
        channel=env.get("CHANNEL_NAME") or table,
        ttl_seconds=_int(env, "CONNECTION_TTL_SECONDS", DEFAULT_CONNECTION_TTL_SECONDS, minimum=0),
        store_source_ip=_bool(env, "STORE_SOURCE_IP", default=True),
    )


def load_disconnect_config(env: Mapping[str, str] = os.environ) -> DisconnectConfig:
    table = _required(env, "CONNECTIONS_TABLE")
    return DisconnectConfig(table=table, channel=env.get("CHANNEL_NAME") or table)


def load_stream_config(env: Mapping[str, str] = os.environ) -> BroadcastConfig:
    """CHANNELS + ROUTES, or the seed's single CONNECTIONS_TABLE + WS_ENDPOINT channel."""
    concurrency = _max_concurrency(env)
    if "CHANNELS" in env:
        channels = _channels(env)
        return BroadcastConfig(channels, _routes(env, channels), concurrency)
    if "CONNECTIONS_TABLE" not in env and "WS_ENDPOINT" not in env:
        raise ConfigError(
            "CHANNELS is not set (nor the seed variables CONNECTIONS_TABLE and WS_ENDPOINT)"
        )
    endpoint = normalise_endpoint(_required(env, "WS_ENDPOINT"), "WS_ENDPOINT")
    channel = _channel(env, SEED_CHANNEL_NAME, _required(env, "CONNECTIONS_TABLE"), endpoint)
    routes = {message_type: (channel.name,) for message_type in MESSAGE_TYPES}
    return BroadcastConfig({channel.name: channel}, routes, concurrency)


def load_heartbeat_config(env: Mapping[str, str] = os.environ) -> BroadcastConfig:
    """CHANNELS, or the seed's EVENT_/REMED_/HISTORY_ endpoint and table pairs."""
    concurrency = _max_concurrency(env)
    if "CHANNELS" in env:
        return BroadcastConfig(_channels(env), {}, concurrency)
    channels = {}
    for prefix, name in SEED_HEARTBEAT_CHANNELS.items():
        endpoint_var, table_var = f"{prefix}_API_GW_ENDPOINT", f"{prefix}_CONNECTIONS_TABLE"
        if endpoint_var not in env and table_var not in env:
            continue
        endpoint = normalise_endpoint(_required(env, endpoint_var), endpoint_var)
        channels[name] = _channel(env, name, _required(env, table_var), endpoint)
    if not channels:
        raise ConfigError(
            "CHANNELS is not set (nor any seed pair such as "
            "EVENT_API_GW_ENDPOINT and EVENT_CONNECTIONS_TABLE)"
        )
    return BroadcastConfig(channels, {}, concurrency)


def _channel(env: Mapping[str, str], name: str, table: str, endpoint: str) -> Channel:
    region = region_of_endpoint(endpoint) or env.get("AWS_REGION", "").strip()
    if not region:
        raise ConfigError(f"AWS_REGION is required to sign posts to {endpoint}")
    return Channel(name, table, endpoint, region)


def _required(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise ConfigError(f"{name} is required and must not be empty")
    return value


def _int(env: Mapping[str, str], name: str, default: int, minimum: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {value}")
    return value


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw not in ("true", "false"):
        raise ConfigError(f"{name} must be 'true' or 'false', got {env[name]!r}")
    return raw == "true"


def _max_concurrency(env: Mapping[str, str]) -> int:
    return _int(env, "MAX_CONCURRENCY", DEFAULT_MAX_CONCURRENCY, minimum=1)


def _json_object(env: Mapping[str, str], name: str) -> dict:
    try:
        value = json.loads(env[name])
    except KeyError:
        raise ConfigError(f"{name} is required") from None
    except ValueError as error:
        raise ConfigError(f"{name} is not valid JSON: {error}") from None
    if not isinstance(value, dict) or not value:
        raise ConfigError(f"{name} must be a non-empty JSON object")
    return value


def _channels(env: Mapping[str, str]) -> dict[str, Channel]:
    channels = {}
    for name, spec in _json_object(env, "CHANNELS").items():
        if not isinstance(spec, dict):
            raise ConfigError(f"CHANNELS[{name!r}] must be an object with 'table' and 'endpoint'")
        for key in ("table", "endpoint"):
            if not isinstance(spec.get(key), str) or not spec[key].strip():
                raise ConfigError(f"CHANNELS[{name!r}].{key} must be a non-empty string")
        endpoint = normalise_endpoint(spec["endpoint"], f"CHANNELS[{name!r}].endpoint")
        channels[name] = _channel(env, name, spec["table"].strip(), endpoint)
    return channels


def _routes(env: Mapping[str, str], channels: Mapping[str, Channel]) -> dict[str, tuple[str, ...]]:
    routes = {}
    for message_type, targets in _json_object(env, "ROUTES").items():
        if message_type not in MESSAGE_TYPES:
            raise ConfigError(f"ROUTES: unknown message type {message_type!r}")
        if not isinstance(targets, list) or not all(isinstance(t, str) for t in targets):
            raise ConfigError(f"ROUTES[{message_type!r}] must be a list of channel names")
        unknown = sorted(set(targets) - set(channels))
        if unknown:
            raise ConfigError(f"ROUTES[{message_type!r}] names channels not in CHANNELS: {unknown}")
        routes[message_type] = tuple(dict.fromkeys(targets))
    return routes
