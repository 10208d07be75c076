"""`terraform` against the AWS API emulator, with the offline provider settings of `make`."""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from dev.emulator import EMULATOR_CREDENTIALS
from dev.harness.paths import (
    TERRAFORM_CLI_CONFIG,
    TERRAFORM_CLI_CONFIG_SCRIPT,
    TERRAFORM_PLUGIN_CACHE,
)
from dev.harness.processes import StartupError


class TerraformError(StartupError):
    """A terraform command failed; the message ends with its error output and names its log."""


ApplyProgress = Callable[[int, int | None], None]
"""Told `(resources created so far, resources the plan adds or None before the plan is known)`
after each resource an apply creates."""

_PLANNED = re.compile(r"^Plan: (\d+) to add")
_CREATED = "Creation complete after"


def offline_terraform_settings(environ: Mapping[str, str]) -> dict[str, str]:
    """`TF_CLI_CONFIG_FILE` and `TF_PLUGIN_CACHE_DIR` as `make` exports them, for a run that
    did not come through `make`: the CLI config installs providers from a local mirror."""
    settings = {}
    configured = environ.get("TF_CLI_CONFIG_FILE")
    if not configured or not Path(configured).is_file():
        if not TERRAFORM_CLI_CONFIG.exists():
            subprocess.run(
                [str(TERRAFORM_CLI_CONFIG_SCRIPT), str(TERRAFORM_CLI_CONFIG)], check=True
            )
        settings["TF_CLI_CONFIG_FILE"] = str(TERRAFORM_CLI_CONFIG)
    if "TF_PLUGIN_CACHE_DIR" not in environ:
        TERRAFORM_PLUGIN_CACHE.mkdir(parents=True, exist_ok=True)
        settings["TF_PLUGIN_CACHE_DIR"] = str(TERRAFORM_PLUGIN_CACHE)
    return settings


def aws_on_emulator(aws_endpoint: str, region: str) -> dict[str, str]:
    """What points the AWS SDKs (and Terraform's provider) at the emulator with its credentials."""
    return {
        **EMULATOR_CREDENTIALS,
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_ENDPOINT_URL": aws_endpoint,
    }


class Terraform:
    """`terraform` on `module_dir` with a data dir, state file and log of its own in `work_dir`.

    `variables` must be declared by the module (`-var`); `optional_variables` are offered as
    `TF_VAR_<name>`, which a module that does not declare them ignores.
    """

    def __init__(
        self,
        module_dir: Path,
        work_dir: Path,
        variables: Mapping[str, str],
        aws_endpoint: str,
        region: str,
        optional_variables: Mapping[str, str] | None = None,
    ) -> None:
        self.module_dir = module_dir
        self.state = work_dir / "terraform.tfstate"
        self.log = work_dir / "terraform.log"
        self.variables = [f"-var={name}={value}" for name, value in variables.items()]
        self.env = dict(os.environ)
        self.env.update(offline_terraform_settings(self.env))
        self.env.update(aws_on_emulator(aws_endpoint, region))
        self.env.update({f"TF_VAR_{k}": v for k, v in (optional_variables or {}).items()})
        self.env.update(
            TF_IN_AUTOMATION="1", TF_INPUT="0", TF_DATA_DIR=str(work_dir / "terraform-data")
        )

    def init(self) -> None:
        self._run("init", "-input=false", "-no-color")

    def apply(self, progress: ApplyProgress = lambda created, planned: None) -> None:
        # A fresh emulator has none of the old resources, so the old state must go too.
        self.state.unlink(missing_ok=True)
        planned: int | None = None
        created = 0

        def follow(line: str) -> None:
            nonlocal planned, created
            if match := _PLANNED.match(line):
                planned = int(match.group(1))
            elif _CREATED in line:
                created += 1
                progress(created, planned)

        self._run(
            "apply", "-auto-approve", "-input=false", "-no-color", f"-state={self.state}",
            *self.variables, on_line=follow,
        )  # fmt: skip

    def outputs(self) -> dict[str, Any]:
        raw = self._run("output", "-json", "-no-color", f"-state={self.state}")
        return {name: output["value"] for name, output in json.loads(raw).items()}

    def _run(self, *args: str, on_line: Callable[[str], None] = lambda line: None) -> str:
        """Run terraform, its output appended to the log as it comes; returns its stdout."""
        command = ["terraform", f"-chdir={self.module_dir}", *args]
        stdout: list[str] = []
        with self.log.open("a") as log:
            log.write(f"$ {' '.join(command)}\n")
            log.flush()
            with subprocess.Popen(
                command, env=self.env, stdout=subprocess.PIPE, stderr=log, text=True
            ) as process:
                assert process.stdout is not None
                for line in process.stdout:
                    log.write(line)
                    log.flush()
                    stdout.append(line)
                    on_line(line)
            log.write("\n")
        if process.returncode != 0:
            raise TerraformError(
                f"terraform {args[0]} failed (full log: {self.log}):\n{self._error_tail()}"
            )
        return "".join(stdout)

    def _error_tail(self, lines: int = 20) -> str:
        """The end of the log: terraform writes its errors last."""
        return "\n".join(self.log.read_text(errors="replace").strip().splitlines()[-lines:])
