"""Environment configuration of the handlers, parsed once at cold start (docs/handlers.md).

Every problem raises `ConfigError` with a message that names the variable, so a
misconfigured function fails loudly on its first invocation instead of guessing.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from .limits import (
    DEFAULT_CONNECTION_TTL_SECONDS,
    DEFAULT_CONNECTIONS_PER_WORKER,
    DEFAULT_MAX_CONCURRENCY,
    DEFAULT_MAX_WORKERS,
    DEFAULT_MESSAGE_RETENTION_SECONDS,
    DEFAULT_REPLAY_MAX_MESSAGES,
    MIN_MESSAGE_RETENTION_SECONDS,
)

MESSAGE_TYPES = ("incident", "remediation")
# How a channel's `$connect` route is authorized: a Lambda authorizer verifying a JWT, SigV4
# (AWS_IAM), or not at all.
AUTHORIZATION_TYPES = ("jwt", "iam", "none")
# Legacy variables (those of the single-channel functions this module replaces): the stream
# processor's one channel, and the heartbeat's variable prefixes with the channel key of each.
LEGACY_CHANNEL_KEY = "default"
LEGACY_HEARTBEAT_CHANNELS = {"EVENT": "events", "REMED": "remediation", "HISTORY": "history"}

_EXECUTE_API_HOST = re.compile(r"^[^.]+\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$")


class ConfigError(RuntimeError):
    """A required environment variable is missing or malformed."""


@dataclass(frozen=True)
class AudienceIndex:
    """A connections table's index by `audience` (connection_store.py), and from when (epoch
    seconds) every connection still open is in it, so that reading it misses none."""

    name: str
    query_from: float


@dataclass(frozen=True)
class ChannelConfig:
    """Where one channel lives (its connections table, its `@connections` endpoint, its
    message log), what a message's `data` carries there, and whether presence is on."""

    key: str
    table: str
    endpoint: str  # normalised: scheme://host[:port][/prefix], no trailing slash
    region: str  # signing region: the execute-api host's, else AWS_REGION
    data_attributes: tuple[str, ...] | None = None  # None: the whole item; (): no `data`
    messages_table: str | None = None  # None: no message log
    presence: bool = False
    audience_index: AudienceIndex | None = None  # None: every read is a Scan

    def serves(self, api_id: object, stage: object) -> bool:
        """Whether the endpoint is the `@connections` API of that API stage: AWS's
        `https://{api_id}.execute-api.{region}.amazonaws.com/{stage}`, or one whose path ends
        in `/{api_id}/{stage}` (the local emulator's)."""
        if not isinstance(api_id, str) or not isinstance(stage, str) or not api_id or not stage:
            return False
        host, _, path = self.endpoint.partition("://")[2].partition("/")
        if path == stage:
            return bool(_EXECUTE_API_HOST.match(host)) and host.startswith(f"{api_id}.")
        return path.split("/")[-2:] == [api_id, stage]


@dataclass(frozen=True)
class ConnectConfig:
    table: str
    channel: str
    ttl_seconds: int
    store_source_ip: bool
    authorization: str  # one of AUTHORIZATION_TYPES


@dataclass(frozen=True)
class DisconnectConfig:
    table: str
    channel: str


@dataclass(frozen=True)
class FanOutConfig:
    """heartbeat, and the part of stream_processor's that the fan-out reads."""

    channels: dict[str, ChannelConfig]
    max_concurrency: int


@dataclass(frozen=True)
class ShardingConfig:
    """The fan-out worker function a channel's connections are shared with once they are
    more than `connections_per_worker`, in at most `max_workers` parts."""

    worker_function: str
    connections_per_worker: int = DEFAULT_CONNECTIONS_PER_WORKER
    max_workers: int = DEFAULT_MAX_WORKERS


@dataclass(frozen=True)
class StreamConfig(FanOutConfig):
    """Also which channel keys receive which message type (ROUTES), how long a message log
    keeps a message, and how a large channel's fan-out is shared (None: never)."""

    message_routing: dict[str, tuple[str, ...]]
    message_retention_seconds: int = DEFAULT_MESSAGE_RETENTION_SECONDS
    sharding: ShardingConfig | None = None

    @property
    def data_attributes(self) -> dict[str, tuple[str, ...] | None]:
        """What `data` carries on each channel key."""
        return {key: channel.data_attributes for key, channel in self.channels.items()}


@dataclass(frozen=True)
class ReplayConfig:
    """The one channel a replay function answers for."""

    channel: str
    connections_table: str
    messages_table: str
    endpoint: str
    region: str
    max_messages: int


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
        authorization=_authorization_type(env),
    )


def load_disconnect_config(env: Mapping[str, str] = os.environ) -> DisconnectConfig:
    table = _required(env, "CONNECTIONS_TABLE")
    return DisconnectConfig(table=table, channel=env.get("CHANNEL_NAME") or table)


def load_stream_config(env: Mapping[str, str] = os.environ) -> StreamConfig:
    """CHANNELS + ROUTES, or the legacy single channel of CONNECTIONS_TABLE + WS_ENDPOINT."""
    concurrency = _max_concurrency(env)
    if "CHANNELS" in env:
        channels = _channels(env)
        retention = _int(
            env,
            "MESSAGE_RETENTION_SECONDS",
            DEFAULT_MESSAGE_RETENTION_SECONDS,
            minimum=MIN_MESSAGE_RETENTION_SECONDS,
        )
        channels = _with_audience_indexes(env, channels)
        return StreamConfig(
            channels, concurrency, _message_routing(env, channels), retention, _sharding(env)
        )
    if "CONNECTIONS_TABLE" not in env and "WS_ENDPOINT" not in env:
        raise ConfigError(
            "CHANNELS is not set (nor the legacy variables CONNECTIONS_TABLE and WS_ENDPOINT)"
        )
    endpoint = normalise_endpoint(_required(env, "WS_ENDPOINT"), "WS_ENDPOINT")
    table = _required(env, "CONNECTIONS_TABLE")
    channels = {LEGACY_CHANNEL_KEY: _channel_config(env, LEGACY_CHANNEL_KEY, table, endpoint)}
    message_routing = {message_type: (LEGACY_CHANNEL_KEY,) for message_type in MESSAGE_TYPES}
    return StreamConfig(channels, concurrency, message_routing)


def load_heartbeat_config(env: Mapping[str, str] = os.environ) -> FanOutConfig:
    """CHANNELS, or the legacy EVENT_/REMED_/HISTORY_ endpoint and table pairs."""
    concurrency = _max_concurrency(env)
    if "CHANNELS" in env:
        return FanOutConfig(_channels(env), concurrency)
    channels = {}
    for prefix, key in LEGACY_HEARTBEAT_CHANNELS.items():
        endpoint_var, table_var = f"{prefix}_API_GW_ENDPOINT", f"{prefix}_CONNECTIONS_TABLE"
        if endpoint_var not in env and table_var not in env:
            continue
        endpoint = normalise_endpoint(_required(env, endpoint_var), endpoint_var)
        channels[key] = _channel_config(env, key, _required(env, table_var), endpoint)
    if not channels:
        raise ConfigError(
            "CHANNELS is not set (nor any legacy pair such as "
            "EVENT_API_GW_ENDPOINT and EVENT_CONNECTIONS_TABLE)"
        )
    return FanOutConfig(channels, concurrency)


def load_fan_out_worker_config(env: Mapping[str, str] = os.environ) -> FanOutConfig:
    """CHANNELS: the channels whose segments the fan-out worker may be asked to post to."""
    return FanOutConfig(_channels(env), _max_concurrency(env))


def load_presence_config(env: Mapping[str, str] = os.environ) -> FanOutConfig:
    """The channels of CHANNELS whose `presence` is true."""
    channels = {key: c for key, c in _channels(env).items() if c.presence}
    if not channels:
        raise ConfigError('CHANNELS has no channel with "presence": true')
    return FanOutConfig(channels, _max_concurrency(env))


def load_replay_config(env: Mapping[str, str] = os.environ) -> ReplayConfig:
    endpoint = normalise_endpoint(_required(env, "MANAGEMENT_ENDPOINT"), "MANAGEMENT_ENDPOINT")
    return ReplayConfig(
        channel=_required(env, "CHANNEL_NAME"),
        connections_table=_required(env, "CONNECTIONS_TABLE"),
        messages_table=_required(env, "MESSAGES_TABLE"),
        endpoint=endpoint,
        region=_signing_region(env, endpoint),
        max_messages=_int(env, "REPLAY_MAX_MESSAGES", DEFAULT_REPLAY_MAX_MESSAGES, minimum=1),
    )


def _channel_config(
    env: Mapping[str, str], key: str, table: str, endpoint: str, **options: object
) -> ChannelConfig:
    return ChannelConfig(key, table, endpoint, _signing_region(env, endpoint), **options)


def _signing_region(env: Mapping[str, str], endpoint: str) -> str:
    region = region_of_endpoint(endpoint) or env.get("AWS_REGION", "").strip()
    if not region:
        raise ConfigError(f"AWS_REGION is required to sign posts to {endpoint}")
    return region


def _authorization_type(env: Mapping[str, str]) -> str:
    """Required, with no default: a missing value must not open a channel to everyone."""
    value = env.get("AUTHORIZATION_TYPE", "").strip()
    if value not in AUTHORIZATION_TYPES:
        raise ConfigError(
            "AUTHORIZATION_TYPE is required and must be jwt, iam or none (how the channel's "
            f"$connect route is authorized), got {env.get('AUTHORIZATION_TYPE')!r}"
        )
    return value


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


def _sharding(env: Mapping[str, str]) -> ShardingConfig | None:
    """FAN_OUT_WORKER_FUNCTION names the worker; without it nothing is sharded."""
    worker = env.get("FAN_OUT_WORKER_FUNCTION", "").strip()
    if not worker:
        return None
    return ShardingConfig(
        worker,
        _int(env, "FAN_OUT_CONNECTIONS_PER_WORKER", DEFAULT_CONNECTIONS_PER_WORKER, minimum=1),
        _int(env, "FAN_OUT_MAX_WORKERS", DEFAULT_MAX_WORKERS, minimum=1),
    )


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


def _channels(env: Mapping[str, str]) -> dict[str, ChannelConfig]:
    channels = {}
    for key, settings in _json_object(env, "CHANNELS").items():
        if not isinstance(settings, dict):
            raise ConfigError(f"CHANNELS[{key!r}] must be an object with 'table' and 'endpoint'")
        for field in ("table", "endpoint"):
            if not isinstance(settings.get(field), str) or not settings[field].strip():
                raise ConfigError(f"CHANNELS[{key!r}].{field} must be a non-empty string")
        endpoint = normalise_endpoint(settings["endpoint"], f"CHANNELS[{key!r}].endpoint")
        channels[key] = _channel_config(
            env,
            key,
            settings["table"].strip(),
            endpoint,
            data_attributes=_data_attributes(key, settings.get("data_attributes")),
            messages_table=_messages_table(key, settings.get("messages_table")),
            presence=_presence(key, settings.get("presence", False)),
        )
    return channels


def _with_audience_indexes(
    env: Mapping[str, str], channels: dict[str, ChannelConfig]
) -> dict[str, ChannelConfig]:
    """AUDIENCE_INDEXES (absent: none), `{"<key>": {"index": "<name>", "query_from":
    "<RFC 3339 time>"}}`, attached to the channels of CHANNELS it names."""
    if "AUDIENCE_INDEXES" not in env:
        return channels
    indexes = dict(channels)
    for key, settings in _json_object(env, "AUDIENCE_INDEXES").items():
        if key not in channels:
            raise ConfigError(f"AUDIENCE_INDEXES names a channel not in CHANNELS: {key!r}")
        indexes[key] = replace(channels[key], audience_index=_audience_index(key, settings))
    return indexes


def _audience_index(key: str, settings: object) -> AudienceIndex:
    name = settings.get("index") if isinstance(settings, dict) else None
    query_from = settings.get("query_from") if isinstance(settings, dict) else None
    if not isinstance(name, str) or not name.strip() or not isinstance(query_from, str):
        raise ConfigError(
            f"AUDIENCE_INDEXES[{key!r}] must be an object with 'index' (an index name) and "
            f"'query_from' (an RFC 3339 time such as 2026-01-31T12:00:00Z), got {settings!r}"
        )
    try:
        moment = datetime.fromisoformat(query_from.replace("Z", "+00:00"))  # before 3.11
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise ConfigError(
            f"AUDIENCE_INDEXES[{key!r}].query_from must be an RFC 3339 time with its offset, "
            f"such as 2026-01-31T12:00:00Z, got {query_from!r}"
        )
    return AudienceIndex(name.strip(), moment.timestamp())


def _messages_table(key: str, value: object) -> str | None:
    """null (or absent): the channel keeps no message log."""
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(
            f"CHANNELS[{key!r}].messages_table must be null (no message log) or a table name, "
            f"got {value!r}"
        )
    return value.strip()


def _presence(key: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"CHANNELS[{key!r}].presence must be true or false, got {value!r}")
    return value


def _data_attributes(key: str, value: object) -> tuple[str, ...] | None:
    """null (or absent): the whole item; a list of attribute names: only those, each once."""
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(name, str) and name for name in value):
        raise ConfigError(
            f"CHANNELS[{key!r}].data_attributes must be null (the whole item) or a list of "
            f"attribute names ([] for no data), got {value!r}"
        )
    return tuple(dict.fromkeys(value))


def _message_routing(
    env: Mapping[str, str], channels: Mapping[str, ChannelConfig]
) -> dict[str, tuple[str, ...]]:
    message_routing = {}
    for message_type, targets in _json_object(env, "ROUTES").items():
        if message_type not in MESSAGE_TYPES:
            raise ConfigError(f"ROUTES: unknown message type {message_type!r}")
        if not isinstance(targets, list) or not all(isinstance(t, str) for t in targets):
            raise ConfigError(f"ROUTES[{message_type!r}] must be a list of channel keys")
        unknown = sorted(set(targets) - set(channels))
        if unknown:
            raise ConfigError(f"ROUTES[{message_type!r}] names channels not in CHANNELS: {unknown}")
        message_routing[message_type] = tuple(dict.fromkeys(targets))
    return message_routing
