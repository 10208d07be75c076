"""`make demo`: the whole system on this machine, as Terraform deployed it.

    python -m dev.demo [--time-scale 1.0] [--region us-east-1] [--work-dir .build/demo] [--no-wait]

Starts moto and a local OIDC issuer on free loopback ports, applies `examples/local` to moto
with a fresh state in the work directory (its channels trust the issuer), starts the emulator on
what was deployed (serving the dashboard) and prints the dashboard and channel URLs and the
demo personas. Once a dashboard is connected (or at once with `--no-wait`), it writes a few
sample incidents and remediation logs into the incident table and publishes a GuardDuty and a
Security Hub finding with `PutEvents` (they become incidents through the deployed rules and
findings function), followed by the remediation log of one of them, written beside its
incident. Ctrl-C stops every process it started.
"""

from __future__ import annotations

import argparse
import shutil
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from boto3.dynamodb.conditions import Attr

from dev.demo import DASHBOARD_CLIENT_ID, DASHBOARD_DIR
from dev.demo.findings import FindingsShown, show_findings
from dev.demo.samples import inject_samples
from dev.harness.local_stack import DEFAULT_WORK_DIR, LocalStack
from dev.harness.processes import StartupError


def _progress_printer(total: int) -> Callable[[str], None]:
    step = 0

    def progress(message: str) -> None:
        nonlocal step
        step += 1
        ellipsis = "…" if step < total else ""
        print(f"[{step}/{total}] {message}{ellipsis}", flush=True)

    return progress


def _stop_on_signal() -> threading.Event:
    """Set on Ctrl-C or SIGTERM (SIGINT set explicitly: a background job inherits it ignored)."""
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    return stop


def _wait_for_interrupt(stop: threading.Event) -> None:
    while not stop.wait(timeout=1.0):
        pass


def _dashboard_connected(stack: LocalStack, stop: threading.Event) -> bool:
    """Until a dashboard has a connection on every channel (messages reach only the clients
    connected when they are sent); False if stopped first."""
    tables = [stack.dynamodb().Table(name) for name in _connections_tables(stack)]
    while not stop.is_set():
        if all(_has_dashboard(table) for table in tables):
            return True
        stop.wait(timeout=0.5)
    return False


def _connections_tables(stack: LocalStack) -> list[str]:
    return [channel["connections_table_name"] for channel in stack.outputs["channels"].values()]


def _has_dashboard(table: Any) -> bool:
    found = table.scan(FilterExpression=Attr("clientId").eq(DASHBOARD_CLIENT_ID), Limit=1000)
    return bool(found["Items"])


def _print_urls(stack: LocalStack) -> None:
    print(f"\n  Dashboard   {stack.dashboard_url}")
    for name, url in sorted(stack.channel_urls.items()):
        print(f"  {name:<11} {url}")
    print(f"  EventBridge {stack.emulator_url} (PutEvents to the deployed rules)")
    print(f"  AWS (moto)  {stack.aws_endpoint}")
    print(f"  OIDC issuer {stack.issuer.url}")
    _print_personas(stack)
    print(
        "\nOpen the dashboard: once it is connected, the demo writes sample incidents and"
        " remediation logs and publishes two findings. Lambda logs follow; Ctrl-C stops.\n",
        flush=True,
    )


def _print_samples(stack: LocalStack, samples: int, findings: FindingsShown) -> None:
    print(f"\nWrote {samples} sample items to table {stack.outputs['incident_table_name']}.")
    _print_findings(stack, findings)
    print(flush=True)


def _print_findings(stack: LocalStack, findings: FindingsShown) -> None:
    print(f"Published {findings.published} findings (GuardDuty, Security Hub) with PutEvents.")
    if findings.incident is None:
        print("The GuardDuty finding did not become an incident in time: see the Lambda logs.")
        return
    assert findings.remediation is not None
    print(
        f"GuardDuty finding → incident {findings.incident['incident_id']}, then its remediation"
        f" log {findings.remediation['entry_id']} beside it."
    )
    print("Publish your own (any AWS SDK or the CLI, with the access key test/test):")
    print(
        f"  aws events put-events --endpoint-url {stack.emulator_url} --region {stack.region}"
        " --entries file://finding-entries.json"
    )


def _print_personas(stack: LocalStack) -> None:
    if not stack.uses_issuer:
        print("\nNo deployed authorizer trusts the local issuer: the channels need no token.")
        return
    print("\nSign in as (switch in the dashboard's header):")
    for persona in stack.identity()["personas"]:
        print(f"  {persona['name']:<11} {persona['principal']}: {persona['description']}")
    token_url = f"{stack.issuer.persona_token_url}?persona=tenant"
    print(f"\nA token for a client of your own: curl '{token_url}'")
    print("then connect to a channel URL with ?token=<token>.")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dev.demo", description=__doc__)
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--work-dir", type=Path, default=DEFAULT_WORK_DIR)
    parser.add_argument(
        "--time-scale", default="1.0", help="emulator clock speed-up for schedules (default 1.0)"
    )
    parser.add_argument(
        "--no-wait",
        action="store_true",
        help="write the samples and publish the findings at once, not when a dashboard connects",
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
        emulator_log=sys.stderr.buffer,
        progress=progress,
    )
    try:
        with stack:
            progress("ready")
            _print_urls(stack)
            stop = _stop_on_signal()
            if args.no_wait or _dashboard_connected(stack, stop):
                samples = inject_samples(stack.incident_table())
                findings = show_findings(stack.events_client(), stack.incident_table())
                _print_samples(stack, samples, findings)
            _wait_for_interrupt(stop)
            print("\nStopping the emulator and moto…", flush=True)
    except StartupError as error:
        print(f"demo failed: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nInterrupted; everything started has been stopped.", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
