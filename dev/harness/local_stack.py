"""The local stack: moto and a local OIDC issuer, then `terraform apply` of examples/local into
moto, then the emulator.

`make demo` and the end-to-end tests start it the same way:

    with LocalStack(work_dir, static_dir=DASHBOARD_DIR) as stack:
        stack.channel_urls["history"]  # ws://127.0.0.1:<port>/ws/<api-id>/<stage>
        stack.token("tenant")          # a token of a demo persona (dev/harness/personas.py)
        stack.events_client().put_events(Entries=[...])  # to the deployed EventBridge rules

The issuer's URL reaches Terraform as the variable `oidc_issuer`; the audiences and accounts
claim of the deployed authorizers that trust it decide what its tokens hold. The static files
are served from a copy in `work_dir` with an `identity.json` that tells a page where to get
persona tokens (`tokenUrl`) and who the personas are.

Everything it started is stopped on exit (the emulator first, so that `$disconnect` still
reaches moto). State and logs live in `work_dir`, recreated on every run.
"""

from __future__ import annotations

import contextlib
import json
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import boto3

from dev.emulator import EMULATOR_CREDENTIALS
from dev.harness.emulator import EmulatorServer, start_emulator
from dev.harness.moto import start_moto
from dev.harness.oidc_issuer import OidcIssuer
from dev.harness.paths import BUILD_DIR, FUNCTION_PACKAGES_DIR, LOCAL_EXAMPLE_DIR, REPO_ROOT
from dev.harness.personas import ANALYST, PERSONAS, Persona
from dev.harness.processes import Server
from dev.harness.terraform import ApplyProgress, Terraform

DEFAULT_WORK_DIR = BUILD_DIR / "demo"
IDENTITY_FILE = "identity.json"
TOKEN_LIFETIME_SECONDS = 4 * 3600


@dataclass(frozen=True)
class TrustedIssuer:
    """What the deployed authorizers that trust the local issuer accept (their environment)."""

    audiences: tuple[str, ...]
    accounts_claims: tuple[str, ...]

    @classmethod
    def of(cls, environments: list[dict[str, str]]) -> TrustedIssuer:
        audiences = {
            audience.strip()
            for env in environments
            for audience in env.get("OIDC_AUDIENCES", "").split(",")
            if audience.strip()
        }
        claims = {env["ACCOUNTS_CLAIM"] for env in environments if env.get("ACCOUNTS_CLAIM")}
        return cls(tuple(sorted(audiences)), tuple(sorted(claims)))

    @property
    def audience_claim(self) -> str | list[str]:
        return self.audiences[0] if len(self.audiences) == 1 else list(self.audiences)


Progress = Callable[[str], None]
"""Told each step as it starts: what it does, how long it usually takes, where its log is."""


class LocalStack(contextlib.AbstractContextManager["LocalStack"]):
    """moto + `terraform apply` of examples/local + the emulator, stopped on exit.

    `static_dir` is served by the emulator at `/` (the demo's dashboard). `emulator_log`
    receives the emulator's stderr (its Lambda logs); by default it goes to
    `<work_dir>/emulator.log`. `emulator_args` are extra `serve` options such as `--time-scale`.
    `module_dir` is the Terraform root applied (examples/local unless a test gives another).
    `apply_progress` is told of every resource the apply creates (`Terraform.apply`).
    """

    STEPS = (
        "starting moto and the OIDC issuer",
        "terraform init",
        "terraform apply",
        "starting the emulator",
    )
    EXPECTED_SECONDS = (2, 5, 120, 5)
    """How long each step usually takes with examples/local on 2 busy cores."""

    def __init__(
        self,
        work_dir: Path = DEFAULT_WORK_DIR,
        *,
        region: str = "us-east-1",
        static_dir: Path | None = None,
        emulator_args: Sequence[str] = (),
        emulator_log: IO[bytes] | None = None,
        progress: Progress = lambda step: None,
        apply_progress: ApplyProgress = lambda created, planned: None,
        module_dir: Path = LOCAL_EXAMPLE_DIR,
    ) -> None:
        self.work_dir = work_dir
        self.module_dir = module_dir
        self.region = region
        self.static_dir = static_dir
        self.emulator_args = list(emulator_args)
        self.emulator_log = emulator_log
        self.progress = progress
        self.apply_progress = apply_progress
        self.outputs: dict[str, Any] = {}
        self.moto: Server | None = None
        self.emulator: EmulatorServer | None = None
        self.issuer = OidcIssuer(persona_token_lifetime=TOKEN_LIFETIME_SECONDS)
        self.trusted = TrustedIssuer((), ())
        self._exit_stack = contextlib.ExitStack()
        self._session = boto3.session.Session(
            aws_access_key_id=EMULATOR_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=EMULATOR_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            region_name=region,
        )

    def __enter__(self) -> LocalStack:
        self.work_dir.mkdir(parents=True, exist_ok=True)
        with self._exit_stack as stack:
            self._step(0, "the AWS API emulator, the identity provider")
            self.moto = stack.enter_context(start_moto(self.work_dir / "moto.log"))
            stack.enter_context(self.issuer)

            terraform = Terraform(
                self.module_dir,
                self.work_dir,
                {"aws_endpoint": self.aws_endpoint, "region": self.region},
                self.aws_endpoint,
                self.region,
                optional_variables={"oidc_issuer": self.issuer.url},
            )
            module, log = _shown(self.module_dir), _shown(terraform.log)
            self._step(1, f"{module}, log {log}")
            terraform.init()
            self._step(2, f"{module} → moto, log {log}")
            terraform.apply(self.apply_progress)
            self.outputs = terraform.outputs()["incident_ws"]
            self._trust_deployed_authorizers()

            self._step(3, "WebSocket APIs, functions, streams, schedule")
            self.emulator = stack.enter_context(
                start_emulator(
                    self.aws_endpoint,
                    self.emulator_log_path,
                    region=self.region,
                    code_dirs=[FUNCTION_PACKAGES_DIR],
                    static_dir=self._site(),
                    extra_args=self.emulator_args,
                    stderr=self.emulator_log,
                )
            )
            self.issuer.cors_origins.add(self.emulator.url)
            self._exit_stack = stack.pop_all()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._exit_stack.close()

    def _step(self, index: int, detail: str) -> None:
        expected = _duration(self.EXPECTED_SECONDS[index])
        self.progress(f"{self.STEPS[index]} ({detail}; about {expected})")

    @property
    def emulator_log_path(self) -> Path:
        """Where the emulator's output goes: its Lambda logs unless `emulator_log` takes them."""
        return self.work_dir / "emulator.log"

    def _trust_deployed_authorizers(self) -> None:
        """Read what the authorizers that trust the issuer accept; give the personas tokens
        that fit (their accounts under each accounts claim, every accepted audience)."""
        lambda_client = self.client("lambda")
        environments = [
            function.get("Environment", {}).get("Variables", {})
            for page in lambda_client.get_paginator("list_functions").paginate()
            for function in page["Functions"]
        ]
        self.trusted = TrustedIssuer.of(
            [env for env in environments if env.get("OIDC_ISSUER") == self.issuer.url]
        )
        self.issuer.personas = {
            name: self._persona_claims(persona) for name, persona in PERSONAS.items()
        }

    def _persona_claims(self, persona: Persona) -> dict[str, Any]:
        claims = persona.claims(self.trusted.accounts_claims)
        if self.trusted.audiences:
            claims["aud"] = self.trusted.audience_claim
        return claims

    @property
    def uses_issuer(self) -> bool:
        """Whether any deployed authorizer trusts the local issuer."""
        return bool(self.trusted.audiences)

    def token(self, persona: str = ANALYST.name, **claims: Any) -> str:
        """A valid token of a persona for the deployed authorizers; `claims` override."""
        persona_claims = self._persona_claims(PERSONAS[persona])
        return self.issuer.mint(lifetime=TOKEN_LIFETIME_SECONDS, **{**persona_claims, **claims})

    def identity(self) -> dict[str, Any]:
        """What a browser page needs to sign in as a persona (`identity.json`)."""
        scoped = bool(self.trusted.accounts_claims)
        return {
            "issuer": self.issuer.url,
            "tokenUrl": self.issuer.persona_token_url if self.uses_issuer else None,
            "defaultPersona": ANALYST.name,
            "personas": [persona.describe(scoped) for persona in PERSONAS.values()],
        }

    def _site(self) -> Path | None:
        """A copy of `static_dir` with `identity.json`, served by the emulator."""
        if self.static_dir is None:
            return None
        site = self.work_dir / "site"
        shutil.rmtree(site, ignore_errors=True)
        shutil.copytree(self.static_dir, site)
        (site / IDENTITY_FILE).write_text(json.dumps(self.identity(), indent=2) + "\n")
        return site

    @property
    def aws_endpoint(self) -> str:
        assert self.moto is not None, "enter the stack first"
        return self.moto.url

    @property
    def emulator_url(self) -> str:
        assert self.emulator is not None, "enter the stack first"
        return self.emulator.url

    @property
    def dashboard_url(self) -> str:
        """The emulator's `/`: the static files it was given (the demo's dashboard)."""
        return self.emulator_url + "/"

    @property
    def channel_urls(self) -> dict[str, str]:
        """Each channel's local `ws://` URL, by the `api_id` and stage Terraform deployed it to."""
        assert self.emulator is not None, "enter the stack first"
        return {
            name: self.emulator.websocket_url(channel["api_id"], channel["stage_name"])
            for name, channel in self.outputs["channels"].items()
        }

    def client(self, service: str) -> Any:
        """A boto3 client for moto."""
        return self._session.client(service, endpoint_url=self.aws_endpoint)

    def emulator_client(self, service: str) -> Any:
        """A boto3 client for the emulator, which answers `events` (`PutEvents`, delivered to the
        deployed rules) and `lambda` (`Invoke`, run by the deployed functions) itself and passes
        their other calls on to moto."""
        return self._session.client(service, endpoint_url=self.emulator_url)

    def events_client(self) -> Any:
        """Where to publish events as AWS services do: `stack.events_client().put_events(...)`."""
        return self.emulator_client("events")

    def dynamodb(self) -> Any:
        """The boto3 DynamoDB resource for moto."""
        return self._session.resource("dynamodb", endpoint_url=self.aws_endpoint)

    def incident_table(self) -> Any:
        """The deployed incident table as a boto3 `Table`."""
        return self.dynamodb().Table(self.outputs["incident_table_name"])


def _shown(path: Path) -> str:
    return str(path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path)


def _duration(seconds: int) -> str:
    return f"{seconds} s" if seconds < 90 else f"{seconds / 60:g} min"
