"""`make demo`: the whole system on this machine, as Terraform deployed it.

    python -m dev.demo [--time-scale 1] [--lambda-logs] [--region us-east-1] [--work-dir DIR]

Starts moto and a local OIDC issuer on free loopback ports, applies `examples/local` to moto
with a fresh state in the work directory (its channels trust the issuer), starts the emulator on
what was deployed (serving the dashboard), then writes a few sample incidents and remediation
logs into the incident table and publishes a GuardDuty and a Security Hub finding with
`PutEvents` (they become incidents through the deployed rules and findings function), followed
by the remediation log of one of them, written beside its incident. Every channel keeps a
message log, so a dashboard opened at any time later replays what it missed. It prints the
dashboard and channel URLs, the demo personas and where the logs are, and writes `env.sh` in
the work directory for a shell of your own. Ctrl-C prints the metrics the functions emitted
(as CloudWatch would extract them from their logs), then stops every process it started.
"""

from __future__ import annotations

import argparse
import re
import shlex
import shutil
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from dev.demo import DASHBOARD_DIR
from dev.demo.findings import FindingsShown, show_findings
from dev.demo.metrics_table import metrics_table
from dev.demo.samples import inject_samples
from dev.harness.local_stack import DEFAULT_WORK_DIR, LocalStack
from dev.harness.paths import REPO_ROOT
from dev.harness.processes import StartupError

WRITING_SAMPLES = "writing sample incidents and remediation logs, publishing two findings"
WRITING_SAMPLES_SECONDS = 10
APPLY_PROGRESS_EVERY_SECONDS = 15.0
ENV_FILE = "env.sh"


def _progress_printer(total: int) -> Callable[[str], None]:
    step = 0

    def progress(message: str) -> None:
        nonlocal step
        step += 1
        print(f"[{step}/{total}] {message}…", flush=True)

    return progress


def _apply_progress_printer() -> Callable[[int, int | None], None]:
    """A line every few seconds while terraform creates resources, so a long apply shows it
    is moving."""
    started = time.monotonic()
    shown = started

    def apply_progress(created: int, planned: int | None) -> None:
        nonlocal shown
        now = time.monotonic()
        if now - shown < APPLY_PROGRESS_EVERY_SECONDS and created != planned:
            return
        shown = now
        of = f"/{planned}" if planned else ""
        print(f"      {created}{of} resources created ({now - started:.0f} s)", flush=True)

    return apply_progress


def _stop_on_signal() -> threading.Event:
    """Set on Ctrl-C or SIGTERM (SIGINT set explicitly: a background job inherits it ignored)."""
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    return stop


def _wait_for_interrupt(stop: threading.Event) -> None:
    while not stop.wait(timeout=1.0):
        pass


def _shown(path: Path) -> str:
    return str(path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path)


def _write_env_file(stack: LocalStack) -> Path:
    """`env.sh`: what a shell needs to write incidents, publish findings and connect clients
    to this run's stack (its ports change every run)."""
    variables = {
        "AWS_ENDPOINT_URL": stack.aws_endpoint,
        "AWS_ENDPOINT_URL_EVENTBRIDGE": stack.emulator_url,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_REGION": stack.region,
        "AWS_DEFAULT_REGION": stack.region,
        "INCIDENT_TABLE": stack.outputs["incident_table_name"],
        "DASHBOARD_URL": stack.dashboard_url,
        **{
            f"{re.sub(r'[^A-Za-z0-9]', '_', name).upper()}_URL": url
            for name, url in sorted(stack.channel_urls.items())
        },
    }
    if stack.uses_issuer:
        variables["TOKEN_URL"] = stack.issuer.persona_token_url
    lines = [
        "# The local stack of `make demo`, this run only (its ports change every run).",
        "# AWS_ENDPOINT_URL is moto (DynamoDB, SQS, Lambda…); EventBridge PutEvents goes to the",
        "# emulator, which delivers to the deployed rules. The credentials are never real.",
        *(f"export {name}={shlex.quote(value)}" for name, value in variables.items()),
    ]
    path = stack.work_dir / ENV_FILE
    path.write_text("\n".join(lines) + "\n")
    return path


def _print_samples(stack: LocalStack, samples: int, findings: FindingsShown) -> None:
    print(f"      wrote {samples} sample items to table {stack.outputs['incident_table_name']}")
    print(f"      published {findings.published} findings (GuardDuty, Security Hub) with PutEvents")
    if findings.incident is None:
        print("      the GuardDuty finding did not become an incident in time: see the Lambda logs")
        return
    assert findings.remediation is not None
    print(
        f"      GuardDuty finding → incident {findings.incident['incident_id']}, then its"
        f" remediation log beside it"
    )


def _print_urls(stack: LocalStack) -> None:
    print(f"\n  Dashboard   {stack.dashboard_url}")
    for name, url in sorted(stack.channel_urls.items()):
        print(f"  {name:<11} {url}")
    print(f"  EventBridge {stack.emulator_url} (PutEvents to the deployed rules)")
    assert stack.emulator is not None
    print(f"  Metrics     {stack.emulator.metrics_url} (what the functions emitted so far)")
    print(f"  AWS (moto)  {stack.aws_endpoint}")
    print(f"  OIDC issuer {stack.issuer.url}")


def _print_personas(stack: LocalStack) -> None:
    if not stack.uses_issuer:
        print("\nNo deployed authorizer trusts the local issuer: the channels need no token.")
        return
    print("\nSign in as (switch in the dashboard's header):")
    for persona in stack.identity()["personas"]:
        print(f"  {persona['name']:<11} {persona['principal']}: {persona['description']}")


def _print_try_it(env_file: Path) -> None:
    print(
        f"\nTry it from another shell: source {_shown(env_file)}, then write an incident"
        " (README, “Try it”):"
    )
    print(
        '  aws dynamodb put-item --table-name "$INCIDENT_TABLE" --item \'{"incident_id":'
        ' {"S": "INC-42"}, "entry_id": {"S": "incident"}, "severity": {"S": "HIGH"},'
        ' "title": {"S": "Hello from the CLI"}, "account": {"S": "111122223333"}}\''
    )


def _print_logs(stack: LocalStack, lambda_logs: bool) -> None:
    print(f"\nTerraform log: {_shown(stack.work_dir / 'terraform.log')}")
    if lambda_logs:
        print("Lambda logs follow here.")
    else:
        print(
            f"Lambda logs:   {_shown(stack.emulator_log_path)}"
            " (or here: make demo LAMBDA_LOGS=1, python -m dev.demo --lambda-logs)"
        )
    print("Ctrl-C shows the metrics the functions emitted, then stops everything.\n", flush=True)


def _print_metrics(stack: LocalStack) -> None:
    """The metrics the functions emitted during the run, read from the emulator before it
    stops."""
    assert stack.emulator is not None
    try:
        summary = stack.emulator.metrics()
    except (OSError, ValueError) as error:
        print(f"\nThe metrics are not available: {error}", flush=True)
        return
    table = metrics_table(summary, everything_at=stack.emulator.metrics_url)
    print("\n" + "\n".join(table), flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dev.demo", description=__doc__)
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--work-dir", type=Path, default=DEFAULT_WORK_DIR)
    parser.add_argument(
        "--time-scale",
        default="1",
        help="emulator clock speed-up for schedules: 60 runs the 5-minute heartbeat every"
        " 5 seconds (default 1)",
    )
    parser.add_argument(
        "--lambda-logs",
        action="store_true",
        help="show the functions' logs on this terminal instead of only in the work directory",
    )
    args = parser.parse_args(argv)
    if shutil.which("terraform") is None:
        parser.error("terraform is not on PATH (https://developer.hashicorp.com/terraform/install)")

    progress = _progress_printer(total=len(LocalStack.STEPS) + 1)
    stack = LocalStack(
        args.work_dir,
        region=args.region,
        static_dir=DASHBOARD_DIR,
        emulator_args=["--time-scale", args.time_scale],
        emulator_log=sys.stderr.buffer if args.lambda_logs else None,
        progress=progress,
        apply_progress=_apply_progress_printer(),
    )
    try:
        with stack:
            stop = _stop_on_signal()
            progress(f"{WRITING_SAMPLES} (about {WRITING_SAMPLES_SECONDS} s)")
            samples = inject_samples(stack.incident_table())
            findings = show_findings(stack.events_client(), stack.incident_table())
            _print_samples(stack, samples, findings)
            env_file = _write_env_file(stack)
            _print_urls(stack)
            _print_personas(stack)
            _print_try_it(env_file)
            _print_logs(stack, args.lambda_logs)
            _wait_for_interrupt(stop)
            _print_metrics(stack)
            print("\nStopping the emulator, moto and the OIDC issuer…", flush=True)
    except StartupError as error:
        print(f"demo failed: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nInterrupted while starting.", flush=True)
    print(f"Stopped. Logs and state: {_shown(args.work_dir.resolve())}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
