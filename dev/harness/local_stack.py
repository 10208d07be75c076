"""The local stack: moto, then `terraform apply` of examples/local into it, then the emulator.

`make demo` and the end-to-end tests start it the same way:

    with LocalStack(work_dir, static_dir=DASHBOARD_DIR) as stack:
        stack.channel_urls["history"]  # ws://127.0.0.1:<port>/ws/<api-id>/<stage>

Everything it started is stopped on exit (the emulator first, so that `$disconnect` still
reaches moto). State and logs live in `work_dir`, recreated on every run.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any

import boto3

from dev.emulator import EMULATOR_CREDENTIALS
from dev.harness.emulator import EmulatorServer, start_emulator
from dev.harness.moto import start_moto
from dev.harness.paths import BUILD_DIR, FUNCTION_PACKAGES_DIR, LOCAL_EXAMPLE_DIR
from dev.harness.processes import Server
from dev.harness.terraform import Terraform

DEFAULT_WORK_DIR = BUILD_DIR / "demo"

Progress = Callable[[str], None]


class LocalStack(contextlib.AbstractContextManager["LocalStack"]):
    """moto + `terraform apply` of examples/local + the emulator, stopped on exit.

    `static_dir` is served by the emulator at `/` (the demo's dashboard). `emulator_log`
    receives the emulator's stderr (its Lambda logs); by default it goes to
    `<work_dir>/emulator.log`. `emulator_args` are extra `serve` options such as `--time-scale`.
    """

    STEPS = ("starting moto", "terraform init", "terraform apply", "starting the emulator")

    def __init__(
        self,
        work_dir: Path = DEFAULT_WORK_DIR,
        *,
        region: str = "us-east-1",
        static_dir: Path | None = None,
        emulator_args: Sequence[str] = (),
        emulator_log: IO[bytes] | None = None,
        progress: Progress = lambda step: None,
    ) -> None:
        self.work_dir = work_dir
        self.region = region
        self.static_dir = static_dir
        self.emulator_args = list(emulator_args)
        self.emulator_log = emulator_log
        self.progress = progress
        self.outputs: dict[str, Any] = {}
        self.moto: Server | None = None
        self.emulator: EmulatorServer | None = None
        self._exit_stack = contextlib.ExitStack()
        self._session = boto3.session.Session(
            aws_access_key_id=EMULATOR_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=EMULATOR_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            region_name=region,
        )

    def __enter__(self) -> LocalStack:
        self.work_dir.mkdir(parents=True, exist_ok=True)
        with self._exit_stack as stack:
            self.progress(f"{self.STEPS[0]} (the AWS API emulator)")
            self.moto = stack.enter_context(start_moto(self.work_dir / "moto.log"))

            terraform = Terraform(
                LOCAL_EXAMPLE_DIR,
                self.work_dir,
                {"aws_endpoint": self.aws_endpoint, "region": self.region},
                self.aws_endpoint,
                self.region,
            )
            self.progress(f"{self.STEPS[1]} (examples/local)")
            terraform.init()
            self.progress(f"{self.STEPS[2]} (examples/local → moto)")
            terraform.apply()
            self.outputs = terraform.outputs()["incident_ws"]

            self.progress(f"{self.STEPS[3]} (WebSocket APIs, functions, stream, schedule)")
            self.emulator = stack.enter_context(
                start_emulator(
                    self.aws_endpoint,
                    self.work_dir / "emulator.log",
                    region=self.region,
                    code_dirs=[FUNCTION_PACKAGES_DIR],
                    static_dir=self.static_dir,
                    extra_args=self.emulator_args,
                    stderr=self.emulator_log,
                )
            )
            self._exit_stack = stack.pop_all()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._exit_stack.close()

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

    def dynamodb(self) -> Any:
        """The boto3 DynamoDB resource for moto."""
        return self._session.resource("dynamodb", endpoint_url=self.aws_endpoint)

    def incident_table(self) -> Any:
        """The deployed incident table as a boto3 `Table`."""
        return self.dynamodb().Table(self.outputs["incident_table_name"])
