"""What access control costs: the `$connect` authorizer's cold start and warm call, and the
latency of a `$connect` with and without it.

- The authorizer in-process (`authorizer_worker.py`, a fresh process per cold start): its own
  cost, without an invocation around it, against a local OIDC issuer on loopback (RS256,
  2048-bit key, a different token per call).
- `$connect` through the emulator: two WebSocket APIs deployed into moto with boto3, the same
  packaged `connect` function behind both, one with `AuthorizationType: NONE` and one with a
  Lambda REQUEST authorizer (the packaged authorizer, trusting that issuer). A real client
  opens connections to both, alternately, and the handshake time is measured. Through the
  emulator, because what the authorizer adds to a connection is a second function invocation
  before `connect`, and only the emulator runs it as API Gateway does (its own warm worker, its
  own round trip, the REQUEST event, the policy decision). Lambda's own invocation overhead on
  AWS is not in these figures.
"""

from __future__ import annotations

import contextlib
import json
import os
import statistics
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from websockets.sync.client import connect

from dev.harness.emulator import EmulatorServer, start_emulator
from dev.harness.lambda_events import authorizer_event
from dev.harness.moto import start_moto
from dev.harness.oidc_issuer import OidcIssuer
from dev.harness.paths import FUNCTION_PACKAGES_DIR
from dev.harness.processes import run_module

AUTHORIZER_PACKAGE = FUNCTION_PACKAGES_DIR / "authorizer.zip"
CONNECT_PACKAGE = FUNCTION_PACKAGES_DIR / "connect.zip"
AUDIENCE = "incident-websocket-bench"
REGION = "us-east-1"
STAGE = "bench"
TABLE = "bench-connections"
DISTINCT_TOKENS = 200
WARM_UP_CONNECTS = 5


class AuthorizationBenchError(RuntimeError):
    """A measurement failed; the message says which and where its log is."""


@dataclass(frozen=True)
class Timings:
    label: str
    ms: list[float]

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.ms)
        return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]

    @property
    def median(self) -> float:
        return statistics.median(self.ms)


@dataclass(frozen=True)
class AuthorizationFigures:
    import_ms: Timings
    first_call_ms: Timings
    warm_ms: Timings
    connect_without_ms: Timings
    connect_with_ms: Timings


def measure(
    log_dir: Path, cold_starts: int = 10, warm_calls: int = 2000, connects: int = 200
) -> AuthorizationFigures:
    with OidcIssuer(audience=AUDIENCE) as issuer:
        events = log_dir / "authorizer-events.json"
        tokens = [issuer.mint(sub=f"user-{n}", lifetime=3600) for n in range(DISTINCT_TOKENS)]
        events.write_text(json.dumps([authorizer_event(token) for token in tokens]))
        cold = [
            _authorizer_run(issuer, events, log_dir, f"cold start {n}") for n in range(cold_starts)
        ]
        warm = _authorizer_run(issuer, events, log_dir, "warm calls", calls=warm_calls)
        without, with_authorizer = _connect_latencies(issuer, log_dir, connects)
    return AuthorizationFigures(
        import_ms=Timings("authorizer init (import from the zip)", [r["import_ms"] for r in cold]),
        first_call_ms=Timings(
            "authorizer first call (discovery + JWKS fetched, one token verified)",
            [r["first_call_ms"] for r in cold],
        ),
        warm_ms=Timings("authorizer warm call (JWKS cached, one token verified)", warm["warm_ms"]),
        connect_without_ms=Timings("`$connect` handshake, `AuthorizationType: NONE`", without),
        connect_with_ms=Timings("`$connect` handshake, JWT REQUEST authorizer", with_authorizer),
    )


def _authorizer_run(
    issuer: OidcIssuer, events: Path, log_dir: Path, name: str, calls: int = 0
) -> dict[str, Any]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "OIDC_"))},
        "OIDC_ISSUER": issuer.url,
        "OIDC_AUDIENCES": AUDIENCE,
        "AWS_REGION": REGION,
    }
    arguments = ["--zip", str(AUTHORIZER_PACKAGE), "--events", str(events), "--calls", str(calls)]
    log = log_dir / f"authorizer {name}.log".replace(" ", "_")
    done = run_module(["dev.bench.authorizer_worker", *arguments], env=env, stderr=log)
    if done.returncode != 0:
        raise AuthorizationBenchError(f"authorizer {name}: exit code {done.returncode}; see {log}")
    return json.loads(done.stdout.splitlines()[-1])


def _connect_latencies(
    issuer: OidcIssuer, log_dir: Path, connects: int
) -> tuple[list[float], list[float]]:
    with (
        start_moto(log_dir / "connect-moto.log") as moto,
        _deployed_emulator(moto.url, issuer.url, log_dir) as (emulator, apis),
    ):
        without_url = emulator.websocket_url(apis["none"], STAGE)
        with_url = emulator.websocket_url(apis["jwt"], STAGE)
        tokens = [issuer.mint(sub=f"client-{n}", lifetime=3600) for n in range(connects)]
        for _ in range(WARM_UP_CONNECTS):
            _handshake_ms(without_url)
            _handshake_ms(f"{with_url}?token={tokens[0]}")
        without, with_authorizer = [], []
        for token in tokens:
            without.append(_handshake_ms(without_url))
            with_authorizer.append(_handshake_ms(f"{with_url}?token={token}"))
    return without, with_authorizer


def _handshake_ms(url: str) -> float:
    started = time.perf_counter()
    with connect(url, proxy=None, open_timeout=10):
        opened = time.perf_counter()
    return (opened - started) * 1000


@contextlib.contextmanager
def _deployed_emulator(
    aws_endpoint: str, issuer_url: str, log_dir: Path
) -> Iterator[tuple[EmulatorServer, dict[str, str]]]:
    apis = _deploy(aws_endpoint, issuer_url)
    with start_emulator(
        aws_endpoint,
        log_dir / "connect-emulator.log",
        region=REGION,
        code_dirs=[FUNCTION_PACKAGES_DIR],
    ) as emulator:
        yield emulator, apis


def _deploy(aws_endpoint: str, issuer_url: str) -> dict[str, str]:
    """A connections table, the two functions and two APIs; the API id of each mode."""
    session = boto3.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
    )

    def client(service: str) -> Any:
        return session.client(service, endpoint_url=aws_endpoint)

    client("dynamodb").create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "connectionId", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "connectionId", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    role = client("iam").create_role(RoleName="bench", AssumeRolePolicyDocument="{}")["Role"]
    functions = client("lambda")

    def function(name: str, package: Path, environment: dict[str, str]) -> str:
        return functions.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=role["Arn"],
            Handler="handler.handler",
            Code={"ZipFile": package.read_bytes()},
            Timeout=10,
            Environment={"Variables": environment},
        )["FunctionArn"]

    authorizer_arn = function(
        "bench-authorizer",
        AUTHORIZER_PACKAGE,
        {"OIDC_ISSUER": issuer_url, "OIDC_AUDIENCES": AUDIENCE},
    )
    apis = {}
    for mode in ("none", "jwt"):
        connect_arn = function(
            f"bench-connect-{mode}",
            CONNECT_PACKAGE,
            {"CONNECTIONS_TABLE": TABLE, "AUTHORIZATION_TYPE": mode},
        )
        apis[mode] = _websocket_api(
            client("apigatewayv2"), mode, connect_arn, authorizer_arn if mode == "jwt" else None
        )
    return apis


def _websocket_api(apis: Any, name: str, connect_arn: str, authorizer_arn: str | None) -> str:
    def uri(function_arn: str) -> str:
        path = f"path/2015-03-31/functions/{function_arn}/invocations"
        return f"arn:aws:apigateway:{REGION}:lambda:{path}"

    api_id = apis.create_api(
        Name=f"bench-{name}", ProtocolType="WEBSOCKET", RouteSelectionExpression="$request.body.a"
    )["ApiId"]
    integration = apis.create_integration(
        ApiId=api_id, IntegrationType="AWS_PROXY", IntegrationUri=uri(connect_arn)
    )["IntegrationId"]
    authorization: dict[str, str] = {"AuthorizationType": "NONE"}
    if authorizer_arn is not None:
        authorizer_id = apis.create_authorizer(
            ApiId=api_id,
            AuthorizerType="REQUEST",
            Name="jwt",
            AuthorizerUri=uri(authorizer_arn),
            IdentitySource=[],
        )["AuthorizerId"]
        authorization = {"AuthorizationType": "CUSTOM", "AuthorizerId": authorizer_id}
    apis.create_route(
        ApiId=api_id, RouteKey="$connect", Target=f"integrations/{integration}", **authorization
    )
    apis.create_stage(ApiId=api_id, StageName=STAGE)
    return api_id


def markdown(figures: AuthorizationFigures) -> list[str]:
    """The results.md section."""
    rows = [
        figures.import_ms,
        figures.first_call_ms,
        figures.warm_ms,
        figures.connect_without_ms,
        figures.connect_with_ms,
    ]
    added = figures.connect_with_ms.median - figures.connect_without_ms.median
    return [
        "## `$connect` with a JWT authorizer",
        "",
        "The packaged authorizer against a local OIDC issuer on loopback (RS256, 2048-bit key, "
        "a different token per call). Init and first call: a fresh process per run "
        "(`dev/bench/authorizer_worker.py`). Warm calls: one process, after its first call. "
        "`$connect` handshakes: a real client against the emulator, two WebSocket APIs with "
        "the packaged `connect` behind each, one without authorization and one with the "
        "authorizer, opened alternately (`dev/bench/authorization.py` says why through the "
        "emulator). Lambda's invocation overhead on AWS is not included.",
        "",
        "| measurement | median ms | p90 ms | p99 ms | n |",
        "|---|--:|--:|--:|--:|",
        *(
            f"| {t.label} | {t.median:.2f} | {t.percentile(0.9):.2f} "
            f"| {t.percentile(0.99):.2f} | {len(t.ms):,} |"
            for t in rows
        ),
        "",
        f"The authorizer adds {added:.1f} ms to the median `$connect` handshake here.",
    ]
