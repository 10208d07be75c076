"""`make demo`: the whole system on this machine, as Terraform deployed it.

    python -m dev.emulator.demo [--time-scale 1.0] [--region us-east-1]

Starts a moto server on a free loopback port, applies `examples/local` to it with a fresh state
under `.build/demo/`, starts the local gateway on what was deployed, writes a few sample
incidents and remediation logs into the Incident table and prints the dashboard and channel URLs.
Ctrl-C stops every process it started.

The end-to-end tests start the same stack through `LocalStack`, so demo and tests share one
code path.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import boto3

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_DIR = REPO_ROOT / "examples" / "local"
BUILD_DIR = REPO_ROOT / ".build"
DEFAULT_WORK_DIR = BUILD_DIR / "demo"
TERRAFORM_CLI_CONFIG = BUILD_DIR / "terraformrc"
TERRAFORM_CLI_CONFIG_SCRIPT = REPO_ROOT / "dev" / "tools" / "terraform-cli-config.sh"
# moto's server plus the API Gateway v2 deployments moto 5.2.5 lacks (every stage needs one).
MOTO_SERVER = REPO_ROOT / "dev" / "emulator" / "moto_server.py"

# moto accepts any credentials; these keep boto3, Terraform and the gateway off real AWS.
EMULATOR_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}

STARTUP_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 10.0

Progress = Callable[[str], None]


class StackError(RuntimeError):
    """A piece of the local stack failed to start; the message says which and where its log is."""


# --------------------------------------------------------------------------------------------
# Processes
# --------------------------------------------------------------------------------------------


class ManagedProcess:
    """A child process in its own process group, so stopping it also stops its children."""

    def __init__(self, name: str, args: Sequence[str], **popen_kwargs: Any) -> None:
        self.name = name
        self.popen = subprocess.Popen(args, start_new_session=True, **popen_kwargs)

    def running(self) -> bool:
        return self.popen.poll() is None

    def stop(self, timeout: float = STOP_TIMEOUT_SECONDS) -> int:
        """SIGINT the leader alone, so that it can still use its children while it shuts down
        (the gateway runs `$disconnect` in its Lambda workers), then SIGKILL what is left."""
        if self.running():
            self.popen.send_signal(signal.SIGINT)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout)
        self._signal_group(signal.SIGKILL)
        return self.popen.wait()

    def _signal_group(self, sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.popen.pid, sig)


def _wait_for(
    condition: Callable[[], Any], what: str, process: ManagedProcess, log: Path | None
) -> Any:
    """Poll `condition` until it is truthy; fail with the end of the process's log if it dies."""
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        if not process.running():
            raise StackError(f"{process.name} exited before {what}{_log_tail(log)}")
        time.sleep(0.1)
    raise StackError(f"timed out waiting for {what}{_log_tail(log)}")


def _log_tail(log: Path | None, lines: int = 30) -> str:
    if log is None or not log.exists():
        return " (its output is above)"
    tail = log.read_text(errors="replace").splitlines()[-lines:]
    return f"; end of {log}:\n" + "\n".join(tail)


def start_moto(log_path: Path) -> tuple[ManagedProcess, str]:
    """Start the moto server on a free loopback port; returns the process and its endpoint URL."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb") as log:
        process = ManagedProcess(
            "moto server",
            [sys.executable, str(MOTO_SERVER), "--host", "127.0.0.1", "--port", "0"],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    listening = re.compile(r"Running on (http://127\.0\.0\.1:\d+)")

    def endpoint() -> str | None:
        match = listening.search(log_path.read_text(errors="replace"))
        return match.group(1) if match else None

    try:
        return process, _wait_for(endpoint, "the moto server to listen", process, log_path)
    except BaseException:
        process.stop()
        raise


# --------------------------------------------------------------------------------------------
# Terraform
# --------------------------------------------------------------------------------------------


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
        cache = BUILD_DIR / "plugin-cache"
        cache.mkdir(parents=True, exist_ok=True)
        settings["TF_PLUGIN_CACHE_DIR"] = str(cache)
    return settings


def terraform_environment(aws_endpoint: str, region: str) -> dict[str, str]:
    """The environment for terraform: offline CLI config (written if `make` has not) and moto."""
    env = dict(os.environ)
    env.update(offline_terraform_settings(env))
    env.update(EMULATOR_CREDENTIALS)
    env.update(
        TF_IN_AUTOMATION="1",
        TF_INPUT="0",
        AWS_REGION=region,
        AWS_DEFAULT_REGION=region,
        AWS_ENDPOINT_URL=aws_endpoint,
    )
    return env


class Terraform:
    """`terraform` on `examples/local` with its data dir and a state file of our own."""

    def __init__(self, work_dir: Path, aws_endpoint: str, region: str) -> None:
        self.work_dir = work_dir
        self.state = work_dir / "terraform.tfstate"
        self.log = work_dir / "terraform.log"
        self.variables = ["-var", f"aws_endpoint={aws_endpoint}", "-var", f"region={region}"]
        self.env = terraform_environment(aws_endpoint, region)
        self.env["TF_DATA_DIR"] = str(work_dir / "terraform-data")

    def init(self) -> None:
        self._run("init", "-input=false", "-no-color")

    def apply(self) -> None:
        # A fresh emulator has none of the old resources, so the old state must go too.
        self.state.unlink(missing_ok=True)
        self._run(
            "apply", "-auto-approve", "-input=false", "-no-color", f"-state={self.state}",
            *self.variables,
        )  # fmt: skip

    def outputs(self) -> dict[str, Any]:
        raw = self._run("output", "-json", "-no-color", f"-state={self.state}")
        return {name: output["value"] for name, output in json.loads(raw).items()}

    def _run(self, *args: str) -> str:
        command = ["terraform", f"-chdir={EXAMPLE_DIR}", *args]
        result = subprocess.run(command, env=self.env, capture_output=True, text=True)
        with self.log.open("a") as log:
            log.write(f"$ {' '.join(command)}\n{result.stdout}{result.stderr}\n")
        if result.returncode != 0:
            tail = "\n".join(result.stderr.strip().splitlines()[-20:])
            raise StackError(f"terraform {args[0]} failed (full log: {self.log}):\n{tail}")
        return result.stdout


# --------------------------------------------------------------------------------------------
# Gateway
# --------------------------------------------------------------------------------------------


def start_gateway(
    aws_endpoint: str,
    region: str,
    extra_args: Sequence[str],
    log: IO[bytes] | None,
    log_path: Path | None,
) -> tuple[ManagedProcess, dict[str, Any]]:
    """Start `python -m dev.emulator serve` and return it with its parsed ready line."""
    env = dict(os.environ, **EMULATOR_CREDENTIALS, PYTHONUNBUFFERED="1")
    process = ManagedProcess(
        "local gateway",
        [
            sys.executable, "-m", "dev.emulator", "serve",
            "--aws-endpoint", aws_endpoint, "--region", region,
            "--host", "127.0.0.1", "--port", "0", *extra_args,
        ],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=log,
    )  # fmt: skip
    ready: dict[str, Any] = {}

    def read_stdout() -> None:
        assert process.popen.stdout is not None
        for line in process.popen.stdout:
            with contextlib.suppress(ValueError):
                message = json.loads(line)
                if isinstance(message, dict) and message.get("event") == "ready":
                    ready.update(message)

    threading.Thread(target=read_stdout, name="gateway-stdout", daemon=True).start()
    try:
        _wait_for(lambda: ready, "the gateway's ready line", process, log_path)
    except BaseException:
        process.stop()
        raise
    return process, ready


# --------------------------------------------------------------------------------------------
# The stack
# --------------------------------------------------------------------------------------------


class LocalStack(contextlib.AbstractContextManager["LocalStack"]):
    """moto + `terraform apply` of examples/local + the local gateway, stopped on exit.

    `gateway_log` receives the gateway's stderr (its Lambda logs); by default it goes to
    `<work_dir>/gateway.log`. `gateway_args` are extra `serve` options such as `--time-scale`.
    """

    STEPS = ("starting AWS emulator", "terraform init", "terraform apply", "starting gateway")

    def __init__(
        self,
        work_dir: Path = DEFAULT_WORK_DIR,
        *,
        region: str = "us-east-1",
        gateway_args: Sequence[str] = (),
        gateway_log: IO[bytes] | None = None,
        progress: Progress = lambda step: None,
    ) -> None:
        self.work_dir = work_dir
        self.region = region
        self.gateway_args = list(gateway_args)
        self.gateway_log = gateway_log
        self.progress = progress
        self.aws_endpoint = ""
        self.outputs: dict[str, Any] = {}
        self.gateway: dict[str, Any] = {}
        self._exit_stack = contextlib.ExitStack()
        self._session = boto3.session.Session(
            aws_access_key_id=EMULATOR_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=EMULATOR_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            region_name=region,
        )

    def __enter__(self) -> LocalStack:
        self.work_dir.mkdir(parents=True, exist_ok=True)
        with self._exit_stack as stack:
            self.progress("starting AWS emulator (moto server)")
            moto, self.aws_endpoint = start_moto(self.work_dir / "moto.log")
            stack.callback(moto.stop)

            terraform = Terraform(self.work_dir, self.aws_endpoint, self.region)
            self.progress("terraform init (examples/local)")
            terraform.init()
            self.progress("terraform apply (examples/local → moto)")
            terraform.apply()
            self.outputs = terraform.outputs()

            self.progress("starting local gateway")
            gateway_log, log_path = self.gateway_log, None
            if gateway_log is None:
                log_path = self.work_dir / "gateway.log"
                gateway_log = stack.enter_context(log_path.open("wb"))
            gateway, self.gateway = start_gateway(
                self.aws_endpoint, self.region, self.gateway_args, gateway_log, log_path
            )
            stack.callback(gateway.stop)
            self._exit_stack = stack.pop_all()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._exit_stack.close()  # gateway first (fires $disconnect against moto), then moto

    @property
    def dashboard_url(self) -> str:
        return self.gateway.get("dashboard") or self.gateway["url"] + "/"

    @property
    def channel_urls(self) -> dict[str, str]:
        return dict(self.gateway["channels"])

    def client(self, service: str) -> Any:
        """A boto3 client for the emulator."""
        return self._session.client(service, endpoint_url=self.aws_endpoint)

    def dynamodb(self) -> Any:
        """The boto3 DynamoDB resource for the emulator."""
        return self._session.resource("dynamodb", endpoint_url=self.aws_endpoint)

    def incident_table(self) -> Any:
        """The deployed Incident table as a boto3 `Table`."""
        return self.dynamodb().Table(self.outputs["incident_table_name"])


# --------------------------------------------------------------------------------------------
# Sample data
# --------------------------------------------------------------------------------------------

SAMPLE_ACCOUNTS = ("111122223333", "444455556666")


def sample_items(now: float | None = None) -> Iterator[dict[str, Any]]:
    """Incidents of every severity, then two of them updated by their automatic remediation
    (an item with `action` is a remediation log, SPEC §2.3)."""
    now = int(time.time() if now is None else now)
    incidents = [
        ("CRITICAL", "Security group opens SSH to 0.0.0.0/0", {"sg": "sg-0a1b2c3d4e5f60718"}),
        ("HIGH", "S3 bucket policy allows public read", {"arn": "arn:aws:s3:::payroll-exports"}),
        ("MEDIUM", "IAM access key older than 90 days", {"resource": "AKIAEXAMPLEKEY000001"}),
        ("LOW", "CloudTrail log file validation disabled", {"resource": "trail/management"}),
    ]
    created = []
    for number, (severity, title, resource) in enumerate(incidents, start=1):
        item = {
            "incident_id": f"INC-{number:04d}",
            "severity": severity,
            "status": "OPEN",
            "title": title,
            "account": SAMPLE_ACCOUNTS[number % 2],
            "region": "us-east-1",
            "timestamp": now + number,
            **resource,
        }
        created.append(item)
        yield item
    remediations = [
        (created[0], "revoke_security_group_ingress", "sg-0a1b2c3d4e5f60718", "SUCCEEDED"),
        (created[1], "block_public_access", "arn:aws:s3:::payroll-exports", "IN_PROGRESS"),
    ]
    for number, (item, action, target, status) in enumerate(remediations, start=1):
        yield {
            **item,
            "action": action,
            "target": target,
            "status": status,
            "timestamp": now + 10 + number,
        }


def inject_samples(stack: LocalStack, pause_seconds: float = 0.3) -> int:
    """Write the sample items one by one so the dashboard shows them arriving."""
    table = stack.incident_table()
    count = 0
    for item in sample_items():
        table.put_item(Item=item)
        count += 1
        time.sleep(pause_seconds)
    return count


# --------------------------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------------------------


def _progress_printer(total: int) -> Callable[[str], None]:
    step = 0

    def progress(message: str) -> None:
        nonlocal step
        step += 1
        ellipsis = "…" if step < total else ""
        print(f"[{step}/{total}] {message}{ellipsis}", flush=True)

    return progress


def _wait_for_interrupt() -> None:
    """Until Ctrl-C or SIGTERM (SIGINT set explicitly: a background job inherits it ignored)."""
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    while not stop.wait(timeout=1.0):
        pass


def _print_urls(stack: LocalStack, samples: int) -> None:
    print(f"\nWrote {samples} sample items to table {stack.outputs['incident_table_name']}.")
    print(f"\n  Dashboard   {stack.dashboard_url}")
    for name, url in sorted(stack.channel_urls.items()):
        print(f"  {name:<11} {url}")
    print(f"  AWS (moto)  {stack.aws_endpoint}")
    print("\nLambda logs follow. Press Ctrl-C to stop.\n", flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dev.emulator.demo", description=__doc__)
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--work-dir", type=Path, default=DEFAULT_WORK_DIR)
    parser.add_argument(
        "--time-scale", default="1.0", help="gateway clock speed-up for schedules (default 1.0)"
    )
    args = parser.parse_args(argv)
    if shutil.which("terraform") is None:
        parser.error("terraform is not on PATH (https://developer.hashicorp.com/terraform/install)")

    progress = _progress_printer(total=len(LocalStack.STEPS) + 2)
    stack = LocalStack(
        args.work_dir,
        region=args.region,
        gateway_args=["--time-scale", args.time_scale],
        gateway_log=sys.stderr.buffer,
        progress=progress,
    )
    try:
        with stack:
            progress("injecting sample incidents and remediation logs")
            samples = inject_samples(stack)
            progress("ready")
            _print_urls(stack, samples)
            _wait_for_interrupt()
            print("\nStopping the gateway and the AWS emulator…", flush=True)
    except StackError as error:
        print(f"demo failed: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nInterrupted; everything started has been stopped.", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
